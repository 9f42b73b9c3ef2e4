"""Scorers that see the predictive std or the class probabilities."""

import inspect
import warnings

from ._classification import brier_score, expected_calibration_error
from ._regression import (
    coverage_calibration_error,
    crps_gaussian,
    gaussian_nll,
    interval_coverage,
)
from ._validation import _predict_mean_std


def _abs_coverage_error(y_true, y_mean, y_std, *, confidence=0.95):
    """Absolute gap between observed and nominal coverage of one interval."""
    return abs(
        interval_coverage(y_true, y_mean, y_std, confidence=confidence) - confidence
    )


def _accepts_sample_weight(func):
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return "sample_weight" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


class _StdScorer:
    """Scorer evaluating ``score_func`` on ``predict(X, return_std=True)``.

    Parameters
    ----------
    score_func : callable
        Function ``score_func(y_true, y_mean, y_std, **kwargs)`` returning a
        float.

    sign : {1, -1}
        Multiplier of the score; -1 turns a loss into a greater-is-better
        score.

    kwargs : dict
        Extra keyword arguments passed to ``score_func``.
    """

    def __init__(self, score_func, sign, kwargs):
        self._score_func = score_func
        self._sign = sign
        self._kwargs = dict(kwargs)

    def __call__(self, estimator, X, y_true, sample_weight=None):
        """Score ``estimator`` on ``X`` against ``y_true``.

        Parameters
        ----------
        estimator : object
            Fitted estimator (or pipeline) whose ``predict`` accepts
            ``return_std=True`` and then returns ``(y_mean, y_std)``.

        X : array-like of shape (n_samples, n_features)
            Test input samples.

        y_true : array-like of shape (n_samples,)
            Observed target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, passed to ``score_func`` if it accepts them;
            otherwise ignored with a warning.

        Returns
        -------
        score : float
            ``sign * score_func(y_true, y_mean, y_std, **kwargs)``.
        """
        y_mean, y_std = _predict_mean_std(estimator, X)
        kwargs = dict(self._kwargs)
        if sample_weight is not None:
            if _accepts_sample_weight(self._score_func):
                kwargs["sample_weight"] = sample_weight
            else:
                warnings.warn(
                    f"{self._func_name} does not accept sample_weight; "
                    "sample_weight is ignored.",
                    UserWarning,
                    stacklevel=2,
                )
        return self._sign * self._score_func(y_true, y_mean, y_std, **kwargs)

    @property
    def _func_name(self):
        return getattr(self._score_func, "__name__", repr(self._score_func))

    def __repr__(self):
        args = [self._func_name]
        if self._sign < 0:
            args.append("greater_is_better=False")
        args.extend(f"{key}={value!r}" for key, value in self._kwargs.items())
        return f"make_std_scorer({', '.join(args)})"


def make_std_scorer(score_func, *, greater_is_better=True, **kwargs):
    """Make a scorer from a metric of the predictive mean and std.

    Scikit-learn's :func:`~sklearn.metrics.make_scorer` calls ``predict(X)``,
    which returns only the mean. The scorer made here calls
    ``estimator.predict(X, return_std=True)`` and evaluates
    ``score_func(y_true, y_mean, y_std, **kwargs)``. It can be passed as
    ``scoring`` to :class:`~sklearn.model_selection.GridSearchCV`,
    :func:`~sklearn.model_selection.cross_val_score` or
    :func:`~sklearn.model_selection.cross_validate`, also as a value of a
    ``scoring`` dict, and works with a
    :class:`~sklearn.pipeline.Pipeline` whose last step's ``predict`` accepts
    ``return_std``.

    Parameters
    ----------
    score_func : callable
        Metric with signature ``score_func(y_true, y_mean, y_std, **kwargs)``
        returning a float. If it has a ``sample_weight`` parameter, the
        scorer forwards sample weights to it.

    greater_is_better : bool, default=True
        Whether ``score_func`` is a score (greater is better) or a loss. For a
        loss the scorer returns its negative, so that the scorer's output is
        always greater-is-better.

    **kwargs : dict
        Additional keyword arguments passed to ``score_func``.

    Returns
    -------
    scorer : callable
        Callable ``scorer(estimator, X, y_true, sample_weight=None)``
        returning a float.

    See Also
    --------
    sklearn.metrics.make_scorer : Scorer from a metric of point predictions.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn_mcdropout.metrics import interval_coverage, make_std_scorer
    >>> coverage_90 = make_std_scorer(interval_coverage, confidence=0.9)
    >>> coverage_90
    make_std_scorer(interval_coverage, confidence=0.9)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X.sum(axis=1) + rng.normal(size=200)
    >>> scores = cross_val_score(BayesianRidge(), X, y, scoring=coverage_90)
    >>> round(float(scores.mean()), 1)
    0.9
    """
    if not callable(score_func):
        raise ValueError(f"score_func must be callable, got {score_func!r}")
    return _StdScorer(score_func, -1 if not greater_is_better else 1, kwargs)


