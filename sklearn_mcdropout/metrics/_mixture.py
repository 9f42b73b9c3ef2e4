"""The predictive mixture of the passes: its CDF, quantiles, intervals and CRPS.

Row i's predictive distribution is the equal-weight mixture of the K
Gaussians ``N(y_passes[i, k], noise_std[i, k]**2)``, one per pass (and
member), as returned by ``predict_passes(X, return_noise_std=True)``.
"""

import numpy as np
from scipy.special import erf, ndtr, ndtri
from sklearn.utils.validation import check_array

from ._regression import _mean
from ._validation import (
    _check_1d,
    _check_confidence,
    _check_confidences,
    _check_consistent_length,
    _check_sample_weight,
)

# Values per temporary array when a computation is split into chunks of rows:
# 2**21 float64 values are 16 MiB, and at most about five are alive at once.
_CHUNK_VALUES = 2**21
# The quantile solver stops where |cdf(q) - alpha| <= _CDF_TOL, or where the
# bracket of q is a few float64 steps wide (a jump of the CDF at an atom).
_CDF_TOL = 1e-12
_MAX_ITER = 200


def _check_mixture(y_passes, noise_std):
    """``y_passes`` (n_samples, n_components) and ``noise_std`` broadcast to it."""
    if np.ndim(y_passes) == 3:
        raise ValueError(
            "y_passes must have shape (n_samples, n_components); got shape "
            f"{np.shape(y_passes)}: with several targets, pass one target at a "
            "time, y_passes[:, j] and noise_std[:, j]"
        )
    y_passes = check_array(y_passes, dtype=np.float64, input_name="y_passes")
    noise_std = check_array(
        np.reshape(noise_std, (1, 1)) if np.ndim(noise_std) == 0 else noise_std,
        ensure_2d=False,
        allow_nd=True,
        dtype=np.float64,
        input_name="noise_std",
    )
    if noise_std.ndim == 1:
        raise ValueError(
            f"noise_std of shape {noise_std.shape} is ambiguous; pass a scalar, "
            "an array of the shape of y_passes (n_samples, n_components), "
            "noise_std[:, np.newaxis] for one std per sample or "
            "noise_std[np.newaxis, :] for one std per component"
        )
    if noise_std.ndim > 2 or any(
        s not in (1, n) for s, n in zip(noise_std.shape, y_passes.shape, strict=True)
    ):
        raise ValueError(
            f"noise_std of shape {noise_std.shape} does not broadcast to the "
            f"shape {y_passes.shape} of y_passes (n_samples, n_components)"
        )
    if np.any(noise_std < 0):
        raise ValueError("noise_std must be non-negative")
    return y_passes, np.broadcast_to(noise_std, y_passes.shape)


