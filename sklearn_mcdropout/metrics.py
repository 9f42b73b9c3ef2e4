"""Metrics and scorers for probabilistic regression and classification.

The functions in this module score a Gaussian predictive distribution
``N(y_mean, y_std**2)`` per sample, as returned by
``MCDropoutRegressor.predict(X, return_std=True)`` (or by any regressor whose
``predict`` accepts ``return_std``, such as
:class:`~sklearn.linear_model.BayesianRidge` or
:class:`~sklearn.gaussian_process.GaussianProcessRegressor`):

- proper scoring rules: :func:`gaussian_nll`, :func:`crps_gaussian` and
  :func:`mc_log_likelihood` (the Monte Carlo test log-likelihood of
  Gal & Ghahramani (2016), computed from the individual stochastic passes);
- interval diagnostics: :func:`interval_coverage`, :func:`mean_interval_width`;
- calibration diagnostics: :func:`coverage_curve`,
  :func:`coverage_calibration_error`.

For classification, as returned by ``MCDropoutClassifier.predict_proba`` and
``predict_proba_passes``:

- uncertainty of a prediction from its passes: :func:`predictive_entropy`,
  :func:`expected_entropy` (aleatoric), :func:`mutual_information`
  (epistemic, BALD) and :func:`variation_ratio`;
- scores of class probabilities: :func:`brier_score` and
  :func:`expected_calibration_error`; the negative log-likelihood is
  scikit-learn's :func:`~sklearn.metrics.log_loss` (scorer ``"neg_log_loss"``).

Scorers
-------
Scikit-learn's own scorers call ``predict(X)`` and so never see the predictive
standard deviation. The scorers below call ``estimator.predict(X,
return_std=True)`` instead; this also works for a
:class:`~sklearn.pipeline.Pipeline` whose last step accepts ``return_std``,
since the pipeline forwards the keyword to it. Like all scikit-learn scorers,
greater is better, so losses are negated:

- ``neg_gaussian_nll_scorer``: ``-gaussian_nll``;
- ``neg_crps_scorer``: ``-crps_gaussian``;
- ``neg_calibration_error_scorer``: ``-coverage_calibration_error``;
- ``neg_coverage_error_scorer``: ``-|interval_coverage(confidence=0.95) - 0.95|``;
- for classifiers, ``neg_brier_score_scorer`` and
  ``neg_expected_calibration_error_scorer`` call ``predict_proba``.

Pass one as ``scoring`` to :class:`~sklearn.model_selection.GridSearchCV`,
:func:`~sklearn.model_selection.cross_val_score` or
:func:`~sklearn.model_selection.cross_validate`, e.g.
``GridSearchCV(pipe, grid, scoring=neg_gaussian_nll_scorer)``, or several as a
dict, e.g. ``scoring={"nll": neg_gaussian_nll_scorer, "crps":
neg_crps_scorer}`` together with ``refit="nll"``. Build others with
:func:`make_std_scorer`.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import BayesianRidge
>>> from sklearn.model_selection import GridSearchCV
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from sklearn_mcdropout.metrics import neg_crps_scorer, neg_gaussian_nll_scorer
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(60, 2))
>>> y = X @ np.array([1.0, -2.0]) + rng.normal(scale=0.5, size=60)
>>> pipe = make_pipeline(StandardScaler(), BayesianRidge())
>>> search = GridSearchCV(
...     pipe,
...     {"bayesianridge__alpha_init": [None, 1e-3]},
...     scoring={"nll": neg_gaussian_nll_scorer, "crps": neg_crps_scorer},
...     refit="nll",
... ).fit(X, y)
>>> sorted(k for k in search.cv_results_ if k.startswith("mean_test"))
['mean_test_crps', 'mean_test_nll']
"""

import inspect
import numbers
import warnings

import numpy as np
from scipy.special import entr, logsumexp
from scipy.stats import norm
from sklearn.utils import check_consistent_length
from sklearn.utils.validation import check_array, column_or_1d

