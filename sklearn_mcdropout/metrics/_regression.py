"""Scores of Gaussian predictive distributions, from their mean and std."""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm
from sklearn.utils.validation import check_array

from ._validation import (
    _check_1d,
    _check_confidence,
    _check_confidences,
    _check_consistent_length,
    _check_gaussian_inputs,
    _check_std,
    _check_tau,
)


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
    _check_consistent_length(y_true=y_true, y_passes=y_passes)
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
