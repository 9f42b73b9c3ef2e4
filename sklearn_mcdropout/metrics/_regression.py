"""Scores of Gaussian predictive distributions, from their mean and std."""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm
from sklearn.utils import Bunch
from sklearn.utils.validation import check_array

from ._validation import (
    _check_1d,
    _check_confidence,
    _check_confidences,
    _check_consistent_length,
    _check_gaussian_inputs,
    _check_gaussian_targets,
    _check_n_bins,
    _check_std,
    _check_tau,
)


def _mean(values, sample_weight):
    """The (weighted) mean over the rows; over the targets too, uniformly."""
    if values.ndim == 2:
        values = values.mean(axis=1)
    return float(np.average(values, weights=sample_weight))


def _half_width_factor(confidence):
    # Central interval m ± z s with z = Φ^{-1}((1 + c) / 2).
    return norm.ppf(0.5 + 0.5 * np.asarray(confidence, dtype=np.float64))


def _inside_interval(y_true, y_mean, y_std, confidences):
    """Whether each target is in each central interval, (n_samples, n_levels)."""
    z = _half_width_factor(np.atleast_1d(confidences))
    return np.abs(y_true - y_mean)[:, np.newaxis] <= y_std[:, np.newaxis] * z


def _observed_coverage(y_true, y_mean, y_std, confidences):
    """Observed coverage of the central intervals, one per confidence level."""
    return _inside_interval(y_true, y_mean, y_std, confidences).mean(axis=0)


def _interval_width(y_std, confidence):
    """Width ``2 z y_std`` of the central interval at level ``confidence``."""
    return 2.0 * _half_width_factor(confidence) * y_std


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
    y_true : array-like of shape (n_samples,) or (n_samples, n_targets)
        Observed target values.

    y_mean : array-like of shape (n_samples,) or (n_samples, n_targets)
        Predictive means.

    y_std : array-like of shape (n_samples,) or (n_samples, n_targets)
        Predictive standard deviations, all strictly positive. With several
        targets, the score is averaged over them, uniformly (scikit-learn's
        ``multioutput="uniform_average"``).

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
    y_true, y_mean, y_std, sample_weight = _check_gaussian_targets(
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
    y_true : array-like of shape (n_samples,) or (n_samples, n_targets)
        Observed target values.

    y_mean : array-like of shape (n_samples,) or (n_samples, n_targets)
        Predictive means.

    y_std : array-like of shape (n_samples,) or (n_samples, n_targets)
        Predictive standard deviations, all strictly positive. With several
        targets, the score is averaged over them, uniformly (scikit-learn's
        ``multioutput="uniform_average"``).

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
    y_true, y_mean, y_std, sample_weight = _check_gaussian_targets(
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
    return float(_interval_width(y_std.mean(), confidence))


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


def _quantile_bins(values, n_bins):
    """Edges of equal-count bins of ``values``, and the bin of each value.

    Bin ``i`` holds ``edges[i] <= value < edges[i + 1]``, the last one also
    ``value == edges[-1]``; bins left empty by ties are dropped.
    """
    edges = np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1))
    index = np.searchsorted(edges[1:-1], values, side="right")
    filled = np.bincount(index, minlength=n_bins) > 0
    # An empty bin i lies between filled ones: dropping its lower edge gives
    # its range to bin i - 1, which keeps the same rows.
    return np.r_[edges[:-1][filled], edges[-1]], np.cumsum(filled)[index] - 1


def _label_groups(by, n_samples):
    """Sorted distinct labels of ``by`` and the index of each row's label."""
    labels = _check_1d(by, "by", dtype=None)
    _check_consistent_length(y_true=np.empty(n_samples), by=labels)
    try:
        return np.unique(labels, return_inverse=True)
    except TypeError as exc:
        raise ValueError(
            "the group labels in by must be sortable: all numbers or all strings"
        ) from exc


