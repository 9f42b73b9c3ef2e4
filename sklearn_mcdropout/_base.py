"""What MCDropoutRegressor and MCDropoutClassifier share: fit, inputs, passes."""

import copy
import os
import sys
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real
from typing import ClassVar, NamedTuple

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
from ._members import (
    _batch_iterator,
    _build_members,
    _dropout_rates,
    _fixed_rates,
    _mean_over_members,
    _member_criterion,
)
from ._network import (
    _ACTIVATIONS,
    _build_mlp,
    _check_dropout_layers,
    _concrete_layers,
)
from ._persistence import _loaded_state, _restore_net, _saved_state
from ._selection import _choose, _recipe
from ._training import (
    _CosineLR,
    _EarlyStopping,
    _SampleWeighted,
    _TensorBatches,
    _training_target,
    _training_threads,
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


class _Rows(NamedTuple):
    """Rows of a fit: X and the encoded y as tensors, their sample weights."""

    X: torch.Tensor
    y: torch.Tensor
    sample_weight: np.ndarray | None

    def take(self, rows):
        """The rows ``rows`` (an index array) of these rows."""
        w = self.sample_weight
        return _Rows(self.X[rows], self.y[rows], None if w is None else w[rows])

    def n_train(self):
        """The training set's size N: rows, or the sum of the weights."""
        w = self.sample_weight
        return len(self.y) if w is None else float(np.sum(w))

    def join(self, other):
        """These rows followed by the rows ``other``, split from the same."""
        w = self.sample_weight
        w = None if w is None else np.concatenate([w, other.sample_weight])
        return _Rows(torch.cat([self.X, other.X]), torch.cat([self.y, other.y]), w)

    def split(self, fraction, rng):
        """These rows without a random ``fraction`` of them (at least one
        row), and that fraction: the training and the held-out rows."""
        n_samples = len(self.y)
        n_held_out = min(max(1, round(fraction * n_samples)), n_samples - 1)
        perm = rng.permutation(n_samples)
        train, held_out = np.sort(perm[n_held_out:]), np.sort(perm[:n_held_out])
        return self.take(train), self.take(held_out)


class _MCDropoutBase(BaseEstimator, metaclass=ABCMeta):
    """Fit, input validation and the Monte Carlo passes of both estimators.

    :meth:`_fit` is the one fit (``fit``, ``partial_fit``, warm starts): it
    validates X, y and the sample weights, trains the network with skorch on
    the training rows (:meth:`_train`: a new network, or the fitted one
    further) and draws the prediction masks, calling the hooks below, which
    differ between the estimators.

    Subclasses set the class attributes ``_net_class`` (a skorch net),
    ``_criterion`` (the default training criterion), ``_validation_callbacks``
    (the names of the net's default callbacks that score validation data),
    ``_no_epistemic_part`` (what a user loses without dropout) and
    ``_validate_y_kwargs`` (``validate_data``'s options for y), and define the
    abstract methods :meth:`_fit_transform_y`, :meth:`_n_network_outputs`,
    :meth:`_adapt_module_output` and :meth:`_resolve_weight_decay`. They may
    override :meth:`_criterion_params`, :meth:`_check_param_combinations`,
    :meth:`_needs_held_out` and :meth:`_fit_after_training`.
    """

    _parameter_constraints: dict = {  # noqa: RUF012 (extended by subclasses)
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "dropout": [
            Interval(Real, 0, 1, closed="left"),
            StrOptions({"auto", "concrete"}),
        ],
        "length_scale": [Interval(Real, 0, None, closed="neither")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "n_passes": [Interval(Integral, 1, None, closed="left")],
        "n_members": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "lr_schedule": [StrOptions({"auto", "constant", "cosine"})],
        "max_epochs": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
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
    # The most training rows on which max_epochs, lr and lr_schedule "auto"
    # train by the annealed budget (_selection._AUTO_TRAINING).
    _annealed_training_rows: ClassVar[int] = 0
    # The most training rows on which n_members="auto" trains five members
    # (_selection._AUTO_MEMBERS); one network on more. The regressor sets its own.
    _ensemble_training_rows: ClassVar[int] = 5_000

    # The hooks.

    @abstractmethod
    def _fit_transform_y(self, y, sample_weight, first=True, classes=None):
        """The training target as an array.

        On a first fit (``first``) it learns the target's encoding (the
        regressor's standardisation, the classifier's ``classes_``, from
        ``classes`` if given); continued training keeps it and checks ``y``
        against it.
        """

    @abstractmethod
    def _n_network_outputs(self):
        """The network's number of outputs once fitted (``_persistence`` rebuilds
        the network with it)."""

    @abstractmethod
    def _adapt_module_output(self, module, out_shape, n_outputs):
        """``module``, wrapped if needed so that it maps (n, n_features) to
        (n, n_outputs); a ValueError naming the shape if it cannot.

        ``out_shape`` is the shape of its output for n=2.
        """

    @abstractmethod
    def _resolve_weight_decay(self, module, n_train):
        """Adam's weight decay for one network ``module`` trained on N rows."""

    def _criterion_params(self, module):
        """The skorch net's criterion and its parameters, for ``module``."""
        return {"criterion": self._criterion}

    def _check_param_combinations(self):
        """Refuse parameters that are valid alone but not together."""
        # n_members="auto" is one network with learned rates (_selection).
        fixed_members = self.n_members not in ("auto", 1)
        if fixed_members and self.dropout == "concrete" and self.module is None:
            raise ValueError(
                "dropout='concrete' cannot go with n_members > 1: the members "
                "are trained as one batched network of fixed-rate dropout "
                "layers, and learned rates are not stacked. Use n_members=1 "
                "with dropout='concrete', or a fixed dropout rate with n_members="
                f"{self.n_members}."
            )

    def _fits_on_fresh_rows(self):
        """Whether fit, where it chooses on held-out rows, also sets apart
        fresh rows for :meth:`_fit_after_training` (``_selection``)."""
        return False

    def _needs_held_out(self):
        """Whether rows are held out: for early stopping, or what a subclass fits.

        Not after fit has chosen on held-out rows: the chosen model is then
        trained on all rows, or all but the fresh ones (``_selection``).
        """
        return self.early_stopping and "n_epochs" not in getattr(self, "_chosen", {})

    def _fit_after_training(self, held_out):
        """Fit what comes after training on the held-out ``_Rows`` (or None)."""

    def _noise_candidates(self):
        """The noise models fit may choose from (the regressor's; None here)."""
        return [None]

    @abstractmethod
    def _score_candidates(self, runner, masks, held_out, candidates):
        """Each candidate's held-out score (greater is better) and what it fits.

        ``runner`` runs the candidates, one member each; returns a list of
        (score, fitted values) per candidate (see ``_selection``).
        """

    def _resolved(self, name):
        """Parameter ``name`` for this fit: its value, or what fit chose for
        "auto" (``_chosen``; the parameter itself is never changed)."""
        value = getattr(self, name)
        return (
            getattr(self, "_chosen", {}).get(name, value) if value == "auto" else value
        )

    def _n_epochs(self, first):
        """Epochs of this fit: ``max_epochs``, or what fit chose on held-out
        rows (the best epoch when it stopped early)."""
        if first and "n_epochs" in self._chosen:
            return self._chosen["n_epochs"]
        return self._resolved("max_epochs")

    # The fit.

    def _fit(self, X, y, sample_weight=None, *, partial=False, classes=None):
        """Validate, train on the training rows, fit the rest; return self.

        A first fit builds the network and trains it for ``max_epochs``
        epochs (one with ``partial``); with ``warm_start`` or ``partial`` and
        a fitted network, training continues from it. A fit that raises
        leaves the estimator's attributes as they were before it (a fitted
        model stays usable after a refused refit).
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
        y = self._fit_transform_y(y, sample_weight, first=first, classes=classes)
        device = _check_device(self.device)
        self._check_param_combinations()
        mask_seed, torch_seed, batch_seed, rng = self._seeds()
        if not first:
            torch_seed, batch_seed, rng = self._continued_seeds(torch_seed, batch_seed)
            # Continued training keeps the first fit's rate and schedule; a
            # rate or schedule set to "auto" since then gets partial_fit's.
            self._chosen = {**_recipe(self), **getattr(self, "_chosen", {})}
        rows = _Rows(
            torch.as_tensor(X, device=device),
            torch.as_tensor(y, device=device),
            sample_weight,
        )
        seeds = (torch_seed, batch_seed)
        fresh = None
        if first:
            self._mask_seed = mask_seed
            # What "auto" leaves open is chosen on held-out rows (_selection).
            rest, fresh = _choose(self, rows, device, seeds, rng, partial)
        if fresh is not None:
            # The chosen model trained on all rows but the fresh ones, its
            # noise level fitted on them; then, where the candidates trained
            # on at most _refit_training_rows rows, trained on every row with it.
            self._train_and_fit_after(rest, None, fresh, device, seeds)
            if self._chosen["train_again"]:
                self._train_and_fit_after(rows, None, None, device, seeds)
        else:
            train, held_out = self._split_held_out(rows, rng)
            valid = held_out if self.early_stopping and held_out is not None else None
            self._train_and_fit_after(
                train, valid, held_out, device, seeds, first, partial
            )
        self._warn_if_no_epistemic_part()
        return self

    def _train_and_fit_after(
        self, train, valid, held_out, device, seeds, first=True, partial=False
    ):
        """Train (:meth:`_train`), draw the masks, fit on the held-out rows.

        The passes fitted on the held-out rows run on as many torch threads
        as training did (one for a small network, :func:`_training_threads`).
        """
        self._train(train, valid, device, seeds, first, partial)
        self.dropout_ = _dropout_rates(self.net_.module_)
        self._set_prediction_masks()
        self._set_training_attributes()
        with _training_threads(self.net_.module_, self.batch_size):
            self._fit_after_training(held_out)

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

    def _split_held_out(self, rows, rng):
        """Training and held-out ``_Rows``: the held-out rows only if needed.

        A fraction ``validation_fraction`` of the rows (at least one) is held
        out when ``_needs_held_out()``: for early stopping, and for what a
        subclass fits after training; else the held-out rows are None.
        """
        if not self._needs_held_out():
            return rows, None
        return rows.split(self.validation_fraction, rng)

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

    def _train(self, train, valid, device, seeds, first, partial):
        """Train a network on the ``_Rows`` ``train`` with skorch: the one routine.

        A first fit builds the network (or the members) and its net; a
        warm-started ``fit`` starts a new optimiser from the fitted weights,
        as MLPRegressor does, and the history goes on; ``partial_fit`` goes on
        with the fitted net and its optimiser's state. ``valid`` holds the
        held-out ``_Rows`` of early stopping (or None), ``seeds`` the torch and
        batch-order seeds. One epoch with ``partial``, else ``max_epochs``
        (what fit chose for "auto"; fewer with early stopping).
        """
        torch_seed, batch_seed = seeds
        n_train = train.n_train()
        # Initialisation and training dropout draw from torch's global RNG;
        # fork_rng restores the caller's state when training ends.
        with torch.random.fork_rng(devices=_cuda_indices(device)):
            torch.manual_seed(torch_seed)
            if first:
                n_outputs = self._n_network_outputs()
                module = self._build_module(
                    train.X.shape[1], n_outputs, device, torch_seed
                )
            else:
                self._check_same_architecture(device)
                module = self.net_.module_
            if partial and not first:
                net = self._continued_net(batch_seed)
            else:
                self.weight_decay_ = self._weight_decay(module, n_train)
                epochs = self._n_epochs(first)
                net = self._build_net(module, device, batch_seed, valid, epochs=epochs)
                net.initialize()
                if not first:
                    net.history = self.net_.history
            self._set_regulariser(net, train.X.shape[1], n_train)
            y = _training_target(net, train.y, train.sample_weight)
            epochs = 1 if partial else self._n_epochs(first)
            with _training_threads(net.module_, self.batch_size):
                net.partial_fit(train.X, y, epochs=epochs)
        self.net_ = net

    def _continued_net(self, batch_seed):
        """The fitted net, ready for one more epoch of ``partial_fit``.

        A fit with early stopping left its callback, whose held-out rows are
        gone; partial_fit (refused with early stopping) trains without it.
        """
        net = self.net_
        net.callbacks_ = [
            (name, cb) for name, cb in net.callbacks_ if name != "early_stopping"
        ]
        # skorch's set_params refuses iterator parameters once the net is
        # initialised; they need no reinitialisation.
        net.iterator_train__generator = _batch_iterator(net.module_, batch_seed)[1]
        return net

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
        stopping = dict(self.net_.callbacks_).get("early_stopping")
        if self.early_stopping and stopping is not None:
            self.validation_scores_ = [
                -float(h["valid_loss"]) for h in history if "valid_loss" in h
            ]
            # The best of this fit, whose weights are kept (a warm start may
            # follow a fit that scored better).
            self.best_validation_score_ = -float(stopping.best_loss_)
            self.best_loss_ = None
        elif self.early_stopping and "validation_scores" in self._chosen:
            # The chosen candidate's held-out losses while fit was choosing.
            scores = self._chosen["validation_scores"]
            self.validation_scores_ = list(scores)
            self.best_validation_score_ = max(scores)
            self.best_loss_ = min(self.loss_curve_, default=None)
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_, default=None)

    def _weight_decay(self, module, n_train):
        """The weight decay of ``module``: the members' mean for members."""
        return _mean_over_members(
            lambda network: self._resolve_weight_decay(network, n_train), module
        )

    def _build_module(self, n_features, n_outputs, device, seed=0):
        """The network, or with ``n_members > 1`` the members stacked as one.

        ``seed`` is the torch seed the caller has set; members draw theirs
        from it (``_members._build_members``).
        """
        modules, n_members = self.module, self._resolved("n_members")
        if isinstance(modules, list):
            if len(modules) != n_members or not all(
                isinstance(m, nn.Module) for m in modules
            ):
                raise ValueError(
                    "module as a list holds the members' networks: n_members="
                    f"{n_members} torch.nn.Module instances, got "
                    f"{[type(m).__name__ for m in modules]}."
                )
        else:
            modules = [self.module] * n_members
        return _build_members(
            lambda module: self._build_one(n_features, n_outputs, device, module),
            modules,
            seed,
            given_instance=isinstance(self.module, nn.Module),
        )

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
                n_features, sizes, self.activation, self._resolved("dropout"), n_outputs
            )
        elif isinstance(module, nn.Module):
            module = copy.deepcopy(module)
        else:
            module = module()
        _check_dropout_layers(module)
        module = module.to(device)
        with torch.no_grad():
            out = module.eval()(torch.zeros(2, n_features, device=device))
        return self._adapt_module_output(module, tuple(out.shape), n_outputs)

    def _build_net(
        self,
        module,
        device,
        seed,
        valid=None,
        criterion=None,
        stopping=None,
        epochs=None,
    ):
        """The skorch net training ``module``; early stopping on ``valid`` rows.

        ``valid`` is the ``_Rows`` held out for early stopping, or None;
        ``criterion`` the skorch criterion parameters (by default
        :meth:`_criterion_params`'s, weighted), ``stopping`` an early-stopping
        callback to use instead of the one ``valid`` makes, ``epochs`` the
        epochs it trains (``max_epochs`` by default).
        """
        max_epochs = self._resolved("max_epochs") if epochs is None else epochs
        # PrintLog tabulates every epoch even when silent; the validation
        # callbacks have no validation data here (and valid_acc's batch hook
        # would keep skorch's slower per-batch loop, see _training).
        quiet = {f"callbacks__{name}": None for name in self._validation_callbacks}
        if not self.verbose:
            quiet["callbacks__print_log"] = None
        callbacks = _check_callbacks(self.callbacks)
        if self._resolved("lr_schedule") == "cosine":
            callbacks.append(("lr_schedule", _CosineLR(max_epochs)))
        if valid is not None and stopping is None:
            weights = valid.sample_weight
            if weights is not None:
                weights = torch.as_tensor(weights, device=device)
            stopping = _EarlyStopping(
                valid.X, valid.y, weights, self.n_iter_no_change, self.tol
            )
        if stopping is not None:
            callbacks.append(("early_stopping", stopping))
        # The criterion's own parameters (criterion__beta) pass through the
        # weighting wrapper, which builds it; with members, the sum of the
        # members' weighted losses. Adam's L2 penalty applies to the weights:
        # not to the biases, the learned dropout rates or the learned noise
        # level (a parameter of the criterion).
        if criterion is None:
            criterion = self._criterion_params(module)
            criterion = {
                "criterion": _SampleWeighted,
                "criterion__criterion": criterion.pop("criterion"),
                **criterion,
            }
            criterion = _member_criterion(criterion, module)
        iterator, generator = _batch_iterator(module, seed)
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
            lr=self._resolved("lr"),
            callbacks=callbacks or None,
            max_epochs=max_epochs,
            batch_size=self.batch_size,
            iterator_train=iterator,
            iterator_train__shuffle=True,
            iterator_train__generator=generator,
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
        if self._masks.n_members == 1 and (
            self.n_passes == 1 or all(p == 0 for p in rates)
        ):
            _warn(
                "With n_passes=1 or all dropout rates 0 the passes do not vary: "
                f"{self._no_epistemic_part}"
            )

    def _set_prediction_masks(self):
        """Draw the prediction masks of the fitted network from ``_mask_seed``."""
        plan = _make_runner(self.net_.module_).plan(self.n_features_in_)
        self.n_members_ = self._resolved("n_members")
        self._masks = _Masks(plan, self._mask_seed, self.n_passes, self.n_members_)

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


def _architecture(module):
    """What warm starts keep: layer types, weight shapes, fixed dropout rates.

    Learned rates (ConcreteDropout layers) are weights, and go on training.
    """
    layers = [(name, type(m).__name__) for name, m in module.named_modules()]
    shapes = [(k, tuple(v.shape)) for k, v in module.state_dict().items()]
    return layers, shapes, _fixed_rates(module)
