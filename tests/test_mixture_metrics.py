import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import integrate, stats

from sklearn_mcdropout import MCDropoutRegressor
from sklearn_mcdropout.metrics import (
    _mixture,
    crps_gaussian,
    crps_mixture,
    mixture_cdf,
    mixture_interval,
    mixture_quantiles,
)


def _bimodal():
    """Three rows of two well separated clusters of components, unequal stds."""
    y_passes = np.array(
        [
            [-2.0, -1.8, -2.3, 1.5, 2.0, 1.7],
            [0.0, 0.1, -0.1, 4.0, 4.2, 3.9],
            [-1.0, -1.0, -1.1, -0.9, 3.0, 3.1],
        ]
    )
    noise_std = np.array(
        [
            [0.3, 0.4, 0.3, 0.5, 0.6, 0.5],
            [0.2, 0.2, 0.3, 0.8, 0.7, 0.9],
            [0.5, 0.4, 0.6, 0.5, 0.2, 0.3],
        ]
    )
    return y_passes, noise_std


def _skewed():
    """Rows whose components have a long right tail (log-normal means)."""
    rng = np.random.default_rng(1)
    y_passes = np.exp(rng.normal(scale=0.8, size=(4, 50)))
    return y_passes, np.full_like(y_passes, 0.1)


def _random_mixture(n=30, k=20, seed=0):
    rng = np.random.default_rng(seed)
    y_passes = rng.normal(size=(n, 1)) + rng.normal(size=(n, k))
    noise_std = rng.uniform(0.1, 1.0, size=(n, k))
    y_true = rng.normal(scale=2.0, size=n)
    return y_true, y_passes, noise_std


def _moment_interval(y_passes, noise_std, confidence):
    """``mean ± z * std`` of the Gaussian with the mixture's two moments."""
    std = np.sqrt(y_passes.var(axis=1) + (noise_std**2).mean(axis=1))
    half = stats.norm.ppf(0.5 + 0.5 * confidence) * std
    return y_passes.mean(axis=1) - half, y_passes.mean(axis=1) + half


def _crps_per_row(y_true, y_passes, noise_std):
    return np.array(
        [
            crps_mixture([y], [mu], np.broadcast_to(s, np.shape(mu))[np.newaxis])
            for y, mu, s in zip(y_true, y_passes, noise_std, strict=True)
        ]
    )


def test_crps_matches_monte_carlo():
    # CRPS(F, y) = E|X - y| - 1/2 E|X - X'| with X, X' ~ F independent
    # (Gneiting & Raftery 2007); 10**6 draws from each row's mixture,
    # stratified: every pair of components (k, l) is drawn equally often.
    y_passes, noise_std = _bimodal()
    y_true = np.array([0.0, 3.5, -1.5])
    rng = np.random.default_rng(0)
    n_components = y_passes.shape[1]
    n_draws = 10**6 // n_components**2 * n_components**2
    k, k_prime = np.divmod(np.arange(n_draws) % n_components**2, n_components)
    estimates = []
    for mu, s, y in zip(y_passes, noise_std, y_true, strict=True):
        x, x_prime = rng.normal(mu[[k, k_prime]], s[[k, k_prime]])
        estimates.append(np.mean(np.abs(x - y)) - 0.5 * np.mean(np.abs(x - x_prime)))
    assert_allclose(
        _crps_per_row(y_true, y_passes, noise_std), estimates, rtol=0, atol=1e-3
    )
    assert_allclose(
        crps_mixture(y_true, y_passes, noise_std), np.mean(estimates), atol=1e-3
    )


def test_crps_with_atoms_matches_integral():
    # CRPS(F, y) = integral (F(x) - 1{x >= y})**2 dx, with F from mixture_cdf;
    # components of noise_std 0 are point masses.
    y_passes = np.array([[-1.0, 0.5, 0.5, 2.0]])
    noise_std = np.array([[0.0, 0.3, 0.0, 0.7]])
    for y in (-2.0, 0.5, 1.0):

        def integrand(x, y=y):
            return (mixture_cdf([x], y_passes, noise_std)[0] - (x >= y)) ** 2

        ends = [-np.inf, *np.unique(np.r_[y_passes[0], y]), np.inf]
        value = sum(
            integrate.quad(integrand, a, b, limit=200)[0]
            for a, b in itertools.pairwise(ends)
        )
        assert_allclose(crps_mixture([y], y_passes, noise_std), value, atol=1e-8)