def coverage_by_group(y_true, y_mean, y_std, *, by="y_std", n_bins=5, confidence=0.95):
    """Coverage and width of Gaussian prediction intervals per group of samples.

    A diagnostic of conditional calibration: the samples are split into groups
    and, in each, the observed coverage of the central interval
    ``y_mean ± z * y_std`` with ``z = Phi^{-1}((1 + confidence) / 2)`` (as in
    :func:`interval_coverage`) is reported beside the mean width of the
    intervals (as in :func:`mean_interval_width`). A model can reach the
    nominal coverage on average while its intervals are too narrow where the
    noise is large and too wide where it is small; the groups show where.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed target values.

    y_mean : array-like of shape (n_samples,)
        Predictive means.

    y_std : array-like of shape (n_samples,)
        Predictive standard deviations, all strictly positive.

    by : {"y_std", "y_true"} or array-like of shape (n_samples,), \
            default="y_std"
        How to group the samples:

        - ``"y_std"``: `n_bins` equal-count bins of the predicted std;
        - ``"y_true"``: `n_bins` equal-count bins of the target;
        - an array of group labels, one per sample (numbers or strings, for
          example a categorical feature): one group per distinct label.

    n_bins : int, default=5
        Number of quantile bins when `by` is ``"y_std"`` or ``"y_true"``; at
        least 1. Ignored when `by` holds labels.

    confidence : float, default=0.95
        Nominal coverage of the intervals, in (0, 1).

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes, one entry per
        group, in the order of `labels`.

        labels : ndarray of shape (n_groups,)
            The group labels: the bin numbers ``0, ..., n_groups - 1`` from
            the lowest values up for quantile bins; the sorted distinct labels
            of `by` otherwise.

        bin_edges : ndarray of shape (n_groups + 1,) or None
            Bin ``i`` holds the samples with
            ``bin_edges[i] <= value < bin_edges[i + 1]``, the last bin also
            those equal to ``bin_edges[-1]``. None when `by` holds labels.

        counts : ndarray of shape (n_groups,)
            Number of samples in each group, all positive.

        coverage : ndarray of shape (n_groups,)
            Observed coverage of the intervals in each group.

        mean_width : ndarray of shape (n_groups,)
            Mean width ``2 * z * y_std`` of the intervals in each group.

        mean_std : ndarray of shape (n_groups,)
            Mean predicted standard deviation in each group.

        group_index : ndarray of shape (n_samples,)
            Index in `labels` of the group of each sample.

        confidence : float
            The nominal coverage.

        by : str
            ``"y_std"``, ``"y_true"`` or ``"groups"`` (labels given).

    See Also
    --------
    interval_coverage : Coverage over all samples.
    mean_interval_width : Width over all samples.
    sklearn_mcdropout.plotting.CoverageByGroupDisplay : Plot of the result.

    Notes
    -----
    The bin edges are ``np.quantile(values, np.linspace(0, 1, n_bins + 1))``,
    so the bins hold equal numbers of samples up to rounding. Tied values lie
    in one bin (the rule above); bins that ties leave empty, or that
    ``n_bins > n_samples`` leaves empty, are dropped, so there may be fewer
    than `n_bins` groups.

    With a calibrated model the coverage of every bin of ``y_std`` and of
    every group fixed in advance is close to `confidence`, within about
    ``2 * sqrt(confidence * (1 - confidence) / count)``. Bins of ``y_true``
    instead condition on the outcome: the bins at the extremes of the target
    hold the samples whose noise was largest, so even a calibrated model
    covers less than nominal there (and more in the middle bins), the more so
    the larger the noise is against the spread of ``y_mean``.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import coverage_by_group
    >>> y_true = [0.0, 0.5, 3.0, 0.0, 1.0, 3.0]
    >>> y_mean = [0.0] * 6
    >>> y_std = [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    >>> result = coverage_by_group(y_true, y_mean, y_std, n_bins=2)
    >>> result.bin_edges.tolist(), result.counts.tolist()
    ([1.0, 1.5, 2.0], [3, 3])
    >>> result.coverage.round(3).tolist(), result.mean_width.round(2).tolist()
    ([0.667, 1.0], [3.92, 7.84])
    >>> by_label = coverage_by_group(
    ...     y_true, y_mean, y_std, by=["a", "b", "a", "b", "a", "b"]
    ... )
    >>> by_label.labels.tolist(), by_label.coverage.round(3).tolist()
    (['a', 'b'], [0.667, 1.0])
    """
    y_true, y_mean, y_std, _ = _check_gaussian_inputs(y_true, y_mean, y_std)
    confidence = _check_confidence(confidence)
    n_bins = _check_n_bins(n_bins)
    bin_edges = None
    if isinstance(by, str):
        if by not in ("y_std", "y_true"):
            raise ValueError(
                "by must be 'y_std', 'y_true' or an array-like of group labels "
                f"of shape (n_samples,), got {by!r}"
            )
        values = y_std if by == "y_std" else y_true
        bin_edges, group_index = _quantile_bins(values, n_bins)
        labels = np.arange(len(bin_edges) - 1)
    else:
        labels, group_index = _label_groups(by, len(y_true))
        by = "groups"
    inside = _inside_interval(y_true, y_mean, y_std, confidence)[:, 0]
    counts = np.bincount(group_index, minlength=len(labels))
    mean_std = np.bincount(group_index, weights=y_std) / counts
    return Bunch(
        labels=labels,
        bin_edges=bin_edges,
        counts=counts,
        coverage=np.bincount(group_index, weights=inside) / counts,
        mean_width=_interval_width(mean_std, confidence),
        mean_std=mean_std,
        group_index=group_index,
        confidence=confidence,
        by=by,
    )


def _coverage_error_bars(coverage, counts, confidence):
    """Two binomial standard errors at the nominal level, as error bars.

    The coverage of ``count`` samples of a calibrated model is a binomial
    fraction of standard error ``sqrt(confidence * (1 - confidence) / count)``.
    Returns, of shape (2, n_groups), the lengths of the bars below and above
    ``coverage`` (matplotlib's ``yerr``): twice that error, clipped so that the
    bars stay in [0, 1].
    """
    coverage = np.asarray(coverage)
    half = 2 * np.sqrt(confidence * (1 - confidence) / np.asarray(counts))
    return np.minimum(half, [coverage, 1 - coverage])
