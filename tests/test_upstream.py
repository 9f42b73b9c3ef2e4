"""Private upstream helpers the package relies on still behave as it assumes.

scikit-learn's ``_fit_context`` and ``_param_validation`` and skorch's training
epoch are private or undocumented in detail; each test here pins the part of
their behaviour the package depends on and, when it fails, says what changed
upstream and what in this package to re-check.
"""

import ast
import hashlib
import inspect
import textwrap
from numbers import Integral, Real

import numpy as np
import pytest
import sklearn
import skorch
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)
from skorch import NeuralNetRegressor
from skorch.net import NeuralNet

from sklearn_mcdropout import MCDropoutClassifier, MCDropoutRegressor
from sklearn_mcdropout._training import _RegressorNet

_VERSIONS = f"scikit-learn {sklearn.__version__}, skorch {skorch.__version__}"


class _Toy(BaseEstimator):
    """An estimator built as MCDropoutRegressor is: constraints, _fit_context."""

    _parameter_constraints: dict = {  # noqa: RUF012
        "n": [Interval(Integral, 1, None, closed="left")],
        "kind": [StrOptions({"a", "b"})],
    }

    def __init__(self, n=1, kind="a", unlisted=None):
        self.n = n
        self.kind = kind
        self.unlisted = unlisted

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the configuration seen inside fit."""
        self.skip_inside_ = sklearn.get_config()["skip_parameter_validation"]
        return self


def test_fit_context_validates_before_fit_and_skips_nested_validation():
    recheck = (
        f"sklearn.base._fit_context changed in {_VERSIONS}: re-check that "
        "MCDropoutRegressor.fit and MCDropoutClassifier.fit (decorated with "
        "@_fit_context(prefer_skip_nested_validation=True)) still validate "
        "their parameters before any work, or validate them explicitly there."
    )
    toy = _Toy(n=0)
    with pytest.raises(InvalidParameterError):
        toy.fit(None)
    assert not hasattr(toy, "skip_inside_"), f"{recheck} (fit ran first)"

    toy = _Toy(n=2).fit(None)
    assert toy.skip_inside_ is True, f"{recheck} (nested validation not skipped)"
    assert sklearn.get_config()["skip_parameter_validation"] is False, (
        f"{recheck} (the configuration is not restored after fit)"
    )
    # numpydoc and the API pages read the decorated method's name and docstring.
    assert _Toy.fit.__name__ == "fit", recheck
    assert _Toy.fit.__doc__.startswith("Record the configuration"), recheck
    assert MCDropoutRegressor.fit.__doc__.startswith("Fit the network"), recheck

    # The package's own fits: the parameter error comes before the NaN in X.
    X, y = [[np.nan], [0.0]], [0.0, 1.0]
    for estimator in (MCDropoutRegressor(dropout=1.0), MCDropoutClassifier(lr=0)):
        with pytest.raises(InvalidParameterError):
            estimator.fit(X, y)


def test_parameter_constraints_are_validated_by_name():
    recheck = (
        f"BaseEstimator._validate_params changed in {_VERSIONS}: re-check "
        "_parameter_constraints in sklearn_mcdropout/_base.py, _regressor.py "
        "and _classifier.py."
    )
    with pytest.raises(InvalidParameterError, match="'kind' parameter of _Toy"):
        _Toy(kind="c")._validate_params()
    # Unlisted parameters are not validated at all ...
    _Toy(unlisted=object())._validate_params()
    # ... so every constructor parameter of the package's estimators is listed.
    for cls in (MCDropoutRegressor, MCDropoutClassifier):
        assert set(cls().get_params()) == set(cls._parameter_constraints), (
            f"{cls.__name__}: a constructor parameter has no entry in "
            "_parameter_constraints, and scikit-learn skips it silently."
        )
        try:
            cls()._validate_params()
        except InvalidParameterError as exc:  # pragma: no cover
            pytest.fail(f"{recheck} The defaults no longer validate: {exc}")
    # The README promises a ValueError or a TypeError.
    assert issubclass(InvalidParameterError, ValueError), recheck
    assert issubclass(InvalidParameterError, TypeError), recheck


_REJECTED = [
    ("hidden_layer_sizes", 0),
    ("hidden_layer_sizes", "wide"),
    ("dropout", 1.0),
    ("dropout", -0.1),
    ("dropout", np.nan),
    ("dropout", "0.1"),
    ("activation", "sigmoid"),
    ("n_passes", 0),
    ("n_passes", 2.5),
    ("lr", 0.0),
    ("lr", np.inf),
    ("lr_schedule", "step"),
    ("max_epochs", 0),
    ("batch_size", 0),
    ("callbacks", "print"),
    ("device", 3),
    ("pass_dtype", "float16"),
    ("random_state", "seed"),
    ("verbose", -1),
    ("module", "mlp"),
    ("weight_decay", -1e-4),
]
_REJECTED_REGRESSOR = [
    ("tau", 0.0),
    ("tau", -1.0),
    ("tau", "fixed"),
    ("weight_decay", "manual"),
    ("length_scale", 0.0),
    ("validation_fraction", 0.0),
    ("validation_fraction", 1.0),
]
_ACCEPTED = {
    "hidden_layer_sizes": [(8, 8), [4], np.array([3]), 8, np.int64(2)],
    "dropout": [0, 0.0, 0.999],
    "n_passes": [1, np.int64(3)],
    "callbacks": [None, []],
    "device": ["cpu", torch.device("cpu")],
    "module": [None, torch.nn.Sequential(torch.nn.Dropout()), torch.nn.Sequential],
    "random_state": [None, 0, np.random.RandomState(0)],
    "verbose": [0, 2, False],
    "weight_decay": [0, 1e-4],
}


@pytest.mark.parametrize(
    ("cls", "name", "value"),
    [(cls, *case) for cls in (MCDropoutRegressor, MCDropoutClassifier)
     for case in _REJECTED]
    + [(MCDropoutRegressor, *case) for case in _REJECTED_REGRESSOR]
    + [(MCDropoutClassifier, "weight_decay", "auto")],
)  # fmt: skip
def test_interval_and_stroptions_reject_what_the_estimators_rely_on(cls, name, value):
    pattern = f"The '{name}' parameter of {cls.__name__} must be"
    try:
        cls(**{name: value})._validate_params()
    except InvalidParameterError as exc:
        error = str(exc)
    else:
        error = "no error"
    assert error.startswith(pattern), (
        f"sklearn.utils._param_validation (Interval, StrOptions or a named "
        f"constraint) no longer rejects {name}={value!r} with '{pattern} ...' "
        f"in {_VERSIONS} (got: {error}). The estimators rely on it to refuse "
        f"this value before training: re-check {cls.__name__}."
        "_parameter_constraints and the README's list of errors."
    )


@pytest.mark.parametrize("cls", [MCDropoutRegressor, MCDropoutClassifier])
def test_param_validation_accepts_what_the_estimators_allow(cls):
    cases = {**_ACCEPTED}
    if cls is MCDropoutRegressor:
        cases.update(tau=["auto", 1e-3], weight_decay=[0, 1e-4, "auto"])
    for name, values in cases.items():
        for value in values:
            try:
                cls(**{name: value})._validate_params()
            except InvalidParameterError as exc:
                pytest.fail(
                    f"sklearn.utils._param_validation now rejects {name}="
                    f"{value!r} in {_VERSIONS}: {exc}. Re-check "
                    f"{cls.__name__}._parameter_constraints."
                )
    # Interval semantics: an int is a Real, a float is not an Integral.
    assert Interval(Real, 0, 1, closed="left").is_satisfied_by(0)
    assert not Interval(Integral, 1, None, closed="left").is_satisfied_by(1.0)


class _Spy:
    """Mixin recording the steps of a skorch training epoch, in order."""

    def initialize(self):
        super().initialize()
        self.events = []
        self.optimizer_.register_step_post_hook(
            lambda *args: self.events.append("step")
        )
        history = self.history
        for method in ("new_batch", "record_batch", "record"):
            original = getattr(history, method)

            def spied(*args, _original=original, _method=method):
                label = _method if _method == "new_batch" else f"{_method}:{args[0]}"
                self.events.append(label)
                return _original(*args)

            setattr(history, method, spied)
        return self

    def notify(self, method_name, **cb_kwargs):
        self.events.append(f"notify:{method_name}")
        return super().notify(method_name, **cb_kwargs)

    def _zero_grad_optimizer(self, set_to_none=None):
        self.events.append("zero_grad")
        return super()._zero_grad_optimizer(set_to_none)

    def infer(self, x, **fit_params):
        self.events.append(f"infer:training={self.module_.training}")
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        self.events.append("get_loss")
        loss.register_hook(lambda grad: self.events.append("backward"))
        return loss


class _SpySkorch(_Spy, NeuralNetRegressor):
    pass


class _SpyLean(_Spy, _RegressorNet):
    pass


def _spy_fit(net_class):
    X = torch.linspace(-1, 1, 30).reshape(10, 3)
    y = X.sum(axis=1, keepdim=True)
    torch.manual_seed(0)
    net = net_class(
        torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Dropout(0.5),
                            torch.nn.Linear(4, 1)),
        optimizer=torch.optim.Adam,
        max_epochs=2,
        batch_size=4,
        train_split=None,
        iterator_train__shuffle=False,
        verbose=0,
    )  # fmt: skip
    return net.fit(X, y)


def test_skorch_epoch_steps_are_those_lean_epochs_mirror():
    skorch_net = _spy_fit(_SpySkorch)
    lean_net = _spy_fit(_SpyLean)
    assert lean_net._lean_step(lean_net.train_step), "the lean loop was not taken"
    hooks = {f"notify:{h}" for h in ("on_batch_begin", "on_grad_computed",
                                     "on_batch_end")}  # fmt: skip
    expected = [e for e in skorch_net.events if e not in hooks]
    one_batch = ["new_batch", "zero_grad", "infer:training=True", "get_loss",
                 "backward", "step", "record_batch:train_loss",
                 "record_batch:train_batch_size"]  # fmt: skip
    assert skorch_net.events.count("notify:on_batch_begin") == 2 * 3
    assert one_batch in [expected[i : i + 8] for i in range(len(expected))], (
        f"skorch {skorch.__version__} no longer trains a batch as "
        f"{one_batch} (plus the hooks): re-check "
        "_LeanEpochs.run_single_epoch in sklearn_mcdropout/_training.py."
    )
    assert lean_net.events == expected, (
        f"skorch {skorch.__version__}'s training epoch makes other calls than "
        "_LeanEpochs.run_single_epoch (sklearn_mcdropout/_training.py), "
        f"hooks aside:\nskorch: {expected}\nlean:   {lean_net.events}\nMirror "
        "the new steps there, or let it defer to skorch's loop."
    )
    for key in ("train_loss", "train_batch_count"):
        assert lean_net.history[:, key] == skorch_net.history[:, key]


# sha256 of the AST (docstring dropped) of the skorch methods that
# _LeanEpochs.run_single_epoch replaces or calls in place of skorch's loop;
# the same in every skorch release from 1.0.0 to 1.4.0.
_SKORCH_SOURCES = {
    "run_single_epoch": "03ed1cf09042",
    "train_step": "bb3357bb7a67",
    "train_step_single": "3ca2bccb2fbe",
    "_zero_grad_optimizer": "ab68bef0b42e",
    "_step_optimizer": "42f3afe5aebe",
    "on_batch_begin": "49168eefc3f6",
    "on_batch_end": "244b5bc0c554",
    "on_grad_computed": "47cdf4448aa6",
}


def _source_hash(function):
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    node = tree.body[0]
    if ast.get_docstring(node) is not None:
        node.body = node.body[1:]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:12]


@pytest.mark.parametrize("name", list(_SKORCH_SOURCES))
def test_skorch_epoch_sources_are_the_ones_lean_epochs_mirror(name):
    found = _source_hash(getattr(NeuralNet, name))
    assert found == _SKORCH_SOURCES[name], (
        f"skorch {skorch.__version__} changed NeuralNet.{name} (AST hash "
        f"{found}, known {_SKORCH_SOURCES[name]}). _LeanEpochs.run_single_epoch "
        "in sklearn_mcdropout/_training.py mirrors skorch's training epoch: "
        "read the new source, mirror any new step there (or defer to skorch), "
        "and then record the new hash here."
    )
