"""MCDropoutRegressor: Monte Carlo dropout regression with predictive uncertainty."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import (
    MAX_ABS_INPUT,
    MAX_STORED_PASS_VALUES,
    _check_stored_size,
    _MCDropoutBase,
)
from ._mc import _mc_log_likelihoods, _mc_moments, _mc_samples
from ._network import _concrete_layers
from ._noise import (
    _NOISE_MODELS,
    _PRECISIONS,
    _SCALE_PRECISIONS,
    _best_precisions,
    _noise_model,
    _on_target_scale,
    _prior_weight_decay,
)
from ._training import _RegressorNet
from .metrics._mixture import _central_levels, _chunks, _quantiles
from .metrics._validation import _check_confidence, _check_confidences

#: Most rows of ``predict(X, return_cov=True)``, which builds an
#: (n_samples, n_samples) matrix; above it it refuses.
MAX_COV_SAMPLES = 10_000
_NO_VARIANCE = 1e-8
__all__ = [
    "MAX_ABS_INPUT",
    "MAX_COV_SAMPLES",
    "MAX_STORED_PASS_VALUES",
    "MCDropoutRegressor",
]


class MCDropoutRegressor(RegressorMixin, _MCDropoutBase):
    """Neural network regressor with Monte Carlo dropout uncertainty.

    A multilayer perceptron (or any torch network with dropout layers) is
    trained with dropout by skorch; at prediction time dropout stays on and
    ``n_passes`` stochastic forward passes give the predictive mean and
    standard deviation, approximate Bayesian inference in a deep Gaussian
    process (Gal & Ghahramani 2016). Each pass uses one dropout mask per
    layer for all rows, so predictions are a deterministic function of ``X``
    and ``return_cov=True`` gives the joint covariance across rows.

    With its defaults, :meth:`fit` chooses what the paper's protocol
    chooses, on held-out rows: the dropout rate, the noise model, the noise
    level and the number of epochs (:ref:`auto`); fix any of them by giving
    its value. Then tune ``hidden_layer_sizes`` and ``lr``.
    ``y`` may have several targets (GaussianProcessRegressor's output
    shapes); ``sample_weight``, ``early_stopping``, ``warm_start`` and
    :meth:`partial_fit` work as in :class:`~sklearn.neural_network.MLPRegressor`.

    Put a scaler first, as in the examples. A
    :class:`~sklearn.pipeline.Pipeline` passes ``return_std`` and
    ``return_cov`` on to :meth:`predict`, but has no :meth:`sample_y`,
    :meth:`predict_uncertainty`, :meth:`predict_interval`,
    :meth:`predict_quantiles`, :meth:`predict_passes` or
    :meth:`partial_fit` (AttributeError): call them on the last step with
    the transformed features, ``model[-1].sample_y(model[:-1].transform(X))``.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers,), default=(128, 128)
        Width of each hidden layer of the default network, each followed by
        ``activation`` and a dropout layer. Ignored if ``module`` is given.

    dropout : float, "auto" or "concrete", default="auto"
        Dropout probability of the default network's dropout layers, in
        [0, 1); 0 makes a network's passes identical. "auto" chooses it
        among 0.005, 0.01, 0.05 and 0.1 by the held-out likelihood
        (:ref:`auto`); ``"concrete"`` learns each layer's rate with the
        weights (:ref:`concrete`). The rates are in ``dropout_``. Ignored if
        ``module`` is given.

    activation : {"relu", "tanh", "logistic", "identity", "gelu", "elu"}, \
            default="relu"
        Activation of the hidden layers of the default network.

    n_passes : int, default=100
        Number T of stochastic forward passes in :meth:`predict`; with
        ``n_members > 1``, T passes of each member.

    n_members : int or "auto", default="auto"
        Number M of MC dropout networks in an ensemble (Lakshminarayanan et
        al. 2017), each with its own initial weights and batch order, trained
        at once as one batched network; predictions pool their M x T passes.
        A custom ``module`` must then be a chain. See :ref:`ensembles`.
        "auto" is 5 where ``max_epochs="auto"`` trains on at most 20,000
        rows (about 24,700 given to fit): pooled, five networks' passes
        average out how much one varies with its initial weights, at 1.1
        to 1.5 times one network's fit; 1 otherwise, with a custom
        ``module`` or learned rates (:ref:`auto`); the number is in
        ``n_members_``.

    noise : {"auto", "homoscedastic", "heteroscedastic"}, default="auto"
        ``"homoscedastic"``: one noise precision ``tau_`` for all inputs, as
        in the paper. ``"heteroscedastic"``: a second output per target, the
        noise variance of each input, trained by the Gaussian likelihood
        (:ref:`heteroscedastic`); ``tau`` must then be "auto". "auto"
        chooses the one with the better held-out likelihood (the
        homoscedastic model with a numeric ``tau``, a custom ``module`` or
        ``dropout="concrete"``); the choice is in ``noise_``.

    nll_beta : float, default=0.0
        With ``noise="heteroscedastic"``, the beta in [0, 1] of the beta-NLL
        loss (Seitzer et al. 2022), which weights each row's NLL by its
        predicted noise variance to the power beta; 0 is the plain Gaussian
        NLL. A training loss only: held-out rows are scored by the plain
        NLL. Unused with ``noise="homoscedastic"``.

    tau : float or "auto", default="auto"
        Model precision, the inverse variance of the observation noise in
        units of ``1 / y**2``, added to the predictive variance; a number
        applies to every target. "auto" sets ``tau_``, one per target, to
        maximise the likelihood of the ``validation_fraction`` rows held out
        in :meth:`fit` under the predictive mixture of the passes (the
        paper's eq. (8), what :meth:`sample_y` draws from; :ref:`noise`);
        where fit chooses, of fresh rows that trained nothing and picked no
        epoch (:ref:`auto`).

    weight_decay : float or "auto", default="auto"
        L2 penalty on the weights (not the biases): the loss gets
        ``weight_decay / 2 * ||W||^2``. "auto" derives it from the paper's
        prior, ``length_scale**2 * (1 - p) / (N tau)`` (:ref:`choosing`),
        with the numeric ``tau``, the one fit chose, or else 1 in the units
        of the standardised target; ``ConcreteDropout`` layers hold the
        prior in their objective ("auto" adds nothing).

    length_scale : float, default=1e-2
        Prior length-scale of the weights, used when ``weight_decay="auto"``
        and in the Concrete dropout objective.

    lr : float or "auto", default="auto"
        Learning rate of the Adam optimiser. "auto" is 1e-2 where
        ``max_epochs="auto"`` trains on at most 1,500 rows (with the cosine
        schedule), 1e-3 otherwise (:ref:`auto`).

    lr_schedule : {"auto", "constant", "cosine"}, default="auto"
        ``"constant"`` keeps ``lr``; ``"cosine"`` anneals it towards 0,
        lr (1 + cos(pi e / max_epochs)) / 2 at epoch e (from 0). Each
        epoch's rate is in ``net_.history[:, "lr"]``. "auto" is
        ``"cosine"`` where ``max_epochs="auto"`` trains on at most 1,500
        rows, ``"constant"`` otherwise.

    max_epochs : int or "auto", default="auto"
        Number of passes over the training data. "auto" trains each
        candidate on the held-out split for up to about 20,000 optimiser
        steps (20 to 2,000 epochs: small data get more), stopping once its
        held-out loss has not improved for a tenth of that, and trains the
        chosen model for its best number of epochs, in ``n_iter_``. On at
        most 1,500 training rows (about 1,850 rows given to fit) the
        candidates train all of a cosine schedule of about 800 steps, and
        the chosen model a cosine of about 2,500, its candidate's best epoch
        scaled by how far that candidate's cosine had annealed
        (:ref:`auto`).

    batch_size : int, default=64
        Mini-batch size.

    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (instances or ``(name, callback)`` pairs),
        used as given (:func:`~sklearn.base.clone` copies them); after
        :meth:`fit` they are in ``net_.callbacks_``. Scoring callbacks see
        ``"train_loss"``, and with ``early_stopping=True`` ``"valid_loss"``,
        the loss on the held-out rows.

    validation_fraction : float, default=0.1
        Fraction of the training rows held out (at least one) for what
        :meth:`fit` chooses ("auto"), ``tau="auto"`` and ``early_stopping``,
        the same rows for all; where fit chooses, the same fraction is set
        apart again, as fresh rows for the noise level, on which the
        candidates are scored too (:ref:`auto`).

    early_stopping : bool, default=False
        Whether to stop, as MLPRegressor does, once the held-out loss
        (dropout off) has not fallen below its best minus ``tol`` for more
        than ``n_iter_no_change`` consecutive epochs, keeping the best
        epoch's weights. When :meth:`fit` chooses on held-out rows, it
        stops each candidate so and trains the chosen one for its best
        number of epochs. Not available in :meth:`partial_fit`.

    n_iter_no_change : int, default=10
        Maximum number of epochs without an improvement of ``tol``, with
        ``early_stopping=True``.

    tol : float, default=1e-4
        The improvement of the held-out loss that counts, in the units of the
        training loss (squared error of the standardised target, or NLL).

    warm_start : bool, default=False
        If True and fitted, :meth:`fit` trains the fitted network for
        ``max_epochs`` more epochs, keeping the target's standardisation;
        parameters that would build another network (layers, widths,
        activation, dropout rates, noise model, number of targets or members)
        are refused. If False, :meth:`fit` starts from a new network.

    device : str or torch.device, default="cpu"
        Device of training and prediction, e.g. "cpu" or "cuda".

    pass_dtype : {"float32", "bfloat16"}, default="float32"
        Precision of the prediction passes. "bfloat16" is faster and
        approximate where the hardware multiplies bfloat16 natively, and
        falls back to float32 with a warning elsewhere. Training and
        ``tau_`` use float32. See :ref:`performance`.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, training dropout, batch order, the
        held-out split and the prediction masks. Torch's global random state
        is left as it was, and so is NumPy's unless None (which draws the
        seeds from it). Pass an int for reproducible fits.

    verbose : int, default=0
        If positive, skorch prints the training loss after each epoch.

    module : torch.nn.Module instance or class, or list, default=None
        A custom network (a class is instantiated without arguments, an
        instance deep-copied) mapping (n, ``n_features_in_``) float32 tensors
        to (n, 1), (n,) or (n, n_targets), with at least one
        :class:`torch.nn.Dropout` layer; with ``noise="heteroscedastic"``,
        columns 2j and 2j + 1 are target j's mean and raw variance. None
        builds the default MLP. With ``n_members > 1``, a
        :class:`torch.nn.Sequential` of Linear, elementwise activation and
        Dropout layers (others raise a ValueError), or a list of the members'
        networks.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The fitted skorch net, with the trained network ``module_`` and the
        training ``history``.

    tau_ : float or ndarray of shape (n_targets,)
        The model precision used for predictions, in units of ``1 / y**2``:
        a float for a 1-D ``y``, one value per target otherwise. Only with
        ``noise="homoscedastic"``.

    noise_scale_ : float or ndarray of shape (n_targets,)
        The factor multiplying the noise variance the network predicts (per
        target): where ``fit`` chose on held-out rows, the one maximising
        the mixture likelihood of fresh rows that trained nothing and
        picked no epoch (:ref:`auto`), else 1. Only with ``noise="heteroscedastic"``.

    weight_decay_ : float
        The weight decay used in training.

    n_outputs_ : int
        Number of targets: 1 for a 1-D ``y``.

    n_iter_ : int
        Number of epochs trained, over all calls of a warm start or of
        :meth:`partial_fit`.

    loss_curve_ : list of float
        The mean training loss of each epoch (weighted by ``sample_weight``;
        the sum of the members' losses with ``n_members > 1``).

    best_loss_ : float or None
        The lowest of ``loss_curve_``; None with ``early_stopping=True``.

    validation_scores_ : list of float or None
        With ``early_stopping=True``, minus the held-out loss of each epoch
        (the members' mean loss with ``n_members > 1``); else None.

    best_validation_score_ : float or None
        The best of ``validation_scores_`` in the last fit, that of the
        weights kept; None without early stopping.

    dropout_ : ndarray of shape (n_dropout_layers,) or \
            (n_members, n_dropout_layers)
        The rate of each dropout layer (learned for ``ConcreteDropout``
        layers), in registration order, one row per member with
        ``n_members > 1``; the prediction passes draw their masks with these
        rates.

    noise_ : {"homoscedastic", "heteroscedastic"}
        The noise model of the fitted network: ``noise``, or what "auto"
        chose.

    n_members_ : int
        The number of members of the fitted network: ``n_members``, or what
        "auto" resolved to.

    candidate_scores_ : dict of ndarray
        Set when :meth:`fit` chose on held-out rows (:ref:`auto`): one entry
        per candidate in ``"dropout"`` (NaN for a custom ``module`` or
        learned rates), ``"noise"``, ``"n_epochs"`` (its best epoch, or the
        epochs it trained; of the candidates' shorter cosine on small data,
        see ``max_epochs``), ``"held_out_log_likelihood"`` (mean per row of
        the held-out rows and any fresh ones, in the units of the
        standardised target; the best is chosen) and ``"tau"`` (the noise
        precision fitted with it, in units of ``1 / y**2``; NaN for a
        heteroscedastic candidate).

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
    The predictive mean and variance at x are (Gal & Ghahramani 2016,
    Section 3.2)

    .. math::

        E[y] \\approx \\frac{1}{T} \\sum_t \\hat y_t(x), \\qquad
        Var[y] \\approx \\tau^{-1} + \\frac{1}{T} \\sum_t \\hat y_t(x)^2 - E[y]^2,

    with :math:`\\hat y_t` the output of pass t (with ``n_members > 1``, t
    runs over the passes of all members). With ``noise="heteroscedastic"``,
    :math:`\\tau^{-1}` becomes the mean of the passes' noise variances
    :math:`\\sigma_t^2(x)` (Kendall & Gal 2017, eq. (9)). The target is
    standardised inside the estimator (as ``normalize_y`` of
    GaussianProcessRegressor); outputs are in the units of ``y``.

    References
    ----------
    .. [1] Y. Gal and Z. Ghahramani, "Dropout as a Bayesian Approximation:
       Representing Model Uncertainty in Deep Learning", ICML 2016.
    .. [2] A. Kendall and Y. Gal, "What Uncertainties Do We Need in Bayesian
       Deep Learning for Computer Vision?", NeurIPS 2017.
    .. [3] M. Seitzer, A. Tavakoli, D. Antic and G. Martius, "On the Pitfalls
       of Heteroscedastic Uncertainty Estimation with Probabilistic Neural
       Networks", ICLR 2022.
    .. [4] B. Lakshminarayanan, A. Pritzel and C. Blundell, "Simple and
       Scalable Predictive Uncertainty Estimation using Deep Ensembles",
       NeurIPS 2017.

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
    >>> model[-1].sample_y(model[:-1].transform(X[:5]), n_samples=3).shape
    (5, 3)
    >>> y_lower, y_upper = model[-1].predict_interval(model[:-1].transform(X[:5]))
    >>> bool(np.all((y_lower < y_mean) & (y_mean < y_upper)))
    True

    Several targets, weighted rows and early stopping; five networks as one:

    >>> reg = MCDropoutRegressor(hidden_layer_sizes=(32,), max_epochs=50,
    ...                          early_stopping=True, random_state=0)
    >>> reg = reg.fit(X, np.c_[y, y**2], sample_weight=rng.uniform(1, 2, 200))
    >>> reg.predict(X[:5], return_std=True)[1].shape, reg.tau_.shape
    ((5, 2), (2,))
    >>> ensemble = MCDropoutRegressor(hidden_layer_sizes=(32,), n_members=5,
    ...                               max_epochs=20, random_state=0).fit(X, y)
    >>> ensemble.predict_passes(X[:5]).shape  # 100 passes of each member
    (5, 500)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_MCDropoutBase._parameter_constraints,
        "tau": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "weight_decay": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "noise": [StrOptions({*_NOISE_MODELS, "auto"})],
        "nll_beta": [Interval(Real, 0, 1, closed="both")],
    }
    _net_class = _RegressorNet
    _criterion = None  # the noise model's (_noise)
    _validation_callbacks = ("valid_loss",)
    _validate_y_kwargs: ClassVar[dict] = {"y_numeric": True, "multi_output": True}
    _annealed_training_rows: ClassVar[int] = 1_500
    # The most training rows on which the chosen model, its noise level
    # fitted on fresh rows, is trained again on every row (_selection).
    _refit_training_rows: ClassVar[int] = 5_000
    # The most training rows on which n_members="auto" trains five members:
    # California's 13,375 candidate training rows, with room above
    # (benchmarks/RESULTS_peers.md, "Five members on California").
    _ensemble_training_rows: ClassVar[int] = 20_000
    _no_epistemic_part = (
        "the epistemic part of the predictive std is zero and y_std is the noise "
        "std alone."
    )

    def __init__(
        self,
        hidden_layer_sizes=(128, 128),
        *,
        dropout="auto",
        activation="relu",
        n_passes=100,
        n_members="auto",
        noise="auto",
        nll_beta=0.0,
        tau="auto",
        weight_decay="auto",
        length_scale=1e-2,
        lr="auto",
        lr_schedule="auto",
        max_epochs="auto",
        batch_size=64,
        callbacks=None,
        validation_fraction=0.1,
        early_stopping=False,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
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
        self.n_members = n_members
        self.noise = noise
        self.nll_beta = nll_beta
        self.tau = tau
        self.weight_decay = weight_decay
        self.length_scale = length_scale
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.callbacks = callbacks
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.device = device
        self.pass_dtype = pass_dtype
        self.random_state = random_state
        self.verbose = verbose
        self.module = module

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network with dropout, and ``tau_`` if ``tau="auto"``.

        With ``warm_start=True`` and a fitted network, training continues
        from it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values. Several targets are predicted by one network with
            one output per target, under the same dropout masks.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows, with a positive sum; None
            weighs them equally. They weigh each row's training loss, the
            target's mean and std, the held-out likelihood of ``tau_`` and
            the early-stopping loss; rows of weight 0 are left out.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train the network for one epoch on the given rows.

        The first call builds the network and standardises the target with
        the statistics of its rows; later calls keep them and continue from
        the fitted network and optimiser, as MLPRegressor's ``partial_fit``
        does. With ``tau="auto"``, ``tau_`` is refitted on the call's
        held-out rows. Not available with ``early_stopping=True``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values, with as many targets as at the first call.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows; see :meth:`fit`.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, y, sample_weight, partial=True)

    def _fit_transform_y(self, y, sample_weight, first=True, classes=None):
        """The standardised target, (n, n_targets) float32.

        A first fit learns the target's (weighted) mean and scale; continued
        training keeps those of the first fit, the network's units.
        """
        if y.dtype.kind not in "biuf":
            raise ValueError(f"y must be numeric for regression, got dtype {y.dtype}.")
        n_targets = 1 if y.ndim == 1 else y.shape[1]
        if first:
            self.n_outputs_ = n_targets
            self._y_train_mean, self._y_scale = _location_scale(y, sample_weight)
        elif n_targets != self.n_outputs_:
            raise ValueError(
                f"y has {n_targets} target(s), the fitted network predicts "
                f"{self.n_outputs_}: warm_start=True and partial_fit continue "
                "training it, so the number of targets cannot change."
            )
        y_scaled = (y - self._y_train_mean) / self._y_unit()
        return y_scaled.astype(np.float32).reshape(len(y), -1)

    def _n_network_outputs(self):
        per_target = self._noise_model().outputs_per_target
        return per_target * getattr(self, "n_outputs_", 1)

    def _noise_model(self):
        """The noise model of this fit (``_noise``): ``noise``, or fit's choice."""
        return _noise_model(self._resolved("noise"))

    def _noise_candidates(self):
        """The noise models ``noise="auto"`` chooses from.

        Both, except where the candidates cannot be trained as members of one
        network (a custom ``module``, learned rates) or a fixed ``tau`` rules
        out the heteroscedastic model: the homoscedastic one alone.
        """
        if self.noise != "auto":
            return [self.noise]
        one_network = self.module is not None or self.dropout == "concrete"
        if one_network or self.tau != "auto":
            return ["homoscedastic"]
        return ["homoscedastic", "heteroscedastic"]

    def _outputs_per_target(self, noise):
        return _noise_model(noise).outputs_per_target

    def _n_targets(self):
        return self.n_outputs_

    def _member_criterion(self, noise, outputs_per_target):
        return _noise_model(noise).member_criterion(self, outputs_per_target)

    def _score_candidates(self, runner, masks, held_out, candidates):
        """Each candidate's held-out mixture log-likelihood, and its noise level.

        The mean over the held-out rows (weighted) and the targets, in the
        units of the standardised target (a constant away from those of y,
        the same for every candidate), at the noise level maximising it: a
        homoscedastic candidate's noise precision, returned as ``tau`` in
        units of 1 / y**2, a heteroscedastic one's scale of its predicted
        noise variance, returned as ``noise_scale``.
        """
        per_target = max(self._outputs_per_target(n) for _, n in candidates)
        X, y, w = held_out
        scored = [None] * len(candidates)
        for noise in dict.fromkeys(n for _, n in candidates):
            model = _noise_model(noise)

            def read(outputs, model=model):
                if model.outputs_per_target < per_target:  # a mean of 2 outputs
                    outputs = outputs[..., 0::per_target]
                return model.components(outputs)

            components = _on_target_scale(read, self)

            homoscedastic = model.outputs_per_target == 1
            grid = _PRECISIONS if homoscedastic else _SCALE_PRECISIONS
            taus, scores = _best_precisions(
                runner, masks, X, y, w, components, len(candidates), grid
            )
            for c, (_, name) in enumerate(candidates):
                if name == noise:
                    if homoscedastic:
                        key, value = "tau", taus[c] / self._y_unit() ** 2
                    else:
                        key, value = "noise_scale", 1 / taus[c]
                    value = float(value[0]) if len(value) == 1 else value
                    scored[c] = (float(np.mean(scores[c])), {key: value})
        return scored

    def _criterion_params(self, module):
        return self._noise_model().criterion_params(self, module)

    def _check_param_combinations(self):
        super()._check_param_combinations()
        for noise in self._noise_candidates():
            _noise_model(noise).check_params(self)

    def _fits_on_fresh_rows(self):
        """The noise level (``tau="auto"``) is fitted on fresh rows."""
        return self.tau == "auto"

    def _needs_held_out(self):
        """Rows are held out for early stopping and for the noise model's fit."""
        return self.early_stopping or self._noise_model().needs_held_out(self)

    def _fit_after_training(self, held_out):
        X, y, w = (None, None, None) if held_out is None else held_out
        if y is not None:
            y = y.cpu().numpy()
        for name in ("tau_", "noise_scale_"):  # a refit's noise model sets its own
            self.__dict__.pop(name, None)
        self._noise_model().fit_after_training(self, X, y, w)
        self.noise_ = self._resolved("noise")

    def _adapt_module_output(self, module, out_shape, n_outputs):
        return self._noise_model().adapt_module(module, out_shape, n_outputs)

    def _resolve_weight_decay(self, module, n_train):
        if self.weight_decay != "auto":
            return float(self.weight_decay)
        if _concrete_layers(module):
            return 0.0  # the prior's weight term is in the Concrete objective
        return _prior_weight_decay(self, module, n_train)

    def _y_unit(self):
        """The unit of the standardised target: the std of y, or 1 if it is 0."""
        std = self._y_scale
        return np.where(std > 0, std, 1.0) if np.ndim(std) else (std or 1.0)

    def _per_target(self, values, axis=-1):
        """``values`` without its target ``axis`` when y was 1-D."""
        return np.moveaxis(values, axis, 0)[0] if self.n_outputs_ == 1 else values

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
            ``n_samples * n_passes * n_members`` values per target in memory
            and refuses
            ``n_samples > MAX_COV_SAMPLES`` (10,000).

        Returns
        -------
        y_mean : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Mean of predictive distribution at query points.

        y_std : ndarray of shape (n_samples,) or (n_samples, n_targets), optional
            Standard deviation of predictive distribution at query points:
            ``sqrt(variance across the passes + 1 / tau_)``.
            Only returned when `return_std` is True.

        y_cov : ndarray of shape (n_samples, n_samples) or \
                (n_samples, n_samples, n_targets), optional
            Covariance of joint predictive distribution at query points: the
            covariance across the passes plus ``I / tau_``, per target.
            Only returned when `return_cov` is True.
        """
        if return_std and return_cov:
            raise RuntimeError(
                "At most one of return_std or return_cov can be requested."
            )
        Xt = self._validate_X_predict(X)
        if return_cov:
            return self._mean_cov(Xt)
        y_mean, epistemic, aleatoric = self._moments(Xt)
        if not return_std:
            return self._per_target(y_mean)
        return self._per_target(y_mean), self._per_target(
            np.sqrt(epistemic + aleatoric)
        )

    def _mean_cov(self, Xt):
        """Mean and joint covariance of each target over the passes, plus noise."""
        n = Xt.shape[0]
        _check_cov_size(n)
        _check_stored_size(n, self._n_components(), self.n_outputs_)
        passes, noise_var = self._pass_outputs(Xt)
        y_cov = np.empty((n, n, self.n_outputs_))
        for j in range(self.n_outputs_):
            y_cov[:, :, j] = np.cov(passes[:, :, j], ddof=0).reshape(n, n)
        y_cov[np.arange(n), np.arange(n)] += noise_var.mean(axis=1)
        return self._per_target(passes.mean(axis=1)), self._per_target(y_cov)

    def predict_uncertainty(self, X):
        """The predictive std of each row and its aleatoric and epistemic parts.

        From the same passes as :meth:`predict`, streamed, so memory does not
        grow with ``n_passes``. With ``noise="homoscedastic"`` the aleatoric
        part is ``sqrt(1 / tau_)`` for every row; with
        ``noise="heteroscedastic"`` it is the mean over the passes of the
        noise variance the network predicts for the row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query points.

        Returns
        -------
        uncertainty : :class:`~sklearn.utils.Bunch`
            With arrays of shape (n_samples,), or (n_samples, n_targets) for
            several targets, in the units of ``y``:

            - ``std``: the predictive std, as ``predict(X, return_std=True)``;
            - ``aleatoric_std``: the observation noise, which more data does
              not reduce;
            - ``epistemic_std``: the spread of the passes' means, the model's
              ignorance, large away from the training data;

            with ``std**2 = aleatoric_std**2 + epistemic_std**2``.
        """
        Xt = self._validate_X_predict(X)
        _, epistemic, aleatoric = self._moments(Xt)
        return Bunch(
            std=self._per_target(np.sqrt(epistemic + aleatoric)),
            aleatoric_std=self._per_target(np.sqrt(aleatoric)),
            epistemic_std=self._per_target(np.sqrt(epistemic)),
        )

    def predict_quantiles(self, X, quantiles=(0.025, 0.5, 0.975)):
        """Quantiles of the predictive distribution: the mixture of the passes.

        The predictive distribution of a row is the equal-weight mixture of
        the Gaussians of its passes (what :meth:`sample_y` draws from); its
        quantile at level ``alpha`` solves ``mixture_cdf(q) = alpha`` up to
        1e-12 in probability. It follows a skewed or multimodal mixture,
        where ``y_mean + y_std * Phi^{-1}(alpha)`` from
        ``predict(X, return_std=True)`` assumes a Gaussian. Streamed over
        chunks of rows, so memory does not grow with the number of rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query points.

        quantiles : float or array-like of shape (n_quantiles,), \
                default=(0.025, 0.5, 0.975)
            Levels of the quantiles, each in (0, 1).

        Returns
        -------
        y_quantiles : ndarray of shape (n_samples, n_quantiles) or \
                (n_samples, n_targets, n_quantiles)
            The quantiles of each row's predictive distribution, in the
            units of ``y``, one column per level.

        See Also
        --------
        predict_interval : Central prediction interval of the same mixture.
        sklearn_mcdropout.metrics.mixture_quantiles : The same from the
            arrays of :meth:`predict_passes`.
        """
        alphas = _check_confidences(np.atleast_1d(quantiles), "quantiles")
        Xt = self._validate_X_predict(X)
        return self._per_target(self._mixture_quantiles(Xt, alphas), axis=1)

    def predict_interval(self, X, confidence=0.95):
        """Central prediction interval of the mixture of the passes.

        From the ``(1 - confidence) / 2`` to the ``(1 + confidence) / 2``
        quantile of each row's predictive distribution (see
        :meth:`predict_quantiles`): the interval holds the target with
        probability `confidence` under the mixture that :meth:`sample_y`
        draws from, and misses it as often above as below. Unlike
        ``y_mean ± z * y_std``, it is not symmetric where the mixture is
        skewed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query points.

        confidence : float, default=0.95
            Probability of the interval, in (0, 1).

        Returns
        -------
        y_lower : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Lower ends of the intervals, in the units of ``y``.

        y_upper : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Upper ends of the intervals.

        See Also
        --------
        sklearn_mcdropout.metrics.interval_coverage : Coverage of an
            interval on held-out targets.
        sklearn_mcdropout.metrics.mixture_interval : The same from the
            arrays of :meth:`predict_passes`.
        """
        confidence = _check_confidence(confidence)
        Xt = self._validate_X_predict(X)
        y_quantiles = self._mixture_quantiles(Xt, _central_levels(confidence))
        return self._per_target(y_quantiles[:, :, 0]), self._per_target(
            y_quantiles[:, :, 1]
        )

    def _mixture_quantiles(self, Xt, alphas):
        """Quantiles of each row's mixture, (n_samples, n_targets, n_quantiles)."""
        n_targets = self.n_outputs_
        y_quantiles = np.empty((Xt.shape[0], n_targets, len(alphas)))
        for rows in _chunks(Xt.shape[0], self._n_components() * n_targets):
            mean, noise_var = self._pass_outputs(Xt[rows])
            for j in range(n_targets):
                y_quantiles[rows, j] = _quantiles(
                    mean[:, :, j].astype(np.float64),
                    np.sqrt(noise_var[:, :, j], dtype=np.float64),
                    alphas,
                )
        return y_quantiles

    def predict_passes(self, X, return_noise_std=False):
        """Outputs of the stochastic passes used by :meth:`predict`.

        ``n_passes`` passes of each of the ``n_members`` members, pass-major:
        column ``t * n_members + m`` is pass t of member m (so
        ``y_passes.reshape(n_samples, n_passes, n_members)[:, :, m]`` are
        member m's passes).

        Their mean over the passes is ``predict(X)``; they carry no
        observation noise (see :meth:`sample_y` for draws of y). With
        ``noise="heteroscedastic"`` they are the passes' means. Pass t and
        its noise std give the Gaussian N(y_passes[:, t], noise_std[:, t]**2);
        the predictive distribution is their equal mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query points.

        return_noise_std : bool, default=False
            If True, the noise std of each pass is returned along with the
            passes: ``sqrt(1 / tau_)`` everywhere with
            ``noise="homoscedastic"``, the std that pass predicts for the row
            with ``noise="heteroscedastic"``.

        Returns
        -------
        y_passes : ndarray of shape (n_samples, n_passes * n_members) or \
                (n_samples, n_targets, n_passes * n_members)
            Output of each pass, in the units of ``y``; all targets of a
            pass share its masks.

        noise_std : ndarray of the shape of ``y_passes``, optional
            Noise std of each pass, in the units of ``y``. Only returned when
            ``return_noise_std`` is True.
        """
        Xt = self._validate_X_predict(X)
        _check_stored_size(Xt.shape[0], self._n_components(), self.n_outputs_)
        passes, noise_var = (self._by_target(a) for a in self._pass_outputs(Xt))
        return (passes, np.sqrt(noise_var)) if return_noise_std else passes

    def sample_y(self, X, n_samples=1, random_state=0):
        """Draw samples from the predictive distribution and evaluate at X.

        Each sample is one stochastic pass with fresh dropout masks, shared by
        all rows so that a sample is a whole function, plus Gaussian
        observation noise of variance ``1 / tau_`` (with
        ``noise="heteroscedastic"``, the noise variance that pass predicts
        for the row). With ``n_members > 1`` each sample is a pass of a
        member drawn uniformly, so that samples come from the pooled mixture.

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
        y_samples : ndarray of shape (n_samples_X, n_samples), or \
                (n_samples_X, n_targets, n_samples)
            Values of n_samples samples drawn from the predictive distribution
            and evaluated at query points.
        """
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"n_samples must be a positive integer, got {n_samples!r}."
            )
        Xt = self._validate_X_predict(X)
        n_members = self._masks.n_members  # fitted, whatever n_members says now
        _check_stored_size(Xt.shape[0], n_samples * n_members, self.n_outputs_)
        rng = check_random_state(random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        functions, noise_var = self._pass_outputs(Xt, n_samples, seed)
        if n_members > 1:  # sample s: pass s of a member drawn uniformly
            picked = np.arange(n_samples) * n_members
            picked += rng.randint(n_members, size=n_samples)
            functions, noise_var = functions[:, picked], noise_var[:, picked]
        draws = functions + rng.normal(size=functions.shape) * np.sqrt(noise_var)
        return self._by_target(draws)

    def _by_target(self, values):
        """(n_samples, n_passes, n_targets) as (n_samples, n_targets, n_passes).

        Or (n_samples, n_passes) when y was 1-D, as GaussianProcessRegressor
        orders its samples.
        """
        return self._per_target(values.transpose(0, 2, 1), axis=1)

    def _pass_outputs(self, Xt, n_passes=None, seed=None):
        """Each pass's mean and noise variance, in the units of y.

        Both of shape (n_samples, n_passes, n_targets); the noise variance
        may be a read-only broadcast view.
        """
        runner, masks = self._runner_and_masks(n_passes, seed)
        out = torch.from_numpy(_mc_samples(runner, masks, Xt))
        noise_model = self._noise_model()
        mean, variance = noise_model.components(out)
        mean = mean.numpy().copy() if variance is not None else mean.numpy()
        noise_var = noise_model.noise_variance(
            self, None if variance is None else variance.numpy()
        )
        noise_var = np.broadcast_to(noise_var, mean.shape)
        return self._unscale(mean, out=mean), noise_var

    def _moments(self, Xt):
        """Predictive mean, epistemic and aleatoric variances, units of y."""
        mean, var, noise = self._standardised_moments(Xt, *self._runner_and_masks())
        aleatoric = self._noise_model().noise_variance(self, noise)
        aleatoric = np.broadcast_to(aleatoric, mean.shape).copy()
        return self._unscale(mean), var * self._y_scale**2, aleatoric

    def _standardised_moments(self, Xt, runner, masks):
        """Mean, epistemic and (mean) noise variance of the passes, network units.

        The noise variance is None for a noise model with one variance for
        every pass (see ``_mc._mc_moments``).
        """
        return _mc_moments(runner, masks, Xt, self._noise_model().components)

    def _streamed_log_likelihoods(self, X, y, precisions=None, n_groups=1):
        """Each row's log predictive density of ``y``, streamed over the passes.

        The log of the mixture of the passes' Gaussians (see
        ``_mc._mc_log_likelihoods``), per target, in the units of y; with
        ``precisions``, for every noise precision tau of that grid (units of
        1 / y**2) instead of ``tau_``, or with the heteroscedastic model for
        the predicted noise variances divided by each tau; with ``n_groups``,
        for each of that many equal groups of members. Returns the groups'
        means, (n_samples, n_targets, n_groups), and the log-likelihoods,
        (n_samples, n_targets, n_groups, n_precisions or 1).
        """
        Xt = self._validate_X_predict(X)
        y = np.asarray(y, dtype=np.float64).reshape(len(Xt), -1)
        noise_model = self._noise_model()
        device = Xt.device
        scale = torch.as_tensor(self._y_scale, dtype=torch.float64, device=device)
        shift = torch.as_tensor(self._y_train_mean, dtype=torch.float64, device=device)

        def components(outputs):
            mu, var = noise_model.components(outputs)
            mu = mu * scale + shift
            if precisions is None or var is not None:
                var = noise_model.noise_variance(self, var)
                var = torch.as_tensor(var, dtype=torch.float64, device=device)
                var = var.expand_as(mu)
            return mu, var

        runner, masks = self._runner_and_masks()
        grid = [1.0] if precisions is None else precisions
        return _mc_log_likelihoods(runner, masks, Xt, y, components, grid, n_groups)

    def _unscale(self, y_scaled, out=None):
        """``y_scaled`` in the units of y; ``out=y_scaled`` unscales in place."""
        y = np.multiply(y_scaled, self._y_scale, out=out)
        y += self._y_train_mean
        return y


def _location_scale(y, sample_weight):
    """The (weighted) mean of y and its std, by target; floats for a 1-D y."""
    mean = np.average(y, axis=0, weights=sample_weight)
    std = np.sqrt(np.average((y - mean) ** 2, axis=0, weights=sample_weight))
    if y.ndim == 1:
        return float(mean), _scale(float(std), float(mean))
    return mean, np.array([_scale(s, m) for s, m in zip(std, mean, strict=True)])


def _scale(std, mean):
    """The std of y, or 0 where y has no variance beyond rounding.

    A relative spread below 1e-8 is taken as none, as scikit-learn takes a
    scale below 10 eps as zero: the network then learns a zero standardised
    target and predicts the mean of y exactly (times a zero scale).
    """
    return float(std) if std > _NO_VARIANCE * max(abs(mean), 1.0) else 0.0


def _check_cov_size(n_rows):
    if n_rows > MAX_COV_SAMPLES:
        raise ValueError(
            f"return_cov=True builds an (n_samples, n_samples) matrix; "
            f"n_samples={n_rows} exceeds MAX_COV_SAMPLES={MAX_COV_SAMPLES}. "
            "Use return_std=True, or predict fewer rows at once."
        )