__all__ = [
    "brier_score",
    "coverage_calibration_error",
    "coverage_curve",
    "crps_gaussian",
    "expected_calibration_error",
    "expected_entropy",
    "gaussian_nll",
    "interval_coverage",
    "make_std_scorer",
    "mc_log_likelihood",
    "mean_interval_width",
    "mutual_information",
    "neg_brier_score_scorer",
    "neg_calibration_error_scorer",
    "neg_coverage_error_scorer",
    "neg_crps_scorer",
    "neg_expected_calibration_error_scorer",
    "neg_gaussian_nll_scorer",
    "predictive_entropy",
    "variation_ratio",
]

_DEFAULT_CONFIDENCES = np.linspace(0.05, 0.95, 19)


def _check_1d(values, name):
    """Return ``values`` as a finite, non-empty float64 1d array."""
    arr = check_array(
        values, ensure_2d=False, dtype=np.float64, input_name=name, allow_nd=True
    )
    if not (arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1)):
        raise ValueError(
            f"{name} must be 1d of shape (n_samples,), got shape {arr.shape}"
        )
    return column_or_1d(arr, dtype=np.float64, input_name=name)


def _check_std(y_std):
    y_std = _check_1d(y_std, "y_std")
    if np.any(y_std <= 0):
        raise ValueError("y_std must be positive")
    return y_std


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return None
    sample_weight = _check_1d(sample_weight, "sample_weight")
    if sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {sample_weight.shape[0]} samples, expected {n_samples}"
        )
    if np.any(sample_weight < 0):
        raise ValueError("sample_weight must be non-negative")
    if not sample_weight.sum() > 0:
        raise ValueError("sample_weight must have a positive sum")
    return sample_weight


def _check_gaussian_inputs(y_true, y_mean, y_std, sample_weight=None):
    """Validate ``(y_true, y_mean, y_std[, sample_weight])``, all 1d float64."""
    y_true = _check_1d(y_true, "y_true")
    y_mean = _check_1d(y_mean, "y_mean")
    y_std = _check_std(y_std)
    check_consistent_length(y_true, y_mean, y_std)
    sample_weight = _check_sample_weight(sample_weight, y_true.shape[0])
    return y_true, y_mean, y_std, sample_weight


def _check_confidence(confidence):
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, numbers.Real)
        or not 0.0 < confidence < 1.0
    ):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return float(confidence)


def _check_confidences(confidences):
    if confidences is None:
        return _DEFAULT_CONFIDENCES.copy()
    confidences = _check_1d(confidences, "confidences")
    if np.any((confidences <= 0) | (confidences >= 1)):
        raise ValueError("confidences must be in (0, 1)")
    return confidences.copy()


def _check_tau(tau):
    if (
        isinstance(tau, bool)
        or not isinstance(tau, numbers.Real)
        or not np.isfinite(tau)
        or tau <= 0
    ):
        raise ValueError(f"tau must be a positive finite scalar, got {tau!r}")
    return float(tau)


def _mean(values, sample_weight):
    return float(np.average(values, weights=sample_weight))


def _half_width_factor(confidence):
    # Central interval m ± z s with z = Φ^{-1}((1 + c) / 2).
    return norm.ppf(0.5 + 0.5 * np.asarray(confidence, dtype=np.float64))


def _observed_coverage(y_true, y_mean, y_std, confidences):
    """Observed coverage of the central intervals, one per confidence level."""
    z = _half_width_factor(np.atleast_1d(confidences))
    inside = np.abs(y_true - y_mean)[:, np.newaxis] <= y_std[:, np.newaxis] * z
    return inside.mean(axis=0)


def _crps(y_true, y_mean, y_std):
    # Closed-form CRPS of N(m, s^2) at y (Gneiting & Raftery 2007, Sect. 4.2),
    # negatively oriented: s [z (2Φ(z) - 1) + 2φ(z) - 1/√π], z = (y - m) / s.
    z = (y_true - y_mean) / y_std
    return y_std * (
        z * (2.0 * norm.cdf(z) - 1.0) + 2.0 * norm.pdf(z) - 1 / np.sqrt(np.pi)
    )