def _chunks(n_rows, values_per_row):
    """Slices of rows holding at most about ``_CHUNK_VALUES`` values each."""
    step = max(1, _CHUNK_VALUES // max(1, values_per_row))
    return (slice(start, start + step) for start in range(0, n_rows, step))


def _standardize(d, s):
    """``d / s``; where ``s = 0`` (an atom), +inf if ``d >= 0`` and -inf if not."""
    if np.all(s > 0):
        return d / s
    return np.divide(d, s, out=np.where(d >= 0, np.inf, -np.inf), where=s > 0)


def _abs_moment(m, s):
    """``A(m, s**2) = E|N(m, s**2)| = m (2 Phi(m/s) - 1) + 2 s phi(m/s)``.

    Grimit et al. (2006); ``|m|`` when ``s = 0``. Computed in place on its
    temporaries, to keep few arrays of the size of ``m`` alive.
    """
    z = _standardize(m, s)
    a = np.multiply(z, 1 / np.sqrt(2))
    a = erf(a, out=a)
    a *= m
    z *= z
    z *= -0.5
    z = np.exp(z, out=z)
    z *= s
    z *= 2 / np.sqrt(2 * np.pi)
    a += z
    return a


def _energy(y, mu, s):
    """``E|X - y|`` for X each row's equal-weight mixture of ``N(mu_k, s_k**2)``."""
    energy = np.empty(len(y))
    for rows in _chunks(len(y), mu.shape[1]):
        energy[rows] = _abs_moment(y[rows, np.newaxis] - mu[rows], s[rows]).mean(axis=1)
    return energy


def _self_energy(mu, s):
    """``E|X - X'|`` for X, X' independent draws of each row's mixture.

    ``mean_k mean_l A(mu_k - mu_l, s_k**2 + s_l**2)``: A is even in its first
    argument, so the pairs k < l count twice; ``A(0, 2 s_k**2) = 2 s_k / sqrt(pi)``.
    """
    n_components = mu.shape[1]
    i, j = np.triu_indices(n_components, k=1)
    energy = np.empty(len(mu))
    for rows in _chunks(len(mu), max(len(i), n_components)):
        m, v = mu[rows], s[rows]
        d = m[:, i]
        d -= m[:, j]
        v_pair = v[:, i]
        v_pair = np.hypot(v_pair, v[:, j], out=v_pair)
        pairs = _abs_moment(d, v_pair)
        spread = 2 * pairs.sum(axis=1) + 2 / np.sqrt(np.pi) * v.sum(axis=1)
        energy[rows] = spread / n_components**2
    return energy


def _crps(y_true, mu, s):
    """CRPS of each row's equal-weight mixture of ``N(mu_k, s_k**2)`` at y."""
    # CRPS(F, y) = E|X - y| - 1/2 E|X - X'|
    #   = sum_k w_k A(y - mu_k, s_k^2)
    #     - 1/2 sum_k sum_l w_k w_l A(mu_k - mu_l, s_k^2 + s_l^2)
    # (Grimit et al. 2006) with w = 1/K.
    return _energy(y_true, mu, s) - 0.5 * _self_energy(mu, s)


def _cdf(y, mu, s):
    """Mixture CDF at ``y`` (n_samples, n_values), chunked over rows."""
    cdf = np.empty(y.shape)
    for rows in _chunks(len(y), y.shape[1] * mu.shape[1]):
        d = y[rows, :, np.newaxis] - mu[rows, np.newaxis, :]
        cdf[rows] = ndtr(_standardize(d, s[rows, np.newaxis, :])).mean(axis=-1)
    return cdf


def _cdf_pdf(x, mu, s):
    """Mixture CDF and density (atoms left out) of rows ``mu, s`` at ``x``."""
    z = _standardize(x[:, np.newaxis] - mu, s)
    cdf = ndtr(z).mean(axis=1)
    z *= z
    z *= -0.5
    z = np.exp(z, out=z)  # 0 on the atoms, where z = ±inf
    z = np.divide(z, s, out=z, where=s > 0)
    return cdf, z.mean(axis=1) / np.sqrt(2 * np.pi)


def _solve(alpha, mu, s, lo, hi, x):
    """``q = inf {q : cdf(q) >= alpha}`` in ``[lo, hi]`` per row, from ``x``.

    Newton's method, safeguarded by bisection: the bracket keeps
    ``cdf(lo) < alpha <= cdf(hi)`` and a step out of it bisects instead.
    ``alpha``, ``lo``, ``hi`` and ``x`` are of shape (n_rows, n_quantiles),
    row r for the mixture ``mu[r], s[r]``; ``lo``, ``hi`` and ``x`` are
    overwritten.
    """
    n_quantiles = alpha.shape[1]
    alpha, lo, hi, x = (a.ravel() for a in (alpha, lo, hi, x))
    x_tol = 4 * np.spacing(np.maximum(np.abs(lo), np.abs(hi)))
    active = np.arange(len(x))
    for _ in range(_MAX_ITER):
        if not len(active):
            break
        row = active // n_quantiles
        xa, la, ha = x[active], lo[active], hi[active]
        cdf, pdf = _cdf_pdf(xa, mu[row], s[row])
        error = cdf - alpha[active]
        la, ha = np.where(error < 0, xa, la), np.where(error >= 0, xa, ha)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            step = xa - error / pdf
        newton = (step > la) & (step < ha) & (step != xa)
        x_next = np.where(newton, step, la + 0.5 * (ha - la))
        narrow = ha - la <= x_tol[active]
        x_next[narrow] = ha[narrow]
        converged = np.abs(error) <= _CDF_TOL
        x[active] = np.where(converged, xa, x_next)
        lo[active], hi[active] = la, ha
        active = active[~(converged | narrow)]
    return x.reshape(-1, n_quantiles)


def _central_levels(confidence):
    """The quantile levels bounding the central interval of ``confidence``."""
    return np.array([0.5 - 0.5 * confidence, 0.5 + 0.5 * confidence])


def _quantiles(mu, s, alphas):
    """Quantiles of each row's mixture, (n_samples, n_quantiles).

    ``alphas`` of shape (n_quantiles,), the same levels for every row, or
    (n_samples, n_quantiles), levels of each row.
    """
    alphas = np.broadcast_to(alphas, (len(mu), np.shape(alphas)[-1]))
    z = ndtri(alphas)
    quantiles = np.empty(alphas.shape)
    for rows in _chunks(len(mu), alphas.shape[1] * mu.shape[1]):
        m, v = mu[rows], s[rows]
        # Each component's alpha-quantile mu_k + s_k z brackets the mixture's:
        # every component's CDF is <= alpha below the least, >= alpha above the
        # greatest. Newton starts from the quantile of the moment-matched
        # Gaussian, clipped into the bracket.
        component = v[:, np.newaxis, :] * z[rows, :, np.newaxis]
        component += m[:, np.newaxis, :]
        lo, hi = component.min(axis=-1), component.max(axis=-1)
        del component
        mean = m.mean(axis=1, keepdims=True)
        std = np.sqrt(m.var(axis=1, keepdims=True) + (v**2).mean(axis=1, keepdims=True))
        start = np.clip(mean + std * z[rows], lo, hi)
        quantiles[rows] = _solve(alphas[rows].copy(), m, v, lo, hi, start)
    return quantiles


def mixture_cdf(y, y_passes, noise_std):
    """Cumulative distribution function of the predictive mixture of the passes.

    The predictive distribution of sample i is the equal-weight mixture of
    the ``n_components`` Gaussians ``N(y_passes[i, k], noise_std[i, k]**2)``,
    one per stochastic pass (and member). Its CDF at ``y`` is
    ``mean_k Phi((y - y_passes[i, k]) / noise_std[i, k])``.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_values)
        Values at which the CDF of each sample's mixture is evaluated, one or
        several per sample.

    y_passes : array-like of shape (n_samples, n_components)
        Means of the components, one column per pass, as returned by
        ``MCDropoutRegressor.predict_passes``.

    noise_std : float or array-like of shape (n_samples, n_components)
        Standard deviations of the components, all non-negative (0 makes a
        component a point mass), e.g. the second output of
        ``predict_passes(X, return_noise_std=True)``, or ``1 / sqrt(tau)``.
        Also of shape (n_samples, 1) (one std per sample) or
        (1, n_components) (one per component).

    Returns
    -------
    cdf : ndarray of the shape of `y`
        The probability that each sample's target is at most `y`.

    See Also
    --------
    mixture_quantiles : Its inverse.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import mixture_cdf
    >>> y_passes = [[-1.0, 1.0], [0.0, 0.0]]
    >>> mixture_cdf([0.0, 1.0], y_passes, noise_std=0.5).round(3)
    array([0.5  , 0.977])
    """
    y_passes, noise_std = _check_mixture(y_passes, noise_std)
    y = check_array(
        y, ensure_2d=False, dtype=np.float64, ensure_min_samples=0, input_name="y"
    )
    _check_consistent_length(y=y, y_passes=y_passes)
    return _cdf(y.reshape(len(y), -1), y_passes, noise_std).reshape(y.shape)


def mixture_quantiles(y_passes, noise_std, quantiles):
    """Quantiles of the predictive mixture of the passes.

    The predictive distribution of sample i is the equal-weight mixture of
    the ``n_components`` Gaussians ``N(y_passes[i, k], noise_std[i, k]**2)``,
    one per stochastic pass (and member). Its quantile ``q`` at level
    ``alpha`` solves ``mixture_cdf(q) = alpha``; this returns it exactly, up
    to ``|mixture_cdf(q) - alpha| <= 1e-12``, not as the quantile of the
    Gaussian with the mixture's mean and variance.

    Parameters
    ----------
    y_passes : array-like of shape (n_samples, n_components)
        Means of the components, one column per pass, as returned by
        ``MCDropoutRegressor.predict_passes``.

    noise_std : float or array-like of shape (n_samples, n_components)
        Standard deviations of the components, all non-negative (0 makes a
        component a point mass), e.g. the second output of
        ``predict_passes(X, return_noise_std=True)``, or ``1 / sqrt(tau)``.
        Also of shape (n_samples, 1) (one std per sample) or
        (1, n_components) (one per component).

    quantiles : float or array-like of shape (n_quantiles,)
        Levels of the quantiles, each in (0, 1).

    Returns
    -------
    y_quantiles : ndarray of shape (n_samples, n_quantiles)
        The quantiles of each sample's mixture, one column per level.

    See Also
    --------
    mixture_interval : Central prediction interval of the mixture.
    mixture_cdf : The CDF that the quantiles invert.

    Notes
    -----
    The quantile lies between the least and the greatest of the components'
    quantiles ``y_passes[i, k] + noise_std[i, k] * Phi^{-1}(alpha)``; Newton's
    method, safeguarded by bisection in that bracket, finds it in float64.
    Where the CDF jumps (components with ``noise_std=0``) or is flat, the
    result is the least ``q`` with ``mixture_cdf(q) >= alpha``.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import mixture_quantiles
    >>> y_passes = [[-1.0, 1.0], [0.0, 0.0]]
    >>> mixture_quantiles(y_passes, 0.5, [0.5, 0.975]).round(3)
    array([[0.   , 1.822],
           [0.   , 0.98 ]])
    """
    y_passes, noise_std = _check_mixture(y_passes, noise_std)
    alphas = _check_confidences(np.atleast_1d(quantiles), "quantiles")
    return _quantiles(y_passes, noise_std, alphas)


def mixture_interval(y_passes, noise_std, *, confidence=0.95):
    """Central prediction interval of the predictive mixture of the passes.

    The interval runs from the ``(1 - confidence) / 2`` quantile to the
    ``(1 + confidence) / 2`` quantile of each sample's mixture (see
    :func:`mixture_quantiles`), so that it holds the target with probability
    `confidence` under the mixture, and misses it as often above as below.
    Unlike ``y_mean ± z * y_std``, it follows a skewed or multimodal mixture.

    Parameters
    ----------
    y_passes : array-like of shape (n_samples, n_components)
        Means of the components, one column per pass, as returned by
        ``MCDropoutRegressor.predict_passes``.

    noise_std : float or array-like of shape (n_samples, n_components)
        Standard deviations of the components, all non-negative (0 makes a
        component a point mass), e.g. the second output of
        ``predict_passes(X, return_noise_std=True)``, or ``1 / sqrt(tau)``.
        Also of shape (n_samples, 1) (one std per sample) or
        (1, n_components) (one per component).

    confidence : float, default=0.95
        Probability of the interval, in (0, 1).

    Returns
    -------
    y_lower : ndarray of shape (n_samples,)
        Lower ends of the intervals.

    y_upper : ndarray of shape (n_samples,)
        Upper ends of the intervals.

    See Also
    --------
    mixture_quantiles : Quantiles of the mixture at any levels.
    interval_coverage : Coverage of the Gaussian interval ``y_mean ± z * y_std``.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import mixture_interval
    >>> y_passes = [[-1.0, 1.0], [0.0, 0.0]]
    >>> y_lower, y_upper = mixture_interval(y_passes, 0.5, confidence=0.9)
    >>> y_lower.round(3), y_upper.round(3)
    (array([-1.641, -0.822]), array([1.641, 0.822]))
    """
    confidence = _check_confidence(confidence)
    y_passes, noise_std = _check_mixture(y_passes, noise_std)
    y_quantiles = _quantiles(y_passes, noise_std, _central_levels(confidence))
    return y_quantiles[:, 0], y_quantiles[:, 1]


def crps_mixture(y_true, y_passes, noise_std, *, sample_weight=None):
    """Mean continuous ranked probability score of the predictive mixture.

    The predictive distribution of sample i is the equal-weight mixture ``F``
    of the ``K = n_components`` Gaussians
    ``N(y_passes[i, k], noise_std[i, k]**2)``, one per stochastic pass (and
    member). Its CRPS at ``y``, ``integral (F(x) - 1{x >= y})**2 dx``, is
    computed exactly, in closed form (Grimit et al. 2006)::

        mean_k A(y - mu_k, s_k**2) - 1/2 mean_k mean_l A(mu_k - mu_l, s_k**2 + s_l**2)

    with ``A(m, s**2) = E|N(m, s**2)| = m (2 Phi(m / s) - 1) + 2 s phi(m / s)``.
    It is expressed in the units of ``y``; lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed target values.

    y_passes : array-like of shape (n_samples, n_components)
        Means of the components, one column per pass, as returned by
        ``MCDropoutRegressor.predict_passes``.

    noise_std : float or array-like of shape (n_samples, n_components)
        Standard deviations of the components, all non-negative (0 makes a
        component a point mass), e.g. the second output of
        ``predict_passes(X, return_noise_std=True)``, or ``1 / sqrt(tau)``.
        Also of shape (n_samples, 1) (one std per sample) or
        (1, n_components) (one per component).

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights. If None, samples are weighted equally.

    Returns
    -------
    crps : float
        The (weighted) mean CRPS.

    See Also
    --------
    crps_gaussian : CRPS of the Gaussian ``N(y_mean, y_std**2)``.
    mc_log_likelihood : Log density of the same mixture.

    Notes
    -----
    With one component this is :func:`crps_gaussian`; with ``noise_std=0``
    it is the CRPS of the ensemble of the passes,
    ``mean_k |y - mu_k| - 1/2 mean_k mean_l |mu_k - mu_l|``. Unlike
    ``crps_gaussian(y_true, y_mean, y_std)`` with the mixture's mean and std,
    it scores the mixture itself, skewed or multimodal.

    The second term sums over the ``K * (K - 1) / 2`` pairs of components,
    so the cost grows as ``n_samples * K**2``: about 2 s for 10,000 samples
    of ``K = 100`` components on one CPU core. The pairs are computed in
    chunks of rows, so that the temporary arrays stay under about 80 MiB
    whatever the number of samples.

    References
    ----------
    .. [1] E. P. Grimit, T. Gneiting, V. J. Berrocal and N. A. Johnson, "The
       continuous ranked probability score for circular variables and its
       application to mesoscale forecast ensemble verification", Quarterly
       Journal of the Royal Meteorological Society, 132(621C), 2925-2942,
       2006.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import crps_gaussian, crps_mixture
    >>> round(crps_mixture([0.0], [[0.0]], noise_std=1.0), 3)
    0.234
    >>> round(crps_gaussian([0.0], [0.0], [1.0]), 3)
    0.234
    >>> round(crps_mixture([0.0, 2.0], [[-1.0, 1.0], [-1.0, 1.0]], 0.5), 3)
    0.865
    """
    y_true = _check_1d(y_true, "y_true")
    y_passes, noise_std = _check_mixture(y_passes, noise_std)
    _check_consistent_length(y_true=y_true, y_passes=y_passes)
    sample_weight = _check_sample_weight(sample_weight, len(y_true))
    return _mean(_crps(y_true, y_passes, noise_std), sample_weight)
