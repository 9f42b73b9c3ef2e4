"""What MCDropoutRegressor and MCDropoutClassifier share: fit, inputs, passes."""

import copy
import os
import sys
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)
from skorch.callbacks import Callback
from torch import nn

from ._concrete import _ConcreteRegulariser
from ._mc import _make_runner, _Masks
from ._network import (
    _ACTIVATIONS,
    _build_mlp,
    _check_dropout_layers,
    _concrete_layers,
    _dropout_layers,
    _MemberDropout,
    _Members,
    _stack_members,
)
from ._persistence import _loaded_state, _restore_net, _saved_state
from ._training import (
    _CosineLR,
    _EarlyStopping,
    _MemberLoss,
    _SampleWeighted,
    _TensorBatches,
    _training_target,
)

#: Largest absolute input value accepted, sqrt of the float32 maximum (about
#: 1.8e19): above it the network's squares and products overflow.
MAX_ABS_INPUT = float(np.sqrt(np.finfo(np.float32).max))
#: Most pass outputs (n_samples x n_passes x n_members x n_outputs) that the
#: methods returning every pass (``predict_passes``, ``sample_y``,
#: ``return_cov``) store; above it they refuse.
MAX_STORED_PASS_VALUES = 2**27
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SKLEARN_BASE = os.path.join("sklearn", "base.py")