def _abs_coverage_error(y_true, y_mean, y_std, *, confidence=0.95):
    """Absolute gap between observed and nominal coverage of one interval."""
    return abs(
        interval_coverage(y_true, y_mean, y_std, confidence=confidence) - confidence
    )


def gaussian_nll(y_true, y_mean, y_std, *, sample_weight=None):
    """Mean negative log predictive density of a Gaussian prediction.

    For each sample the predictive distribution is ``N(y_mean, y_std**2)`` and
    its negative log density at ``y_true`` is
    ``0.5 * log(2 * pi * y_std**2) + (y_true - y_mean)**2 / (2 * y_std**2)``.
    Lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed target values.

    y_mean : array-like of shape (n_samples,)
        Predictive means.

    y_std : array-like of shape (n_samples,)
        Predictive standard deviations, all strictly positive.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights. If None, samples are weighted equally.

    Returns
    -------
    nll : float
        The (weighted) mean negative log predictive density.

    See Also
    --------
    mc_log_likelihood : Test log-likelihood of the Monte Carlo mixture.
    crps_gaussian : Continuous ranked probability score of a Gaussian.

    Notes
    -----
    The negative log-likelihood is a strictly proper scoring rule: it is
    minimised in expectation by the true predictive distribution. It penalises
    overconfident predictions (too small ``y_std``) much more heavily than
    :func:`crps_gaussian` does.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import gaussian_nll
    >>> round(gaussian_nll([0.0, 1.0], [0.0, 0.0], [1.0, 1.0]), 3)
    1.169
    >>> round(gaussian_nll([0.0, 1.0], [0.0, 0.0], [1.0, 0.5]), 3)
    1.572
    """
    y_true, y_mean, y_std, sample_weight = _check_gaussian_inputs(
        y_true, y_mean, y_std, sample_weight
    )
    return -_mean(norm.logpdf(y_true, loc=y_mean, scale=y_std), sample_weight)


def mc_log_likelihood(y_true, y_passes, tau):
    """Monte Carlo dropout test log-likelihood.

    The predictive distribution of MC dropout is the mixture of the ``T``
    Gaussians ``N(y_t, 1 / tau)``, one per stochastic forward pass ``t``. This
    returns its log density at ``y_true``, averaged over samples::

        mean_i [logsumexp_t(log N(y_i; y_it, 1 / tau)) - log T]

    which is eq. (8) of Gal & Ghahramani (2016). Greater is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed target values.

    y_passes : array-like of shape (n_samples, n_passes)
        Predictions of the stochastic forward passes, one column per pass
        (the orientation of
        :meth:`~sklearn.gaussian_process.GaussianProcessRegressor.sample_y`).

    tau : float
        Model precision, the inverse of the observation noise variance;
        strictly positive.

    Returns
    -------
    log_likelihood : float
        The mean test log-likelihood.

    See Also
    --------
    gaussian_nll : Negative log density of a single Gaussian prediction.

    Notes
    -----
    Unlike ``-gaussian_nll(y_true, y_passes.mean(1), y_std)``, which moment
    matches the mixture with one Gaussian, this scores the mixture itself. In
    Gal & Ghahramani (2016) the precision is ``tau = p * l**2 / (2 * N *
    lambda)`` for keep probability ``p``, prior length-scale ``l``, ``N``
    training samples and weight decay ``lambda``; in practice it is often tuned
    on validation data. The log-sum-exp is evaluated stably with
    :func:`scipy.special.logsumexp`.

    References
    ----------
    .. [1] Y. Gal and Z. Ghahramani, "Dropout as a Bayesian Approximation:
       Representing Model Uncertainty in Deep Learning", Proceedings of the
       33rd International Conference on Machine Learning (ICML), 2016.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import mc_log_likelihood
    >>> y_passes = [[0.9, 1.1, 1.0], [2.2, 1.8, 2.1]]
    >>> round(mc_log_likelihood([1.0, 2.0], y_passes, tau=4.0), 3)
    -0.262
    """
    y_true = _check_1d(y_true, "y_true")
    y_passes = check_array(y_passes, dtype=np.float64, input_name="y_passes")
    tau = _check_tau(tau)
    check_consistent_length(y_true, y_passes)
    n_passes = y_passes.shape[1]
    # Gal & Ghahramani (2016), eq. (8):
    # logsumexp_t(-tau/2 ||y - y_t||^2) - log T - 1/2 log(2 pi) + 1/2 log(tau).
    log_density = norm.logpdf(
        y_true[:, np.newaxis], loc=y_passes, scale=1.0 / np.sqrt(tau)
    )
    per_sample = logsumexp(log_density, axis=1) - np.log(n_passes)
    return float(per_sample.mean())