def test_crps_of_point_masses_is_ensemble_crps():
    _, y_passes, _ = _random_mixture()
    y_true = np.linspace(-2, 2, len(y_passes))
    error = np.abs(y_true[:, np.newaxis] - y_passes).mean(axis=1)
    spread = np.abs(y_passes[:, :, np.newaxis] - y_passes[:, np.newaxis]).mean((1, 2))
    assert_allclose(
        crps_mixture(y_true, y_passes, 0.0), np.mean(error - 0.5 * spread), rtol=1e-12
    )


def test_crps_of_one_component_is_crps_gaussian():
    y_true, y_passes, noise_std = _random_mixture(k=1)
    expected = [
        crps_gaussian([y], [m], [s])
        for y, m, s in zip(y_true, y_passes[:, 0], noise_std[:, 0], strict=True)
    ]
    assert_allclose(
        _crps_per_row(y_true, y_passes, noise_std), expected, rtol=0, atol=1e-10
    )
    # So are K copies of that component.
    assert_allclose(
        crps_mixture(y_true, np.tile(y_passes, 7), np.tile(noise_std, 7)),
        crps_gaussian(y_true, y_passes[:, 0], noise_std[:, 0]),
        rtol=0,
        atol=1e-10,
    )


def test_crps_sample_weight():
    y_true, y_passes, noise_std = _random_mixture()
    weights = np.random.default_rng(3).uniform(size=len(y_true))
    assert_allclose(
        crps_mixture(y_true, y_passes, noise_std, sample_weight=weights),
        np.average(_crps_per_row(y_true, y_passes, noise_std), weights=weights),
        rtol=1e-12,
    )


def test_chunks_give_the_same_values(monkeypatch):
    y_true, y_passes, noise_std = _random_mixture(n=25, k=9)
    alphas = [0.05, 0.5, 0.9]
    expected = (
        crps_mixture(y_true, y_passes, noise_std),
        mixture_cdf(y_passes[:, :3], y_passes, noise_std),
        mixture_quantiles(y_passes, noise_std, alphas),
    )
    monkeypatch.setattr(_mixture, "_CHUNK_VALUES", 50)
    assert_allclose(crps_mixture(y_true, y_passes, noise_std), expected[0], rtol=1e-14)
    assert_array_equal(mixture_cdf(y_passes[:, :3], y_passes, noise_std), expected[1])
    assert_array_equal(mixture_quantiles(y_passes, noise_std, alphas), expected[2])


@pytest.mark.parametrize(
    "noise_std",
    [0.5, np.full((1, 1), 0.5), np.full((30, 1), 0.5), np.full((1, 20), 0.5)],
    ids=["scalar", "(1, 1)", "(n_samples, 1)", "(1, n_components)"],
)
def test_noise_std_broadcasts(noise_std):
    y_true, y_passes, _ = _random_mixture()
    full = np.full(y_passes.shape, 0.5)
    assert crps_mixture(y_true, y_passes, noise_std) == crps_mixture(
        y_true, y_passes, full
    )
    assert_array_equal(
        mixture_quantiles(y_passes, noise_std, [0.1, 0.7]),
        mixture_quantiles(y_passes, full, [0.1, 0.7]),
    )
    assert_array_equal(
        mixture_cdf(y_true, y_passes, noise_std), mixture_cdf(y_true, y_passes, full)
    )


def test_cdf_is_the_mean_of_the_components_cdfs():
    y_true, y_passes, noise_std = _random_mixture()
    expected = stats.norm.cdf(y_true[:, np.newaxis], y_passes, noise_std).mean(axis=1)
    assert_allclose(mixture_cdf(y_true, y_passes, noise_std), expected, rtol=1e-14)
    values = np.c_[y_true, y_true + 1.0]
    cdf = mixture_cdf(values, y_passes, noise_std)
    assert cdf.shape == (len(y_true), 2)
    assert_allclose(cdf[:, 0], expected, rtol=1e-14)