_SCORER_EXAMPLE = """
Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import BayesianRidge
>>> from sklearn.model_selection import cross_val_score
>>> from sklearn_mcdropout.metrics import {name}
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(60, 2))
>>> y = X @ [1.0, -2.0] + rng.normal(scale=0.5, size=60)
>>> scores = cross_val_score(BayesianRidge(), X, y, cv=3, scoring={name})
>>> scores.shape, bool(np.all(scores <= 0))
((3,), True)
"""


def _scorer(score_func, doc, name, **kwargs):
    scorer = make_std_scorer(score_func, greater_is_better=False, **kwargs)
    scorer.__doc__ = doc + _SCORER_EXAMPLE.format(name=name)
    return scorer


neg_gaussian_nll_scorer = _scorer(
    gaussian_nll,
    """Scorer returning ``-gaussian_nll``.

Use as ``GridSearchCV(pipe, grid, scoring=neg_gaussian_nll_scorer)``, or in a
dict ``scoring={"nll": neg_gaussian_nll_scorer, ...}`` with ``refit="nll"``.
""",
    "neg_gaussian_nll_scorer",
)

neg_crps_scorer = _scorer(
    crps_gaussian,
    """Scorer returning ``-crps_gaussian``.

Use as ``GridSearchCV(pipe, grid, scoring=neg_crps_scorer)``, or in a
dict ``scoring={"crps": neg_crps_scorer, ...}`` with ``refit="crps"``.
""",
    "neg_crps_scorer",
)

neg_calibration_error_scorer = _scorer(
    coverage_calibration_error,
    """Scorer returning minus the calibration error.

It returns ``-coverage_calibration_error(y_true, y_mean, y_std)``.

Use as ``GridSearchCV(pipe, grid, scoring=neg_calibration_error_scorer)``, or
in a ``scoring`` dict. Calibration alone ignores sharpness; prefer refitting on
a proper score such as ``neg_gaussian_nll_scorer``.
""",
    "neg_calibration_error_scorer",
)

neg_coverage_error_scorer = _scorer(
    _abs_coverage_error,
    """Scorer returning ``-|coverage - 0.95|``.

``coverage`` is ``interval_coverage(y_true, y_mean, y_std, confidence=0.95)``.
Use as ``GridSearchCV(pipe, grid, scoring=neg_coverage_error_scorer)``, or in a
``scoring`` dict.
""",
    "neg_coverage_error_scorer",
    confidence=0.95,
)


class _ProbaScorer:
    """Scorer evaluating ``score_func(y, predict_proba(X), labels=classes_)``."""

    def __init__(self, score_func, name):
        self._score_func = score_func
        self._name = name

    def __call__(self, estimator, X, y_true, sample_weight=None):
        """Minus ``score_func`` of ``estimator.predict_proba(X)``.

        Parameters
        ----------
        estimator : object
            Fitted classifier (or pipeline) with ``predict_proba`` and
            ``classes_``.

        X : array-like of shape (n_samples, n_features)
            Test input samples.

        y_true : array-like of shape (n_samples,)
            True labels.

        sample_weight : None
            Not supported; a value other than None raises.

        Returns
        -------
        score : float
            ``-score_func(y_true, y_proba, labels=estimator.classes_)``.
        """
        if sample_weight is not None:
            raise ValueError(f"{self._name} does not support sample_weight")
        y_proba = estimator.predict_proba(X)
        return -self._score_func(y_true, y_proba, labels=estimator.classes_)

    def __repr__(self):
        return self._name


_PROBA_SCORER_EXAMPLE = """
Examples
--------
>>> import numpy as np
>>> from sklearn.datasets import load_iris
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.model_selection import cross_val_score
>>> from sklearn_mcdropout.metrics import {name}
>>> X, y = load_iris(return_X_y=True)
>>> clf = LogisticRegression(max_iter=1000)
>>> scores = cross_val_score(clf, X, y, cv=3, scoring={name})
>>> scores.shape, bool(np.all(scores <= 0))
((3,), True)
"""


def _proba_scorer(score_func, doc, name):
    scorer = _ProbaScorer(score_func, name)
    scorer.__doc__ = doc + _PROBA_SCORER_EXAMPLE.format(name=name)
    return scorer


neg_brier_score_scorer = _proba_scorer(
    brier_score,
    """Scorer returning ``-brier_score`` of ``predict_proba``, for classifiers.

The columns are labelled with the estimator's ``classes_``, so a test fold
may lack some classes. Use as ``GridSearchCV(clf, grid,
scoring=neg_brier_score_scorer)``, or in a ``scoring`` dict.
""",
    "neg_brier_score_scorer",
)

neg_expected_calibration_error_scorer = _proba_scorer(
    expected_calibration_error,
    """Scorer returning ``-expected_calibration_error`` of ``predict_proba``.

For classifiers; 15 confidence bins. Calibration alone ignores accuracy:
report it beside ``"neg_log_loss"`` or ``neg_brier_score_scorer`` and refit on
one of those.
""",
    "neg_expected_calibration_error_scorer",
)