def crps_gaussian(y_true, y_mean, y_std, *, sample_weight=None):
    """Mean continuous ranked probability score of a Gaussian prediction.

    The CRPS of a predictive CDF ``F`` at ``y`` is
    ``integral (F(x) - 1{x >= y})**2 dx``. For ``F = N(m, s**2)`` it has the
    closed form ``s * [z * (2 * Phi(z) - 1) + 2 * phi(z) - 1 / sqrt(pi)]`` with
    ``z = (y - m) / s``. It is expressed in the units of ``y``; lower is
    better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed target values.

    y_mean : array-like of shape (n_samples,)
        Predictive means.

    y_std : array-like of shape (n_samples,)
        Predictive standard deviations, all strictly positive.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights. If None, samples are weighted equally.

    Returns
    -------
    crps : float
        The (weighted) mean CRPS.

    See Also
    --------
    gaussian_nll : Negative log predictive density.

    Notes
    -----
    The CRPS is a strictly proper scoring rule that generalises the absolute
    error: as ``y_std`` tends to zero it tends to ``|y_true - y_mean|``.
    Gneiting & Raftery (2007) state scores in positive orientation, i.e. the
    negative of the value returned here.

    References
    ----------
    .. [1] T. Gneiting and A. E. Raftery, "Strictly Proper Scoring Rules,
       Prediction, and Estimation", Journal of the American Statistical
       Association, 102(477), 359-378, 2007.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import crps_gaussian
    >>> round(crps_gaussian([0.0], [0.0], [1.0]), 3)
    0.234
    >>> round(crps_gaussian([0.0, 2.0], [0.0, 0.0], [1.0, 1.0]), 3)
    0.843
    """
    y_true, y_mean, y_std, sample_weight = _check_gaussian_inputs(
        y_true, y_mean, y_std, sample_weight
    )
    return _mean(_crps(y_true, y_mean, y_std), sample_weight)


def interval_coverage(y_true, y_mean, y_std, *, confidence=0.95):
    """Fraction of targets inside the central prediction interval.

    The central interval at level ``confidence`` of ``N(y_mean, y_std**2)`` is
    ``y_mean ± z * y_std`` with ``z = Phi^{-1}((1 + confidence) / 2)``, e.g.
    ``z ≈ 1.96`` for ``confidence=0.95``. For a calibrated model the coverage
    is close to ``confidence``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed target values.

    y_mean : array-like of shape (n_samples,)
        Predictive means.

    y_std : array-like of shape (n_samples,)
        Predictive standard deviations, all strictly positive.

    confidence : float, default=0.95
        Nominal coverage of the interval, in (0, 1).

    Returns
    -------
    coverage : float
        Fraction of samples with ``|y_true - y_mean| <= z * y_std``.

    See Also
    --------
    mean_interval_width : Sharpness of the same intervals.
    coverage_curve : Coverage over a grid of confidence levels.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import interval_coverage
    >>> y_true = [0.0, 1.0, 3.0, -0.5]
    >>> round(interval_coverage(y_true, [0.0] * 4, [1.0] * 4), 3)
    0.75
    """
    confidence = _check_confidence(confidence)
    y_true, y_mean, y_std, _ = _check_gaussian_inputs(y_true, y_mean, y_std)
    return float(_observed_coverage(y_true, y_mean, y_std, confidence)[0])