@pytest.mark.parametrize("mixture", [_bimodal, _skewed])
@pytest.mark.parametrize("confidence", [0.5, 0.9, 0.95])
def test_interval_holds_confidence(mixture, confidence):
    y_passes, noise_std = mixture()
    y_lower, y_upper = mixture_interval(y_passes, noise_std, confidence=confidence)
    assert y_lower.shape == y_upper.shape == (len(y_passes),)
    cdf = mixture_cdf(np.c_[y_lower, y_upper], y_passes, noise_std)
    assert_allclose(cdf[:, 1] - cdf[:, 0], confidence, rtol=0, atol=1e-6)
    assert_allclose(cdf[:, 0], 0.5 - 0.5 * confidence, rtol=0, atol=1e-10)
    # The Gaussian with the mixture's two moments gives another interval,
    # which does not hold the confidence under the mixture.
    gauss_lower, gauss_upper = _moment_interval(y_passes, noise_std, confidence)
    assert np.all(
        np.maximum(np.abs(y_lower - gauss_lower), np.abs(y_upper - gauss_upper)) > 0.05
    )
    gauss_cdf = mixture_cdf(np.c_[gauss_lower, gauss_upper], y_passes, noise_std)
    assert np.all(np.abs(gauss_cdf[:, 1] - gauss_cdf[:, 0] - confidence) > 0.005)


def test_quantiles_monotone_and_invert_cdf():
    _, y_passes, noise_std = _random_mixture()
    alphas = np.linspace(0.001, 0.999, 51)
    y_quantiles = mixture_quantiles(y_passes, noise_std, alphas)
    assert y_quantiles.shape == (len(y_passes), len(alphas))
    assert np.all(np.diff(y_quantiles, axis=1) > 0)
    cdf = mixture_cdf(y_quantiles, y_passes, noise_std)
    assert_allclose(cdf, np.broadcast_to(alphas, cdf.shape), rtol=0, atol=1e-10)
    for y_passes, noise_std in (_bimodal(), _skewed()):
        cdf = mixture_cdf(
            mixture_quantiles(y_passes, noise_std, alphas), y_passes, noise_std
        )
        assert_allclose(cdf, np.broadcast_to(alphas, cdf.shape), rtol=0, atol=1e-10)


def test_quantiles_of_one_component_are_norm_ppf():
    _, y_passes, noise_std = _random_mixture(k=1)
    alphas = np.array([1e-6, 0.025, 0.3, 0.5, 0.975, 1 - 1e-6])
    assert_allclose(
        mixture_quantiles(y_passes, noise_std, alphas),
        stats.norm.ppf(alphas, loc=y_passes, scale=noise_std),
        rtol=1e-12,
        atol=1e-12,
    )
    assert_allclose(
        mixture_quantiles(y_passes, noise_std, 0.3),
        stats.norm.ppf(0.3, loc=y_passes, scale=noise_std),
        rtol=1e-12,
    )


def test_quantiles_of_point_masses_invert_the_step_cdf():
    # With noise_std=0 the mixture is the empirical distribution of the
    # passes; its quantile is the least q with cdf(q) >= alpha.
    _, y_passes, _ = _random_mixture()
    alphas = [0.01, 0.33, 0.5 + 1e-3, 0.77, 0.99]
    assert_allclose(
        mixture_quantiles(y_passes, 0.0, alphas),
        np.quantile(y_passes, alphas, axis=1, method="inverted_cdf").T,
        rtol=0,
        atol=1e-14,
    )