class _MCDropoutBase(BaseEstimator):
    """Fit, input validation and the Monte Carlo passes of both estimators.

    :meth:`_fit` is the one fit (``fit``, ``partial_fit``, warm starts): it
    validates X, y and the sample weights, trains the network with skorch on
    the training rows (a new network, or the fitted one further) and draws
    the prediction masks, calling the hooks that differ between the
    estimators. Subclasses set ``_net_class`` (a skorch net), ``_criterion``,
    ``_validation_callbacks`` (the names of the net's default callbacks that
    score validation data) and ``_no_epistemic_part`` (what a user loses
    without dropout), and define

    - ``_encode_y(y, sample_weight, first, classes)``: the training target
      as an array and the number of network outputs (the regressor
      standardises, the classifier encodes the labels into ``classes_``;
      ``first`` is False when training continues);
    - ``_needs_held_out()``: whether rows are held out (early stopping, the
      regressor's ``tau_``);
    - ``_fit_after_training(X_held_out, y_held_out, w_held_out)``: what is
      fitted after training, on the held-out rows if any (``tau_``);
    - ``_check_output(module, shape, n_outputs)`` and
      ``_resolve_weight_decay(module, n_train)``;
    - ``_n_network_outputs()``: the network's number of outputs once fitted
      (what rebuilds it when a saved model is loaded, see ``_persistence``).
    """

    _parameter_constraints: dict = {  # noqa: RUF012 (extended by subclasses)
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "dropout": [Interval(Real, 0, 1, closed="left"), StrOptions({"concrete"})],
        "length_scale": [Interval(Real, 0, None, closed="neither")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "n_passes": [Interval(Integral, 1, None, closed="left")],
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions({"constant", "cosine"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "callbacks": [None, list],
        "device": [str, torch.device],
        "pass_dtype": [StrOptions({"float32", "bfloat16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "module": [None, nn.Module, type, list],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "early_stopping": ["boolean"],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
    }

    _validate_y_kwargs: ClassVar[dict] = {}

    def _fit(self, X, y, sample_weight=None, *, partial=False, classes=None):
        """Validate, train on the training rows, fit the rest; return self.

        A first fit builds the network and trains it for ``max_epochs``
        epochs (one with ``partial``); with ``warm_start`` or ``partial`` and
        a fitted network, training continues from it (``_continue``). A fit
        that raises leaves the estimator's attributes as they were before it
        (a fitted model stays usable after a refused refit).
        """
        state = dict(self.__dict__)
        try:
            return self._fit_steps(X, y, sample_weight, partial, classes)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    def _fit_steps(self, X, y, sample_weight, partial, classes):
        """The steps of ``_fit``, which restores the attributes if one raises."""
        if partial and self.early_stopping:
            raise ValueError(
                f"partial_fit does not support early_stopping=True; use fit, or "
                f"set early_stopping=False. Got {type(self).__name__}"
                "(early_stopping=True)."
            )
        first = not hasattr(self, "net_") or not (partial or self.warm_start)
        X, y = self._validate_fit_data(X, y, reset=first)
        sample_weight = _check_fit_sample_weight(sample_weight, X)
        if sample_weight is not None:
            # A row of weight 0 adds nothing to any fitted value: removed.
            kept = sample_weight > 0
            X, y, sample_weight = X[kept], y[kept], sample_weight[kept]
            _check_n_samples(self, X.shape[0], " of positive weight")
        y, n_outputs = self._encode_y(y, sample_weight, first=first, classes=classes)
        device = _check_device(self.device)
        self._check_param_combinations()
        self._check_members()
        mask_seed, torch_seed, batch_seed, rng = self._seeds()
        if not first:
            torch_seed, batch_seed, rng = self._continued_seeds(torch_seed, batch_seed)
        train, held_out = self._held_out_rows(X.shape[0], rng)
        Xt, yt = torch.as_tensor(X, device=device), torch.as_tensor(y, device=device)
        w = _split_weights(sample_weight, train, held_out)
        valid = None
        if self.early_stopping:
            valid = (Xt[held_out], yt[held_out], _as_tensor(w[1], device))
        train_data = (Xt[train], yt[train], w[0])
        n_epochs = 1 if partial else self.max_epochs
        if first:
            self._mask_seed = mask_seed
            self._fit_network(
                *train_data, n_outputs, device, torch_seed, batch_seed, valid, n_epochs
            )
        else:
            self._continue(*train_data, device, torch_seed, batch_seed, valid, partial)
        self.dropout_ = _fitted_rates(self.net_.module_)
        self._draw_masks()
        self._set_training_attributes()
        held = (None, None, None)
        if held_out is not None:
            held = (Xt[held_out], y[held_out], w[1])
        self._fit_after_training(*held)
        self._warn_if_no_epistemic_part()
        return self

    def _validate_fit_data(self, X, y, reset=True):
        """X as float32 (a copy) and y as validated by scikit-learn."""
        _check_columns(X)
        X, y = validate_data(
            self,
            X,
            _column_to_1d(y),
            dtype=[np.float64, np.float32],
            reset=reset,
            **self._validate_y_kwargs,
        )
        _check_n_samples(self, X.shape[0])
        return _as_float32(X, "X"), y

    def _criterion_params(self, module):
        """The skorch net's criterion and its parameters, for ``module``."""
        return {"criterion": self._criterion}

    def _check_param_combinations(self):
        """Refuse parameters that are valid alone but not together."""

    def _check_members(self):
        if self.n_members > 1 and self.dropout == "concrete" and self.module is None:
            raise ValueError(
                "dropout='concrete' cannot go with n_members > 1: the members "
                "are trained as one batched network of fixed-rate dropout "
                "layers, and learned rates are not stacked. Use n_members=1 "
                "with dropout='concrete', or a fixed dropout rate with n_members="
                f"{self.n_members}."
            )

    def _held_out_rows(self, n_samples, rng):
        """Training and held-out rows: the held-out rows only if needed.

        A fraction ``validation_fraction`` of the rows (at least one) is held
        out when ``_needs_held_out()``: for early stopping, and for what a
        subclass fits after training.
        """
        if not self._needs_held_out():
            return slice(None), None
        n_held_out = round(self.validation_fraction * n_samples)
        n_held_out = min(max(1, n_held_out), n_samples - 1)
        perm = rng.permutation(n_samples)
        return np.sort(perm[n_held_out:]), np.sort(perm[:n_held_out])

    def _needs_held_out(self):
        return self.early_stopping

    def _fit_after_training(self, X_held_out, y_held_out, w_held_out):
        """Nothing to fit after training unless a subclass says so."""

    def _runner_and_masks(self, n_passes=None, seed=None):
        """The pass runner on the fitted network and the masks of the passes.

        The masks drawn at fit serve every call with the fitted seed and
        ``n_passes``; other seeds (``sample_y``) or a changed ``n_passes``
        draw theirs for the call.
        """
        n_passes = self.n_passes if n_passes is None else n_passes
        seed = self._mask_seed if seed is None else seed
        masks = self._masks
        if (masks.seed, masks.n_passes) != (seed, n_passes):
            masks = _Masks(masks.plan, seed, n_passes, masks.n_members)
        module = self.net_.module_
        return _make_runner(module, self._dtype(), _device_of(module)), masks

    def _seeds(self):
        """Seeds of the prediction masks, training and batch order, and the rng."""
        rng = check_random_state(self.random_state)
        mask_seed, torch_seed, batch_seed = rng.randint(np.iinfo(np.int32).max, size=3)
        return int(mask_seed), int(torch_seed), int(batch_seed), rng

    def _continued_seeds(self, torch_seed, batch_seed):
        """Seeds of continued training: they differ with the epochs done.

        So successive ``partial_fit`` calls with an int ``random_state`` draw
        new training dropout, batch orders and held-out rows, and a fit
        stays a function of ``random_state`` and the calls before it.
        """
        n_done = len(self.net_.history)
        rng = np.random.RandomState([torch_seed, batch_seed, n_done])
        torch_seed, batch_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        return int(torch_seed), int(batch_seed), rng

    def _fit_network(
        self, Xt, yt, w, n_outputs, device, torch_seed, batch_seed, valid, n_epochs
    ):
        """Build the network (or the members) and train it on (Xt, yt) with skorch."""
        # Initialisation and training dropout draw from torch's global RNG;
        # fork_rng restores the caller's state when training ends.
        with torch.random.fork_rng(devices=_cuda_indices(device)):
            torch.manual_seed(torch_seed)
            module = self._build_module(Xt.shape[1], n_outputs, device, torch_seed)
            self.weight_decay_ = self._weight_decay(module, _n_rows(yt, w))
            self.net_ = self._build_net(module, device, batch_seed, valid)
            self._set_regulariser(self.net_, Xt.shape[1], _n_rows(yt, w))
            self.net_.initialize()
            yt = _training_target(self.net_, yt, w)
            self.net_.partial_fit(Xt, yt, epochs=n_epochs)

    def _continue(self, Xt, yt, w, device, torch_seed, batch_seed, valid, partial):
        """Train the fitted network further: one epoch, or a warm-started fit.

        ``partial_fit`` keeps the optimiser's state; a warm-started ``fit``
        starts a new optimiser from the fitted weights, as MLPRegressor does,
        and trains ``max_epochs`` epochs (fewer with early stopping). The
        training history goes on.
        """
        self._check_same_architecture(device)
        net = self.net_
        with torch.random.fork_rng(devices=_cuda_indices(device)):
            torch.manual_seed(torch_seed)
            if not partial:
                self.weight_decay_ = self._weight_decay(net.module_, _n_rows(yt, w))
                net = self._build_net(net.module_, device, batch_seed, valid)
                net.initialize()
                net.history = self.net_.history
            else:
                # A fit with early stopping left its callback, whose held-out
                # rows are gone; partial_fit (refused with early stopping)
                # trains without it.
                net.callbacks_ = [
                    (name, cb)
                    for name, cb in net.callbacks_
                    if name != "early_stopping"
                ]
            self._set_regulariser(net, Xt.shape[1], _n_rows(yt, w))
            # skorch's set_params refuses iterator parameters once the net is
            # initialised; they need no reinitialisation.
            net.iterator_train__generator = _batch_generator(batch_seed, net.module_)
            yt = _training_target(net, yt, w)
            net.partial_fit(Xt, yt, epochs=1 if partial else self.max_epochs)
        self.net_ = net

    def _set_regulariser(self, net, n_features, n_train):
        """The Concrete dropout KL term of the net's ConcreteDropout layers, if any.

        Divided by N, the training set's size (the sum of the weights).
        """
        module = net.module_ if net.initialized_ else net.module
        if _concrete_layers(module):
            net.regulariser = _ConcreteRegulariser.from_module(
                module, n_features, self.length_scale, n_train
            )

    def _check_same_architecture(self, device):
        """Refuse to continue training when the parameters build another network."""
        with torch.random.fork_rng(devices=_cuda_indices(device)):
            new = self._build_module(
                self.n_features_in_, self._n_network_outputs(), device
            )
        if _architecture(new) != _architecture(self.net_.module_):
            raise ValueError(
                "warm_start=True (or partial_fit) continues training the fitted "
                "network, but the current parameters build a different network "
                "(other layers, widths, activations, dropout rates or number of "
                "members). Refit "
                "from scratch with warm_start=False, or restore the parameters "
                "of the fitted network."
            )

    def _set_training_attributes(self):
        """n_iter_, loss_curve_, best_loss_, validation_scores_ from the history."""
        history = self.net_.history
        self.n_iter_ = len(history)
        # An epoch that a callback interrupted may have no loss recorded.
        self.loss_curve_ = [
            float(h["train_loss"]) for h in history if "train_loss" in h
        ]
        if self.early_stopping:
            self.validation_scores_ = [
                -float(h["valid_loss"]) for h in history if "valid_loss" in h
            ]
            # The best of this fit, whose weights are kept (a warm start may
            # follow a fit that scored better).
            stopping = dict(self.net_.callbacks_)["early_stopping"]
            self.best_validation_score_ = -float(stopping.best_loss_)
            self.best_loss_ = None
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_, default=None)

    def _weight_decay(self, module, n_train):
        """The weight decay: the members' mean (linear in their dropout rates)."""
        if not isinstance(module, _Members):
            return self._resolve_weight_decay(module, n_train)
        decays = [
            self._resolve_weight_decay(module.member(m), n_train)
            for m in range(module.n_members)
        ]
        return float(np.mean(decays))

    def _build_module(self, n_features, n_outputs, device, seed=0):
        """The network, or with ``n_members > 1`` the members stacked as one.

        Member m is built from torch seed ``_member_seeds(seed, M)[m]``;
        member 0's is ``seed`` itself, which the caller has set, so a single
        network and member 0 start from the same weights.
        """
        modules = self.module
        if isinstance(modules, list):
            if len(modules) != self.n_members or not all(
                isinstance(m, nn.Module) for m in modules
            ):
                raise ValueError(
                    "module as a list holds the members' networks: n_members="
                    f"{self.n_members} torch.nn.Module instances, got "
                    f"{[type(m).__name__ for m in modules]}."
                )
        else:
            modules = [self.module] * self.n_members
        if self.n_members == 1:
            return self._build_one(n_features, n_outputs, device, modules[0])
        members = []
        for m, member_seed in enumerate(_member_seeds(seed, self.n_members)):
            torch.manual_seed(member_seed)
            member = self._build_one(n_features, n_outputs, device, modules[m])
            if m > 0 and isinstance(self.module, nn.Module):
                _reset_parameters(member)  # a copy of the one given: new weights
            members.append(member)
        return _stack_members(members)

    def _build_one(self, n_features, n_outputs, device, module):
        """One network from ``module`` (the parameter, or one member's)."""
        if module is None:
            sizes = np.atleast_1d(self.hidden_layer_sizes)
            if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes < 1):
                raise ValueError(
                    "hidden_layer_sizes must be a non-empty sequence of positive "
                    f"integers, got {self.hidden_layer_sizes!r}."
                )
            sizes = [int(s) for s in sizes]
            module = _build_mlp(
                n_features, sizes, self.activation, self.dropout, n_outputs
            )
        elif isinstance(module, nn.Module):
            module = copy.deepcopy(module)
        else:
            module = module()
        _check_dropout_layers(module)
        module = module.to(device)
        with torch.no_grad():
            out = module.eval()(torch.zeros(2, n_features, device=device))
        return self._check_output(module, tuple(out.shape), n_outputs)

    def _build_net(self, module, device, seed, valid=None):
        """The skorch net training ``module``; early stopping on ``valid`` rows.

        ``valid`` is (X, y, sample weights) of the held-out rows, or None.
        """
        # PrintLog tabulates every epoch even when silent; the validation
        # callbacks have no validation data here (and valid_acc's batch hook
        # would keep skorch's slower per-batch loop, see _training).
        quiet = {f"callbacks__{name}": None for name in self._validation_callbacks}
        if not self.verbose:
            quiet["callbacks__print_log"] = None
        callbacks = _check_callbacks(self.callbacks)
        if self.lr_schedule == "cosine":
            callbacks.append(("lr_schedule", _CosineLR(self.max_epochs)))
        if valid is not None:
            stopping = _EarlyStopping(*valid, self.n_iter_no_change, self.tol)
            callbacks.append(("early_stopping", stopping))
        # The criterion's own parameters (criterion__beta) pass through the
        # weighting wrapper, which builds it; with members, the sum of the
        # members' weighted losses. Adam's L2 penalty applies to the weights:
        # not to the biases, the learned dropout rates or the learned noise
        # level (a parameter of the criterion).
        criterion = self._criterion_params(module)
        criterion = {
            "criterion": _SampleWeighted,
            "criterion__criterion": criterion.pop("criterion"),
            **criterion,
        }
        if isinstance(module, _Members):
            criterion = {
                "criterion": _MemberLoss,
                "criterion__base": criterion.pop("criterion"),
                **criterion,
            }
        no_decay = {"weight_decay": 0.0}
        return self._net_class(
            module,
            **criterion,
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay_,
            optimizer__fused=device.type in ("cpu", "cuda"),
            optimizer__param_groups=[
                (pattern, no_decay)
                for pattern in ("*bias", "*p_logit", "*raw_noise_variance")
            ],
            lr=self.lr,
            callbacks=callbacks or None,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=_TensorBatches,
            iterator_train__shuffle=True,
            iterator_train__generator=_batch_generator(seed, module),
            iterator_valid=_TensorBatches,
            train_split=None,
            device=device,
            verbose=self.verbose,
            **quiet,
        )

    def _validate_X_predict(self, X):
        check_is_fitted(self)
        _check_columns(X)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        device = _device_of(self.net_.module_)
        return torch.as_tensor(_as_float32(X, "X"), device=device)

    def _dtype(self):
        """The torch dtype of the prediction passes on the fitted device."""
        if self.pass_dtype == "float32":
            return torch.float32
        device = _device_of(self.net_.module_)
        if _has_fast_bfloat16(device):
            return torch.bfloat16
        _warn(
            f"pass_dtype='bfloat16' is not fast on device {str(device)!r} (no "
            "bfloat16 matrix units); predicting in float32."
        )
        return torch.float32

    def _warn_if_no_epistemic_part(self):
        # With members the spread between them is epistemic in any case.
        rates = [np.max(p) for _, p in self._masks.plan]
        if self.n_members == 1 and (self.n_passes == 1 or all(p == 0 for p in rates)):
            _warn(
                "With n_passes=1 or all dropout rates 0 the passes do not vary: "
                f"{self._no_epistemic_part}"
            )

    def _draw_masks(self):
        """Draw the prediction masks of the fitted network from ``_mask_seed``."""
        plan = _make_runner(self.net_.module_).plan(self.n_features_in_)
        self._masks = _Masks(plan, self._mask_seed, self.n_passes, self.n_members)

    def _n_components(self):
        """Outputs per row of the passes of all members: n_passes * n_members.

        The fitted number of members (``n_passes`` may change after fit,
        ``n_members`` needs a refit).
        """
        return self.n_passes * self._masks.n_members

    def __getstate__(self):
        # The weights as arrays, no torch or skorch object: see _persistence.
        return _saved_state(self, super().__getstate__())

    def __setstate__(self, state):
        state, net_state = _loaded_state(self, state)
        super().__setstate__(state)
        if net_state is not None:
            _restore_net(self, net_state)


def _warn(message, category=UserWarning):
    """Warn, pointing at the first caller outside this package and sklearn.base.

    That is the user's line for a direct call (``fit`` runs inside
    scikit-learn's ``_fit_context`` wrapper), or the meta-estimator's.
    """
    frame, stacklevel = sys._getframe(1), 2
    while frame is not None and _is_internal(frame.f_code.co_filename):
        frame, stacklevel = frame.f_back, stacklevel + 1
    warnings.warn(message, category, stacklevel=stacklevel)


def _column_to_1d(y):
    """A column vector as 1-D, with scikit-learn's warning at the user's line."""
    shape = getattr(y, "shape", None)
    if shape is None and isinstance(y, list | tuple):
        shape = np.shape(y)
    if shape is not None and len(shape) == 2 and shape[1] == 1:
        _warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
        )
        return np.ravel(y)
    return y


def _is_internal(filename):
    return filename.startswith(_PACKAGE_DIR) or filename.endswith(_SKLEARN_BASE)


def _device_of(module):
    return next(module.parameters()).device


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


def _check_callbacks(callbacks):
    """The user's skorch callbacks as a new list, each checked."""
    callbacks = [] if callbacks is None else list(callbacks)
    for i, item in enumerate(callbacks):
        named = isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
        if not isinstance(item[1] if named else item, Callback):
            raise ValueError(
                "callbacks must hold skorch Callback instances or (name, "
                f"Callback) pairs, got {item!r} at position {i}."
            )
    return callbacks


def _check_stored_size(n_rows, n_passes, n_outputs=1):
    """Refuse storing more than MAX_STORED_PASS_VALUES pass outputs."""
    n_values = n_rows * n_passes * n_outputs
    if n_values > MAX_STORED_PASS_VALUES:
        outputs = "" if n_outputs == 1 else f" of {n_outputs} outputs"
        raise ValueError(
            f"Storing {n_passes} passes{outputs} for {n_rows} rows needs "
            f"{n_values} values, above MAX_STORED_PASS_VALUES="
            f"{MAX_STORED_PASS_VALUES}. Use fewer rows or passes per call."
        )


def _check_columns(X):
    """Refuse DataFrame columns that cannot be converted to numbers, by name.

    Categories and strings are refused; an object column is accepted when
    its values are numbers, as scikit-learn's estimators accept it.
    """
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(dtypes, "items"):
        return
    bad = [
        f"{name!r} ({dtype})"
        for name, dtype in dtypes.items()
        if isinstance(dtype, pd.CategoricalDtype)
        or (pd.api.types.is_string_dtype(dtype) and not _holds_numbers(X[name]))
    ]
    if bad:
        raise ValueError(
            f"X has non-numeric columns {', '.join(bad)}; encode them first, "
            "e.g. with OneHotEncoder in a ColumnTransformer."
        )


def _holds_numbers(column):
    """Whether an object column holds only numbers (or missing values)."""
    if column.dtype != object:
        return False
    kind = pd.api.types.infer_dtype(column, skipna=True)
    return kind in ("integer", "floating", "mixed-integer-float", "decimal", "empty")


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


def _fitted_rates(module):
    """Rate of each dropout layer: (n_layers,), or (n_members, n_layers)."""
    if isinstance(module, _Members):
        rates = [layer.rates for layer in module if isinstance(layer, _MemberDropout)]
        return np.array(rates).T
    return np.array([m.p for m in _dropout_layers(module)])


def _batch_generator(seed, module):
    """The batch order's generator; with members, one per member.

    Member 0's is that of one network with this seed.
    """
    if not isinstance(module, _Members):
        return torch.Generator().manual_seed(seed)
    return [
        torch.Generator().manual_seed(s) for s in _member_seeds(seed, module.n_members)
    ]


def _member_seeds(seed, n_members):
    """Seeds of members 0 to n_members - 1: ``seed`` itself, then derived ones."""
    rng = np.random.RandomState(seed)
    derived = rng.randint(np.iinfo(np.int32).max, size=n_members - 1)
    return [int(seed), *(int(s) for s in derived)]


def _reset_parameters(module):
    """Draw new weights for every layer of ``module`` that can reset its own."""
    for layer in module.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()


def _cuda_indices(device):
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def _check_n_samples(est, n_samples, what=""):
    if n_samples < 2:
        raise ValueError(
            f"{type(est).__name__} needs at least 2 samples{what} to fit, got "
            f"n_samples={n_samples}."
        )


def _check_fit_sample_weight(sample_weight, X):
    """Sample weights as a float64 copy, or None; refuse what cannot weigh rows.

    scikit-learn's check refuses a wrong shape, non-finite and negative
    values; an all-zero (or underflowing) total is refused here.
    """
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, copy=True, ensure_non_negative=True
    )
    total = float(np.sum(sample_weight))
    if not total > 0 or not np.isfinite(total):
        raise ValueError(
            "sample_weight must have a positive finite sum: all weights are 0 "
            f"(or the sum is {total}), so no row would count in the fit."
        )
    return sample_weight


def _split_weights(sample_weight, train, held_out):
    """The sample weights of the training and held-out rows (None if none)."""
    if sample_weight is None:
        return None, None
    return sample_weight[train], None if held_out is None else sample_weight[held_out]


def _as_tensor(array, device):
    return None if array is None else torch.as_tensor(array, device=device)


def _n_rows(yt, sample_weight):
    """The training set's size N: rows, or the sum of the weights."""
    return len(yt) if sample_weight is None else float(np.sum(sample_weight))


def _architecture(module):
    """What warm starts keep: layer types, weight shapes, fixed dropout rates.

    Learned rates (ConcreteDropout layers) are weights, and go on training.
    """
    layers = [(name, type(m).__name__) for name, m in module.named_modules()]
    shapes = [(k, tuple(v.shape)) for k, v in module.state_dict().items()]
    rates = [m.p for m in _dropout_layers(module) if type(m) is nn.Dropout]
    rates += [m.rates for m in module.modules() if isinstance(m, _MemberDropout)]
    return layers, shapes, rates