def mean_interval_width(y_std, *, confidence=0.95):
    """Mean width of the central prediction intervals.

    The width of the central interval at level ``confidence`` of a Gaussian
    with standard deviation ``y_std`` is ``2 * z * y_std`` with
    ``z = Phi^{-1}((1 + confidence) / 2)``. Narrower intervals are sharper,
    which is only desirable at the nominal coverage.

    Parameters
    ----------
    y_std : array-like of shape (n_samples,)
        Predictive standard deviations, all strictly positive.

    confidence : float, default=0.95
        Nominal coverage of the interval, in (0, 1).

    Returns
    -------
    width : float
        Mean interval width, in the units of the target.

    See Also
    --------
    interval_coverage : Coverage of the same intervals.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import mean_interval_width
    >>> round(mean_interval_width([1.0, 2.0]), 3)
    5.88
    >>> round(mean_interval_width([1.0, 2.0], confidence=0.5), 3)
    2.023
    """
    confidence = _check_confidence(confidence)
    y_std = _check_std(y_std)
    return float(2.0 * _half_width_factor(confidence) * y_std.mean())


def coverage_curve(y_true, y_mean, y_std, *, confidences=None):
    """Observed against nominal coverage of central prediction intervals.

    For each confidence level ``c`` the observed coverage is the fraction of
    ``y_true`` inside ``y_mean ± Phi^{-1}((1 + c) / 2) * y_std``. Plotting
    ``observed`` against ``expected`` gives a calibration (reliability)
    diagram; a calibrated model lies on the diagonal, an overconfident one
    below it.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed target values.

    y_mean : array-like of shape (n_samples,)
        Predictive means.

    y_std : array-like of shape (n_samples,)
        Predictive standard deviations, all strictly positive.

    confidences : array-like of shape (n_levels,), default=None
        Confidence levels, each in (0, 1). If None,
        ``np.linspace(0.05, 0.95, 19)``.

    Returns
    -------
    expected : ndarray of shape (n_levels,)
        The confidence levels (a copy of ``confidences``).

    observed : ndarray of shape (n_levels,)
        Observed coverage at each level.

    See Also
    --------
    coverage_calibration_error : Summary of the curve as a single number.
    interval_coverage : Coverage at a single level.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import coverage_curve
    >>> y_true = [0.0, 1.0, 3.0, -0.5]
    >>> expected, observed = coverage_curve(
    ...     y_true, [0.0] * 4, [1.0] * 4, confidences=[0.5, 0.9]
    ... )
    >>> expected.tolist(), observed.tolist()
    ([0.5, 0.9], [0.5, 0.75])
    """
    y_true, y_mean, y_std, _ = _check_gaussian_inputs(y_true, y_mean, y_std)
    expected = _check_confidences(confidences)
    observed = _observed_coverage(y_true, y_mean, y_std, expected)
    return expected, observed