def test_takes_the_passes_of_a_fitted_regressor():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = X[:, 0] + 0.3 * rng.normal(size=60)
    est = MCDropoutRegressor(
        hidden_layer_sizes=(16,), max_epochs=5, n_passes=20, random_state=0
    ).fit(X, y)
    y_passes, noise_std = est.predict_passes(X[:7], return_noise_std=True)
    y_mean, y_std = est.predict(X[:7], return_std=True)
    y_lower, y_upper = mixture_interval(y_passes, noise_std)
    assert np.all((y_lower < y_mean) & (y_mean < y_upper))
    # Each row's components are close together: nearly the Gaussian's values.
    assert_allclose(y_upper - y_lower, 2 * 1.96 * y_std, rtol=1e-2)
    assert_allclose(
        crps_mixture(y[:7], y_passes, noise_std),
        crps_gaussian(y[:7], y_mean, y_std),
        rtol=1e-2,
    )


def test_functions_do_not_modify_inputs():
    y_true, y_passes, noise_std = _random_mixture()
    weights = np.ones_like(y_true)
    copies = [a.copy() for a in (y_true, y_passes, noise_std, weights)]
    crps_mixture(y_true, y_passes, noise_std, sample_weight=weights)
    mixture_cdf(y_true, y_passes, noise_std)
    mixture_quantiles(y_passes, noise_std, [0.1, 0.9])
    mixture_interval(y_passes, noise_std)
    for array, copy in zip((y_true, y_passes, noise_std, weights), copies, strict=True):
        assert_array_equal(array, copy)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda y, p, s: crps_mixture(y[:-1], p, s), "inconsistent numbers of samples"),
        (lambda y, p, s: mixture_cdf(y[:-1], p, s), "inconsistent numbers of samples"),
        (lambda y, p, s: crps_mixture(y, p, s[:, :-1]), r"does not broadcast"),
        (lambda y, p, s: mixture_quantiles(p, s[:-1], 0.5), r"does not broadcast"),
        (lambda y, p, s: mixture_interval(p, s[0]), "ambiguous"),
        (lambda y, p, s: crps_mixture(y, p[..., None], s), r"one target at a time"),
        (lambda y, p, s: crps_mixture(y, p, -s), "noise_std must be non-negative"),
        (lambda y, p, s: mixture_interval(p, -0.1), "noise_std must be non-negative"),
        (lambda y, p, s: mixture_quantiles(p, s, [0.5, 1.0]), r"quantiles must be in"),
        (
            lambda y, p, s: mixture_quantiles(p, s, 0.0),
            r"quantiles must be in \(0, 1\)",
        ),
        (lambda y, p, s: mixture_quantiles(p, s, [-0.1]), r"quantiles must be in"),
        (lambda y, p, s: mixture_interval(p, s, confidence=1.5), "confidence must be"),
        (lambda y, p, s: crps_mixture(y, p, s, sample_weight=-y), "non-negative"),
        (lambda y, p, s: crps_mixture(y, np.where(p > 0, np.nan, p), s), "NaN"),
    ],
)
def test_validation(call, message):
    y_true, y_passes, noise_std = _random_mixture()
    with pytest.raises(ValueError, match=message):
        call(y_true, y_passes, noise_std)


# The estimator's own methods: predict_quantiles and predict_interval.


def test_estimator_quantiles_are_the_mixtures_of_its_passes(fitted_tiny):
    est, X, _ = fitted_tiny
    levels = [0.05, 0.3, 0.5, 0.975]
    y_passes, noise_std = est.predict_passes(X, return_noise_std=True)
    assert_allclose(
        est.predict_quantiles(X, levels),
        mixture_quantiles(y_passes, noise_std, levels),
        rtol=1e-12,
        atol=1e-12,
    )
    # Every level's quantile inverts the CDF of the mixture.
    for level in levels:
        cdf = mixture_cdf(est.predict_quantiles(X, level)[:, 0], y_passes, noise_std)
        assert_allclose(cdf, level, atol=1e-9)


@pytest.mark.parametrize("confidence", [0.5, 0.95])
def test_estimator_interval_holds_confidence(fitted_tiny, confidence):
    est, X, _ = fitted_tiny
    y_lower, y_upper = est.predict_interval(X, confidence=confidence)
    y_passes, noise_std = est.predict_passes(X, return_noise_std=True)
    assert_allclose(
        mixture_cdf(y_upper, y_passes, noise_std)
        - mixture_cdf(y_lower, y_passes, noise_std),
        confidence,
        atol=1e-6,
    )
    assert_allclose(mixture_cdf(y_lower, y_passes, noise_std), (1 - confidence) / 2)


