"""MCDropoutRegressor: Monte Carlo dropout regression with predictive uncertainty."""

import copy
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
import torch
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNetRegressor
from torch import nn

from ._batches import _TensorBatches
from ._mc import _mc_moments, _mc_samples
from ._network import (
    _ACTIVATIONS,
    _AsColumn,
    _build_mlp,
    _check_dropout_layers,
    _dropout_layers,
)
from ._version import __version__

# return_cov and sample_y hold every pass (n_samples x n_passes floats) and
# return_cov an (n_samples x n_samples) matrix; above these sizes they refuse.
MAX_COV_SAMPLES = 10_000
MAX_STORED_PASS_VALUES = 2**27
# Inputs above sqrt(float32 max) overflow the network's squares and products.
MAX_ABS_INPUT = float(np.sqrt(np.finfo(np.float32).max))


class MCDropoutRegressor(RegressorMixin, BaseEstimator):
    """Neural network regressor with Monte Carlo dropout uncertainty.

    A multilayer perceptron (or any torch network with dropout layers) is
    trained with dropout by skorch; at prediction time dropout stays on and
    ``n_passes`` stochastic forward passes give the predictive mean and
    standard deviation. Gal & Ghahramani (2016) show that this is approximate
    Bayesian inference in a deep Gaussian process.

    Every pass uses one dropout mask per layer shared by all rows (a sample of
    the weights), so predictions are a deterministic function of ``X``: a row
    gets the same mean and std whether it is predicted alone or in a batch,
    and ``return_cov=True`` gives the joint covariance across rows.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers,), default=(128, 128)
        Width of each hidden layer of the default network. Each hidden layer
        is followed by ``activation`` and a dropout layer, as in the paper.
        Two layers of 128 units fit tabular data sets of up to a few hundred
        thousand rows in seconds to minutes on a CPU. Ignored if ``module``
        is given.

    dropout : float, default=0.1
        Dropout probability p of every dropout layer of the default network,
        in [0, 1). 0.1 is the rate of the reference study; with ``dropout=0``
        the passes are identical and the uncertainty reduces to ``1 / tau_``.
        Ignored if ``module`` is given.

    activation : {"relu", "tanh", "logistic", "identity", "gelu", "elu"}, \
            default="relu"
        Activation of the hidden layers of the default network.

    n_passes : int, default=100
        Number T of stochastic forward passes in :meth:`predict`. The Monte
        Carlo error of the mean is about ``std / sqrt(T)``; 100 passes put it
        at a tenth of the epistemic std.

    tau : float or "auto", default="auto"
        Model precision of the paper, in units of ``1 / y**2``: the inverse
        variance of the observation noise, added to the predictive variance.
        With "auto", a fraction ``validation_fraction`` of the training data
        is held out during :meth:`fit` and ``tau_`` is set to maximise the
        Gaussian likelihood of the held-out targets under the predictive
        distribution (mean and variance across the passes plus ``1 / tau``).

    weight_decay : float or "auto", default=1e-4
        L2 penalty on the weights (not the biases), as the ``weight_decay`` of
        :class:`torch.optim.Adam`: the loss gets ``weight_decay / 2 * ||W||^2``.
        With "auto", it follows the prior of the paper:
        ``weight_decay_ = 2 * lambda`` with
        ``lambda = length_scale**2 * (1 - dropout) / (2 * N * tau)``, the
        penalty of the authors' code, where N is the number of training rows
        and tau the precision of the standardised target (p is the mean rate
        of the dropout layers for a custom ``module``); "auto" needs a numeric
        ``tau``.

    length_scale : float, default=1e-2
        Prior length-scale l of the weights, used when
        ``weight_decay="auto"``. 1e-2 is the value of the authors' code.

    lr : float, default=1e-3
        Learning rate of the Adam optimiser.

    max_epochs : int, default=100
        Number of passes over the training data.

    batch_size : int, default=64
        Mini-batch size; 64 is the reference study's.

    validation_fraction : float, default=0.1
        Fraction of the training rows held out to estimate ``tau_`` when
        ``tau="auto"`` (at least one row). Unused otherwise.

    device : str or torch.device, default="cpu"
        Device of training and prediction, e.g. "cpu" or "cuda".

    pass_dtype : {"float32", "bfloat16"}, default="float32"
        Precision of the prediction passes. "float32" is exact: the fast paths
        give the mean and std of a plain implementation with the same masks
        to float32 rounding. "bfloat16" runs the passes on a bfloat16 copy of
        the network, several times faster on hardware with bfloat16 matrix
        units (NVIDIA GPUs from Ampere on, CPUs with AVX512-BF16 or AMX): the
        mean stays within 2% of the largest absolute float32 mean and the
        std within 2% of float32 per row (the user guide's Performance
        section). On a device without such units it is slower than float32,
        so predictions fall back to float32 with a warning. Training is
        always float32, and ``tau_`` is estimated from float32 passes.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, training dropout, batch order, the
        held-out split and the prediction masks. The T masks are drawn from a
        private generator seeded at fit, so a fitted estimator always returns
        the same predictions, and the global torch and NumPy random states are
        left as they were. Pass an int for reproducible fits.

    verbose : int, default=0
        If positive, skorch prints the training loss after each epoch.

    module : torch.nn.Module instance or class, default=None
        A custom network mapping (n, ``n_features_in_``) float32 tensors to (n, 1)
        or (n,); it must contain at least one :class:`torch.nn.Dropout` layer.
        A class is instantiated without arguments. It is deep-copied at fit;
        the given object is never trained. If None, an MLP is built from
        ``hidden_layer_sizes``, ``activation`` and ``dropout``.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The fitted skorch net; its ``module_`` is the trained network and its
        ``history`` the training history.

    tau_ : float
        The model precision used for predictions, in units of ``1 / y**2``.

    weight_decay_ : float
        The weight decay used in training.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.gaussian_process.GaussianProcessRegressor : Exact Gaussian process
        regression, with the same ``predict`` contract.
    sklearn.linear_model.BayesianRidge : Bayesian linear regression with a
        predictive std including the noise precision.

    Notes
    -----
    The predictive mean and variance of a test point x are (Gal & Ghahramani
    2016, Section 3.2)

    .. math::

        E[y] \\approx \\frac{1}{T} \\sum_t \\hat y_t(x), \\qquad
        Var[y] \\approx \\tau^{-1} + \\frac{1}{T} \\sum_t \\hat y_t(x)^2 - E[y]^2,

    with :math:`\\hat y_t` the output of pass t. The target is standardised
    inside the estimator (as ``normalize_y`` of GaussianProcessRegressor) and
    means and stds are returned in the units of ``y``.

    References
    ----------
    .. [1] Y. Gal and Z. Ghahramani, "Dropout as a Bayesian Approximation:
       Representing Model Uncertainty in Deep Learning", ICML 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_mcdropout import MCDropoutRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(200, 1))
    >>> y = np.sin(X[:, 0]) + rng.normal(scale=0.1, size=200)
    >>> model = make_pipeline(
    ...     StandardScaler(),
    ...     MCDropoutRegressor(hidden_layer_sizes=(32,), max_epochs=20,
    ...                        random_state=0),
    ... ).fit(X, y)
    >>> y_mean, y_std = model.predict(X[:5], return_std=True)
    >>> y_mean.shape, y_std.shape
    ((5,), (5,))
    >>> bool(np.all(y_std > 0))
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "n_passes": [Interval(Integral, 1, None, closed="left")],
        "tau": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "weight_decay": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "length_scale": [Interval(Real, 0, None, closed="neither")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "device": [str, torch.device],
        "pass_dtype": [StrOptions({"float32", "bfloat16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "module": [None, nn.Module, type],
    }

    def __init__(
        self,
        hidden_layer_sizes=(128, 128),
        *,
        dropout=0.1,
        activation="relu",
        n_passes=100,
        tau="auto",
        weight_decay=1e-4,
        length_scale=1e-2,
        lr=1e-3,
        max_epochs=100,
        batch_size=64,
        validation_fraction=0.1,
        device="cpu",
        pass_dtype="float32",
        random_state=None,
        verbose=0,
        module=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.activation = activation
        self.n_passes = n_passes
        self.tau = tau
        self.weight_decay = weight_decay
        self.length_scale = length_scale
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.device = device
        self.pass_dtype = pass_dtype
        self.random_state = random_state
        self.verbose = verbose
        self.module = module

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network with dropout, and ``tau_`` if ``tau="auto"``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Target values.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        _check_columns(X)
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True)
        if y.dtype.kind not in "biuf":
            raise ValueError(f"y must be numeric for regression, got dtype {y.dtype}.")
        X = _as_float32(X, "X")
        if X.shape[0] < 2:
            raise ValueError(
                f"MCDropoutRegressor needs at least 2 samples to fit, got "
                f"n_samples={X.shape[0]}."
            )
        device = _check_device(self.device)
        if self.weight_decay == "auto" and self.tau == "auto":
            raise ValueError(
                "weight_decay='auto' derives the weight decay from the model "
                "precision and needs a numeric tau, got tau='auto'."
            )
        self._y_train_mean = float(np.mean(y))
        self._y_train_std = _scale(y)
        y_scaled = ((y - self._y_train_mean) / self._y_train_std).astype(np.float32)
        self._train(X, y_scaled.reshape(-1, 1), device)
        self._warn_if_no_epistemic_part()
        return self

    def _train(self, X, y_scaled, device):
        """Train on (X, y_scaled), holding rows out for tau_ if tau="auto"."""
        rng = check_random_state(self.random_state)
        mask_seed, torch_seed, batch_seed = rng.randint(np.iinfo(np.int32).max, size=3)
        train, held_out = _split(X.shape[0], self.tau, self.validation_fraction, rng)
        self._mask_seed = int(mask_seed)
        Xt = torch.as_tensor(X, device=device)
        yt = torch.as_tensor(y_scaled, device=device)
        # Initialisation and training dropout draw from torch's global RNG;
        # fork_rng restores the caller's state when training ends.
        with torch.random.fork_rng(devices=_cuda_indices(device)):
            torch.manual_seed(int(torch_seed))
            module = self._build_module(X.shape[1], device)
            self.weight_decay_ = self._resolve_weight_decay(module, len(yt[train]))
            self.net_ = self._build_net(module, device, int(batch_seed))
            self.net_.fit(Xt[train], yt[train])
        if self.tau == "auto":
            tau_scaled = self._estimate_tau(Xt[held_out], y_scaled[held_out, 0])
            self.tau_ = tau_scaled / self._y_train_std**2
        else:
            self.tau_ = float(self.tau)

    def predict(self, X, return_std=False, return_cov=False):
        """Predict using the Monte Carlo dropout network.

        The mean and the spread over ``n_passes`` stochastic passes, each with
        one dropout mask per layer shared by all rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query points.

        return_std : bool, default=False
            If True, the standard deviation of the predictive distribution at
            the query points is returned along with the mean.

        return_cov : bool, default=False
            If True, the covariance of the joint predictive distribution at
            the query points is returned along with the mean. Needs
            ``n_samples * n_passes`` values in memory and refuses
            ``n_samples > MAX_COV_SAMPLES`` (10,000).

        Returns
        -------
        y_mean : ndarray of shape (n_samples,)
            Mean of predictive distribution at query points.

        y_std : ndarray of shape (n_samples,), optional
            Standard deviation of predictive distribution at query points:
            ``sqrt(variance across the passes + 1 / tau_)``.
            Only returned when `return_std` is True.

        y_cov : ndarray of shape (n_samples, n_samples), optional
            Covariance of joint predictive distribution at query points: the
            covariance across the passes plus ``I / tau_``.
            Only returned when `return_cov` is True.
        """
        if return_std and return_cov:
            raise RuntimeError(
                "At most one of return_std or return_cov can be requested."
            )
        Xt = self._validate_X_predict(X)
        if return_cov:
            _check_stored_size(Xt.shape[0], self.n_passes, cov=True)
            passes = self._unscale(self._passes(Xt, self.n_passes, self._mask_seed))
            y_cov = np.cov(passes, ddof=0).reshape(Xt.shape[0], Xt.shape[0])
            y_cov[np.diag_indices_from(y_cov)] += 1 / self.tau_
            return passes.mean(axis=1), y_cov
        mean, var = _mc_moments(
            self.net_.module_, Xt, self.n_passes, self._mask_seed, dtype=self._dtype()
        )
        y_mean = self._unscale(mean)
        if not return_std:
            return y_mean
        return y_mean, np.sqrt(var * self._y_train_std**2 + 1 / self.tau_)

    def predict_passes(self, X):
        """Outputs of the ``n_passes`` stochastic passes used by :meth:`predict`.

        Their mean over the passes is ``predict(X)``; they carry no
        observation noise (see :meth:`sample_y` for draws of y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query points.

        Returns
        -------
        y_passes : ndarray of shape (n_samples, n_passes)
            Output of each pass, in the units of ``y``.
        """
        Xt = self._validate_X_predict(X)
        _check_stored_size(Xt.shape[0], self.n_passes)
        return self._unscale(self._passes(Xt, self.n_passes, self._mask_seed))

    def sample_y(self, X, n_samples=1, random_state=0):
        """Draw samples from the predictive distribution and evaluate at X.

        Each sample is one stochastic pass with fresh dropout masks, shared by
        all rows so that a sample is a whole function, plus Gaussian
        observation noise of variance ``1 / tau_``.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
            Query points where the predictive distribution is evaluated.

        n_samples : int, default=1
            Number of samples drawn from the predictive distribution.

        random_state : int, RandomState instance or None, default=0
            Determines random number generation to draw masks and noise.
            Pass an int for reproducible results across multiple function
            calls.

        Returns
        -------
        y_samples : ndarray of shape (n_samples_X, n_samples)
            Values of n_samples samples drawn from the predictive distribution
            and evaluated at query points.
        """
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"n_samples must be a positive integer, got {n_samples!r}."
            )
        Xt = self._validate_X_predict(X)
        _check_stored_size(Xt.shape[0], n_samples)
        rng = check_random_state(random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        functions = self._unscale(self._passes(Xt, n_samples, seed))
        return functions + rng.normal(
            scale=np.sqrt(1 / self.tau_), size=functions.shape
        )

    def __getstate__(self):
        state = super().__getstate__()
        state["_sklearn_mcdropout_version"] = __version__
        return state

    def __setstate__(self, state):
        version = state.pop("_sklearn_mcdropout_version", None)
        if version is not None and version != __version__:
            warnings.warn(
                f"Trying to unpickle MCDropoutRegressor from sklearn-mcdropout "
                f"{version} when using version {__version__}. This might lead "
                "to breaking code or invalid results. Use at your own risk.",
                UserWarning,
                stacklevel=2,
            )
        super().__setstate__(state)

    def _validate_X_predict(self, X):
        check_is_fitted(self)
        _check_columns(X)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        device = next(self.net_.module_.parameters()).device
        return torch.as_tensor(_as_float32(X, "X"), device=device)

    def _passes(self, Xt, n_passes, seed):
        return _mc_samples(self.net_.module_, Xt, n_passes, seed, dtype=self._dtype())

    def _dtype(self):
        """The torch dtype of the prediction passes on the fitted device."""
        if self.pass_dtype == "float32":
            return torch.float32
        device = next(self.net_.module_.parameters()).device
        if _has_fast_bfloat16(device):
            return torch.bfloat16
        warnings.warn(
            f"pass_dtype='bfloat16' is not fast on device {str(device)!r} (no "
            "bfloat16 matrix units); predicting in float32.",
            UserWarning,
            stacklevel=3,
        )
        return torch.float32

    def _unscale(self, y_scaled):
        return y_scaled * self._y_train_std + self._y_train_mean

    def _build_module(self, n_features, device):
        if self.module is None:
            sizes = np.atleast_1d(self.hidden_layer_sizes)
            if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes < 1):
                raise ValueError(
                    "hidden_layer_sizes must be a non-empty sequence of positive "
                    f"integers, got {self.hidden_layer_sizes!r}."
                )
            sizes = [int(s) for s in sizes]
            module = _build_mlp(n_features, sizes, self.activation, self.dropout)
        elif isinstance(self.module, nn.Module):
            module = copy.deepcopy(self.module)
        else:
            module = self.module()
        _check_dropout_layers(module)
        module = module.to(device)
        with torch.no_grad():
            out = module.eval()(torch.zeros(2, n_features, device=device))
        if out.shape not in ((2, 1), (2,)):
            raise ValueError(
                "module must map (n, n_features) to an output of shape (n, 1) or "
                f"(n,), got {tuple(out.shape)} for n=2."
            )
        return module if out.ndim == 2 else _AsColumn(module)

    def _resolve_weight_decay(self, module, n_train):
        if self.weight_decay != "auto":
            return float(self.weight_decay)
        # lambda = l^2 (1 - p) / (2 N tau) of the authors' code, with tau in
        # the units of the standardised target; torch's decay is 2 * lambda.
        dropout = np.mean([layer.p for layer in _dropout_layers(module)])
        tau_scaled = self.tau * self._y_train_std**2
        return self.length_scale**2 * (1 - dropout) / (n_train * tau_scaled)

    def _build_net(self, module, device, seed):
        # PrintLog tabulates every epoch even when silent; valid_loss has no
        # validation data here. Both cost more than a small network's epoch.
        quiet = {"callbacks__valid_loss": None}
        if not self.verbose:
            quiet["callbacks__print_log"] = None
        return NeuralNetRegressor(
            module,
            criterion=nn.MSELoss,
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay_,
            optimizer__fused=device.type in ("cpu", "cuda"),
            optimizer__param_groups=[("*bias", {"weight_decay": 0.0})],
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=_TensorBatches,
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            iterator_valid=_TensorBatches,
            train_split=None,
            device=device,
            verbose=self.verbose,
            **quiet,
        )

    def _estimate_tau(self, X_held_out, y_held_out):
        """Precision maximising the held-out Gaussian likelihood (scaled y)."""
        mean, var = _mc_moments(
            self.net_.module_, X_held_out, self.n_passes, self._mask_seed
        )
        sq_residuals = (y_held_out - mean) ** 2

        def nll(log_noise_var):
            total = var + np.exp(log_noise_var)
            return np.mean(np.log(total) + sq_residuals / total)

        # The noise variance of a standardised target lies in (1e-6, 1e2).
        best = minimize_scalar(
            nll, bounds=(np.log(1e-6), np.log(1e2)), method="bounded"
        )
        return float(np.exp(-best.x))

    def _warn_if_no_epistemic_part(self):
        rates = [layer.p for layer in _dropout_layers(self.net_.module_)]
        if self.n_passes == 1 or all(p == 0 for p in rates):
            warnings.warn(
                "With n_passes=1 or all dropout rates 0 the passes do not vary: "
                "the epistemic part of the predictive std is zero and y_std is "
                "sqrt(1 / tau_).",
                UserWarning,
                stacklevel=3,
            )


def _as_float32(X, name):
    """Float32 copy of ``X`` (never a view: the caller's array stays untouched).

    Refuses values whose square overflows float32, the network's precision.
    """
    X32 = np.array(X, dtype=np.float32, order="C", copy=True)
    largest = float(np.max(np.abs(X), initial=0.0))
    if not np.isfinite(X32).all() or largest > MAX_ABS_INPUT:
        raise ValueError(
            f"{name} has values up to {largest:.3g}; the network computes in "
            f"float32, where values above {MAX_ABS_INPUT:.3g} overflow. Scale "
            "the features first, e.g. with StandardScaler in a Pipeline."
        )
    return X32


def _check_columns(X):
    """Refuse DataFrame columns holding categories or strings, by name."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(dtypes, "items"):
        return
    bad = [
        f"{name!r} ({dtype})"
        for name, dtype in dtypes.items()
        if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)
    ]
    if bad:
        raise ValueError(
            f"X has non-numeric columns {', '.join(bad)}; encode them first, "
            "e.g. with OneHotEncoder in a ColumnTransformer."
        )


def _scale(y):
    std = float(np.std(y))
    return std if std > 0 else 1.0


def _split(n_samples, tau, validation_fraction, rng):
    """Training and held-out rows; all rows train unless tau='auto'."""
    if tau != "auto":
        return slice(None), None
    n_held_out = min(max(1, round(validation_fraction * n_samples)), n_samples - 1)
    perm = rng.permutation(n_samples)
    return np.sort(perm[n_held_out:]), np.sort(perm[:n_held_out])


def _check_device(device):
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device: {exc}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={str(device)!r} but CUDA is not available on this machine; "
            "use device='cpu'."
        )
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device={str(device)!r} is not supported; use 'cpu', 'cuda' or 'mps'."
        )
    return device


def _has_fast_bfloat16(device):
    """Whether ``device`` multiplies bfloat16 matrices natively."""
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device)[0] >= 8
    if device.type == "cpu":
        capabilities = getattr(torch.cpu, "get_capabilities", dict)()
        return bool(capabilities.get("avx512_bf16") or capabilities.get("amx_bf16"))
    return False


def _cuda_indices(device):
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def _check_stored_size(n_rows, n_columns, cov=False):
    if cov and n_rows > MAX_COV_SAMPLES:
        raise ValueError(
            f"return_cov=True builds an (n_samples, n_samples) matrix; "
            f"n_samples={n_rows} exceeds MAX_COV_SAMPLES={MAX_COV_SAMPLES}. "
            "Use return_std=True, or predict fewer rows at once."
        )
    if n_rows * n_columns > MAX_STORED_PASS_VALUES:
        raise ValueError(
            f"Storing {n_columns} passes for {n_rows} rows needs "
            f"{n_rows * n_columns} values, above MAX_STORED_PASS_VALUES="
            f"{MAX_STORED_PASS_VALUES}. Use fewer rows or passes per call."
        )