def coverage_calibration_error(y_true, y_mean, y_std, *, confidences=None):
    """Mean absolute gap between observed and nominal interval coverage.

    This summarises :func:`coverage_curve` as
    ``mean_c |observed(c) - c|``, a regression calibration error in the sense
    of Kuleshov et al. (2018). It is 0 for perfect calibration and at most 1;
    lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed target values.

    y_mean : array-like of shape (n_samples,)
        Predictive means.

    y_std : array-like of shape (n_samples,)
        Predictive standard deviations, all strictly positive.

    confidences : array-like of shape (n_levels,), default=None
        Confidence levels, each in (0, 1). If None,
        ``np.linspace(0.05, 0.95, 19)``.

    Returns
    -------
    error : float
        Mean absolute calibration error over the confidence levels.

    See Also
    --------
    coverage_curve : The underlying observed and expected coverages.

    Notes
    -----
    Kuleshov et al. (2018) compare the nominal level ``p`` with the observed
    frequency of ``F(y_true) <= p`` (one-sided quantiles) and weight squared
    gaps; this variant uses central intervals and absolute gaps, which reads
    directly as a coverage shortfall or excess. Calibration says nothing about
    sharpness: report it alongside :func:`mean_interval_width` or a proper
    score such as :func:`gaussian_nll`.

    References
    ----------
    .. [1] V. Kuleshov, N. Fenner and S. Ermon, "Accurate Uncertainties for
       Deep Learning Using Calibrated Regression", Proceedings of the 35th
       International Conference on Machine Learning (ICML), 2018.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import coverage_calibration_error
    >>> y_true = [0.0, 1.0, 3.0, -0.5]
    >>> round(
    ...     coverage_calibration_error(
    ...         y_true, [0.0] * 4, [1.0] * 4, confidences=[0.5, 0.9]
    ...     ),
    ...     3,
    ... )
    0.075
    """
    expected, observed = coverage_curve(y_true, y_mean, y_std, confidences=confidences)
    return float(np.mean(np.abs(observed - expected)))


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
        prediction = estimator.predict(X, return_std=True)
        if not (isinstance(prediction, tuple) and len(prediction) == 2):
            raise ValueError(
                "estimator.predict(X, return_std=True) must return a "
                "(y_mean, y_std) tuple"
            )
        y_mean, y_std = prediction
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

# Classification: uncertainty from the passes, scores of class probabilities.


def _check_proba(proba, name, ndims):
    """Float64 probabilities of one of the ``ndims``; rows must sum to 1."""
    proba = check_array(
        proba, ensure_2d=False, allow_nd=True, dtype=np.float64, input_name=name
    )
    if proba.ndim not in ndims:
        shapes = " or ".join(
            {2: "(n_samples, n_classes)", 3: "(n_samples, n_passes, n_classes)"}[d]
            for d in ndims
        )
        raise ValueError(f"{name} must have shape {shapes}, got shape {proba.shape}")
    if np.any(proba < 0) or np.any(proba > 1):
        raise ValueError(f"{name} must hold probabilities in [0, 1]")
    if not np.allclose(proba.sum(axis=-1), 1, rtol=0, atol=1e-6):
        raise ValueError(f"the probabilities of {name} must sum to 1 over classes")
    return proba


def _entropy(proba):
    """Entropy in nats over the last axis, 0 log 0 = 0."""
    return entr(proba).sum(axis=-1)


def predictive_entropy(y_proba):
    """Entropy of the predictive class distribution: the total uncertainty.

    ``H[p] = -sum_c p_c log p_c`` (nats) of the predictive distribution; given
    the passes, of their mean. 0 for a certain prediction, ``log(n_classes)``
    for a uniform one.

    Parameters
    ----------
    y_proba : array-like of shape (n_samples, n_classes) or \
            (n_samples, n_passes, n_classes)
        Predictive class probabilities, or the probabilities of each pass
        (``MCDropoutClassifier.predict_proba_passes``), averaged first.

    Returns
    -------
    entropy : ndarray of shape (n_samples,)
        Predictive entropy of each sample, in nats.

    See Also
    --------
    expected_entropy : Its aleatoric part.
    mutual_information : Its epistemic part.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mcdropout.metrics import predictive_entropy
    >>> predictive_entropy([[1.0, 0.0], [0.5, 0.5]]).round(4)
    array([0.    , 0.6931])
    """
    y_proba = _check_proba(y_proba, "y_proba", (2, 3))
    if y_proba.ndim == 3:
        y_proba = y_proba.mean(axis=1)
    return _entropy(y_proba)