def test_estimator_interval_follows_a_bimodal_mixture():
    # Two members that disagree far from the data, with little noise: the
    # mixture is bimodal there, and its interval is not y_mean +- 1.96 y_std.
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(80, 1))
    y = np.sin(3 * X[:, 0]) + 0.05 * rng.normal(size=80)
    est = MCDropoutRegressor(
        hidden_layer_sizes=(32,), max_epochs=60, n_passes=10, n_members=2,
        dropout=0.01, noise="homoscedastic", tau=1e4, random_state=1,
    ).fit(X, y)  # fmt: skip
    X_far = np.array([[4.0], [6.0]])
    y_lower, y_upper = est.predict_interval(X_far, confidence=0.95)
    y_mean, y_std = est.predict(X_far, return_std=True)
    y_passes, noise_std = est.predict_passes(X_far, return_noise_std=True)
    # The Gaussian's interval holds another probability under the mixture.
    gaussian_mass = mixture_cdf(
        y_mean + 1.96 * y_std, y_passes, noise_std
    ) - mixture_cdf(y_mean - 1.96 * y_std, y_passes, noise_std)
    assert np.all(np.abs(gaussian_mass - 0.95) > 0.02)
    mass = mixture_cdf(y_upper, y_passes, noise_std) - mixture_cdf(
        y_lower, y_passes, noise_std
    )
    assert_allclose(mass, 0.95, atol=1e-6)


def test_estimator_quantiles_stream_over_rows(fitted_regressor, monkeypatch):
    est, X, y = fitted_regressor
    expected = est.predict_quantiles(X, [0.1, 0.9])
    # Chunks of 3 rows of the 30 passes each: the masks are shared by all
    # rows, so the values depend on how the rows are split only by float32
    # rounding of the passes (about 1e-7 of the target's scale).
    monkeypatch.setattr(_mixture, "_CHUNK_VALUES", 90)
    assert_allclose(
        est.predict_quantiles(X, [0.1, 0.9]), expected, rtol=0, atol=1e-6 * np.ptp(y)
    )


@pytest.mark.parametrize("noise", ["homoscedastic", "heteroscedastic"])
def test_estimator_quantiles_per_target(noise):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    Y = np.column_stack([X[:, 0], 10 * X[:, 1] + 100]) + rng.normal(size=(50, 2))
    est = MCDropoutRegressor(
        hidden_layer_sizes=(16,), max_epochs=5, n_passes=15, noise=noise,
        random_state=0,
    ).fit(X, Y)  # fmt: skip
    y_quantiles = est.predict_quantiles(X[:9], [0.2, 0.5, 0.8])
    assert y_quantiles.shape == (9, 2, 3)
    y_lower, y_upper = est.predict_interval(X[:9], confidence=0.6)
    y_passes, noise_std = est.predict_passes(X[:9], return_noise_std=True)
    for j in range(2):
        assert_allclose(
            y_quantiles[:, j],
            mixture_quantiles(y_passes[:, j], noise_std[:, j], [0.2, 0.5, 0.8]),
            rtol=1e-12,
        )
        assert_allclose(y_lower[:, j], y_quantiles[:, j, 0], rtol=1e-12)
        assert_allclose(y_upper[:, j], y_quantiles[:, j, 2], rtol=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda est, X: est.predict_quantiles(X, [0.5, 1.0]), "quantiles must be in"),
        (lambda est, X: est.predict_quantiles(X, []), "quantiles"),
        (lambda est, X: est.predict_interval(X, confidence=0), "confidence must be"),
        (lambda est, X: est.predict_interval(X, confidence="0.9"), "confidence must"),
        (lambda est, X: est.predict_interval(X[:, :1]), "features"),
    ],
)
def test_estimator_quantiles_validation(fitted_tiny, call, message):
    est, X, _ = fitted_tiny
    with pytest.raises(ValueError, match=message):
        call(est, X)