def expected_entropy(proba_passes):
    """Mean entropy of the passes: the aleatoric part of the uncertainty.

    ``(1/T) sum_t H[p_t]``: high where every pass is unsure (overlapping
    classes), whatever their agreement.

    Parameters
    ----------
    proba_passes : array-like of shape (n_samples, n_passes, n_classes)
        Class probabilities of each pass.

    Returns
    -------
    entropy : ndarray of shape (n_samples,)
        Expected entropy of each sample, in nats.

    See Also
    --------
    predictive_entropy : The total uncertainty.
    mutual_information : The epistemic part.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mcdropout.metrics import expected_entropy
    >>> passes = [[[1.0, 0.0], [0.0, 1.0]]]  # two confident passes, disagreeing
    >>> expected_entropy(passes)
    array([0.])
    """
    proba_passes = _check_proba(proba_passes, "proba_passes", (3,))
    return _entropy(proba_passes).mean(axis=1)


def mutual_information(proba_passes):
    """Mutual information of prediction and weights: the epistemic part.

    ``predictive_entropy - expected_entropy`` (nats), the BALD acquisition
    score of Houlsby et al. (2011) as used with MC dropout by Gal et al.
    (2017): large where the passes are each confident but disagree, 0 where
    they all agree.

    Parameters
    ----------
    proba_passes : array-like of shape (n_samples, n_passes, n_classes)
        Class probabilities of each pass.

    Returns
    -------
    information : ndarray of shape (n_samples,)
        Mutual information of each sample, in nats, non-negative.

    See Also
    --------
    predictive_entropy : The total uncertainty.
    expected_entropy : The aleatoric part.

    References
    ----------
    .. [1] N. Houlsby, F. Huszár, Z. Ghahramani and M. Lengyel, "Bayesian
       Active Learning for Classification and Preference Learning", 2011.
    .. [2] Y. Gal, R. Islam and Z. Ghahramani, "Deep Bayesian Active
       Learning with Image Data", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mcdropout.metrics import mutual_information
    >>> passes = [[[1.0, 0.0], [0.0, 1.0]]]  # two confident passes, disagreeing
    >>> mutual_information(passes).round(4)
    array([0.6931])
    """
    proba_passes = _check_proba(proba_passes, "proba_passes", (3,))
    total = _entropy(proba_passes.mean(axis=1))
    return np.maximum(total - _entropy(proba_passes).mean(axis=1), 0)


def variation_ratio(proba_passes):
    """Fraction of passes that do not vote for the most voted class.

    Each pass votes for its most probable class; the variation ratio is
    ``1 - (votes of the modal class) / n_passes`` (Freeman 1965; Gal 2016,
    Section 3.3.1): 0 when all passes agree.

    Parameters
    ----------
    proba_passes : array-like of shape (n_samples, n_passes, n_classes)
        Class probabilities of each pass.

    Returns
    -------
    ratio : ndarray of shape (n_samples,)
        Variation ratio of each sample, in [0, 1 - 1 / n_classes].

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mcdropout.metrics import variation_ratio
    >>> passes = [[[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.7, 0.3]]]
    >>> variation_ratio(passes)
    array([0.25])
    """
    proba_passes = _check_proba(proba_passes, "proba_passes", (3,))
    n_classes = proba_passes.shape[2]
    votes = np.eye(n_classes)[proba_passes.argmax(axis=2)].sum(axis=1)
    return 1 - votes.max(axis=1) / proba_passes.shape[1]


def _check_labelled_proba(y_true, y_proba, labels):
    """Column index of each y_true in y_proba, and y_proba as float64."""
    y_proba = _check_proba(y_proba, "y_proba", (2,))
    y_true = column_or_1d(np.asarray(y_true), warn=False)
    check_consistent_length(y_true, y_proba)
    labels = np.unique(y_true) if labels is None else np.asarray(labels)
    if labels.ndim != 1 or len(labels) != y_proba.shape[1]:
        raise ValueError(
            f"y_proba has {y_proba.shape[1]} columns but there are "
            f"{len(labels)} labels {labels.tolist()!r}; pass labels= in the "
            "order of the columns (e.g. estimator.classes_)."
        )
    if np.any(labels[1:] <= labels[:-1]):
        raise ValueError("labels must be sorted and unique, as classes_ is")
    index = np.searchsorted(labels, y_true).clip(max=len(labels) - 1)
    unknown = labels[index] != y_true
    if np.any(unknown):
        raise ValueError(
            f"y_true has labels not in labels: {np.unique(y_true[unknown]).tolist()}"
        )
    return index, y_proba


def brier_score(y_true, y_proba, *, labels=None):
    """Multi-class Brier score: mean squared error of the class probabilities.

    ``(1/n) sum_i sum_c (p_ic - 1[y_i = c])**2`` (Brier 1950), a proper
    scoring rule between 0 (certain and right) and 2 (certain and wrong). For
    two classes it is twice scikit-learn's
    :func:`~sklearn.metrics.brier_score_loss`, which scores the positive
    class only.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.

    y_proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities, one column per label of ``labels``.

    labels : array-like of shape (n_classes,), default=None
        The sorted labels of the columns (``estimator.classes_``). If None,
        the labels in ``y_true``, which must then all occur.

    Returns
    -------
    score : float
        The Brier score; lower is better.

    See Also
    --------
    sklearn.metrics.log_loss : The negative log-likelihood, another proper
        scoring rule.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import brier_score
    >>> round(brier_score(["a", "b"], [[0.8, 0.2], [0.5, 0.5]]), 3)
    0.29
    """
    index, y_proba = _check_labelled_proba(y_true, y_proba, labels)
    one_hot = np.eye(y_proba.shape[1])[index]
    return float(np.mean(np.sum((y_proba - one_hot) ** 2, axis=1)))


def expected_calibration_error(y_true, y_proba, *, n_bins=15, labels=None):
    """Expected calibration error of the most probable class.

    Predictions are binned by their confidence (the largest probability)
    into ``n_bins`` equal-width bins of [0, 1]; the error is the mean, over
    bins weighted by their share of samples, of ``|accuracy - mean
    confidence|`` (Naeini et al. 2015; Guo et al. 2017). 0 for a
    calibrated classifier. It is not a proper score: refit searches on
    :func:`~sklearn.metrics.log_loss` or :func:`brier_score`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.

    y_proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities, one column per label of ``labels``.

    n_bins : int, default=15
        Number of confidence bins.

    labels : array-like of shape (n_classes,), default=None
        The sorted labels of the columns (``estimator.classes_``). If None,
        the labels in ``y_true``, which must then all occur.

    Returns
    -------
    error : float
        Expected calibration error, in [0, 1].

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of
       Modern Neural Networks", ICML 2017.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import expected_calibration_error
    >>> y_proba = [[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.4, 0.6]]
    >>> round(expected_calibration_error([0, 1, 1, 1], y_proba, n_bins=5), 3)
    0.35
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral):
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    if n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    index, y_proba = _check_labelled_proba(y_true, y_proba, labels)
    accuracy, confidence, counts = _confidence_bins(index, y_proba, n_bins)
    weights = counts / counts.sum()
    gaps = np.abs(np.nan_to_num(accuracy) - np.nan_to_num(confidence))
    return float(np.sum(weights * gaps))


def _confidence_bins(index, y_proba, n_bins):
    """Per confidence bin: accuracy, mean confidence (NaN if empty), count."""
    confidence = y_proba.max(axis=1)
    correct = y_proba.argmax(axis=1) == index
    # Bin b holds confidences in (edge_b, edge_b+1]; 0 joins bin 0.
    edges = np.linspace(0, 1, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], confidence, side="left")
    counts = np.bincount(bins, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore"):
        accuracy = np.bincount(bins, weights=correct, minlength=n_bins) / counts
        mean_conf = np.bincount(bins, weights=confidence, minlength=n_bins) / counts
    return accuracy, mean_conf, counts


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

# Run the scorers' examples as doctests: they are instances, not functions.
__test__ = {
    name: globals()[name].__doc__
    for name in (
        "neg_gaussian_nll_scorer",
        "neg_crps_scorer",
        "neg_calibration_error_scorer",
        "neg_coverage_error_scorer",
        "neg_brier_score_scorer",
        "neg_expected_calibration_error_scorer",
    )
}
