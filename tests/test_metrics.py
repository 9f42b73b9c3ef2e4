import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import integrate, stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import BayesianRidge
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mcdropout.metrics import (
    __all__,
    coverage_by_group,
    coverage_calibration_error,
    coverage_curve,
    crps_gaussian,
    gaussian_nll,
    interval_coverage,
    make_std_scorer,
    mc_log_likelihood,
    mean_interval_width,
    neg_calibration_error_scorer,
    neg_coverage_error_scorer,
    neg_crps_scorer,
    neg_gaussian_nll_scorer,
)
from sklearn_mcdropout.metrics._regression import _coverage_error_bars


def _gaussian_data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    y_mean = rng.normal(size=n)
    y_std = rng.uniform(0.5, 2.0, size=n)
    y_true = y_mean + y_std * rng.normal(size=n)
    return y_true, y_mean, y_std


class _FixedStdRegressor(RegressorMixin, BaseEstimator):
    """Predicts the training mean of y with a fixed predictive std."""

    def __init__(self, std=1.0):
        self.std = std

    def fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X, return_std=False):
        y_mean = np.full(np.shape(X)[0], self.mean_)
        if return_std:
            return y_mean, np.full_like(y_mean, self.std)
        return y_mean


def _standard_normal_problem(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = rng.normal(loc=3.0, scale=1.0, size=n)
    return X, y


def test_gaussian_nll_matches_scipy():
    y_true, y_mean, y_std = _gaussian_data()
    expected = -np.mean(stats.norm.logpdf(y_true, loc=y_mean, scale=y_std))
    assert_allclose(gaussian_nll(y_true, y_mean, y_std), expected, rtol=1e-12)


def test_gaussian_nll_closed_form():
    y_true, y_mean, y_std = _gaussian_data()
    expected = np.mean(
        0.5 * np.log(2 * np.pi * y_std**2) + (y_true - y_mean) ** 2 / (2 * y_std**2)
    )
    assert_allclose(gaussian_nll(y_true, y_mean, y_std), expected, rtol=1e-12)


def test_gaussian_nll_sample_weight():
    y_true, y_mean, y_std = _gaussian_data()
    weights = np.random.default_rng(1).uniform(0, 2, size=y_true.shape[0])
    expected = -np.average(
        stats.norm.logpdf(y_true, loc=y_mean, scale=y_std), weights=weights
    )
    result = gaussian_nll(y_true, y_mean, y_std, sample_weight=weights)
    assert_allclose(result, expected, rtol=1e-12)
    # Integer weights are equivalent to repeating rows.
    repeats = np.array([2, 0, 1] + [1] * (y_true.shape[0] - 3))
    assert_allclose(
        gaussian_nll(y_true, y_mean, y_std, sample_weight=repeats),
        gaussian_nll(
            np.repeat(y_true, repeats),
            np.repeat(y_mean, repeats),
            np.repeat(y_std, repeats),
        ),
        rtol=1e-12,
    )


def test_gaussian_nll_returns_python_float_and_accepts_column_vectors():
    y_true, y_mean, y_std = _gaussian_data()
    result = gaussian_nll(y_true[:, None], y_mean[:, None], y_std.tolist())
    assert isinstance(result, float)
    assert_allclose(result, gaussian_nll(y_true, y_mean, y_std))


def test_mc_log_likelihood_single_pass_is_gaussian_loglik():
    y_true, y_mean, _ = _gaussian_data()
    tau = 2.5
    std = np.full_like(y_mean, 1 / np.sqrt(tau))
    assert_allclose(
        mc_log_likelihood(y_true, y_mean[:, None], tau),
        -gaussian_nll(y_true, y_mean, std),
        rtol=1e-12,
    )


def test_mc_log_likelihood_identical_passes_is_gaussian_loglik():
    y_true, y_mean, _ = _gaussian_data()
    tau = 0.7
    y_passes = np.tile(y_mean[:, None], (1, 7))
    std = np.full_like(y_mean, 1 / np.sqrt(tau))
    assert_allclose(
        mc_log_likelihood(y_true, y_passes, tau),
        -gaussian_nll(y_true, y_mean, std),
        rtol=1e-12,
    )


def test_mc_log_likelihood_matches_hand_loop():
    rng = np.random.default_rng(0)
    n_samples, n_passes, tau = 6, 5, 3.0
    y_true = rng.normal(size=n_samples)
    y_passes = y_true[:, None] + rng.normal(scale=0.5, size=(n_samples, n_passes))
    per_sample = []
    for i in range(n_samples):
        log_density = (
            -0.5 * np.log(2 * np.pi)
            + 0.5 * np.log(tau)
            - 0.5 * tau * (y_true[i] - y_passes[i]) ** 2
        )
        per_sample.append(np.log(np.mean(np.exp(log_density))))
    assert_allclose(
        mc_log_likelihood(y_true, y_passes, tau), np.mean(per_sample), rtol=1e-12
    )


def test_mc_log_likelihood_is_stable_for_far_targets():
    # Naive exp/log underflows to log(0) = -inf here; log-sum-exp does not.
    y_passes = np.array([[0.0, 1.0]])
    result = mc_log_likelihood([100.0], y_passes, tau=100.0)
    expected = (
        stats.norm.logpdf(100.0, loc=1.0, scale=0.1)
        + np.log(1 + np.exp(-0.5 * 100.0 * (100.0**2 - 99.0**2)))
        - np.log(2)
    )
    assert np.isfinite(result)
    assert_allclose(result, expected, rtol=1e-12)


def test_mc_log_likelihood_validation():
    y_passes = np.zeros((3, 4))
    with pytest.raises(ValueError, match="tau must be a positive"):
        mc_log_likelihood(np.zeros(3), y_passes, tau=0.0)
    with pytest.raises(ValueError, match="tau must be a positive"):
        mc_log_likelihood(np.zeros(3), y_passes, tau=np.inf)
    with pytest.raises(ValueError, match="tau must be a positive"):
        mc_log_likelihood(np.zeros(3), y_passes, tau=np.ones(3))
    with pytest.raises(ValueError, match="samples: y_true 4, y_passes 3"):
        mc_log_likelihood(np.zeros(4), y_passes, tau=1.0)
    with pytest.raises(ValueError, match="Expected 2D array"):
        mc_log_likelihood(np.zeros(3), np.zeros(3), tau=1.0)
    bad = y_passes.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="y_passes contains NaN"):
        mc_log_likelihood(np.zeros(3), bad, tau=1.0)


@pytest.mark.parametrize(
    ("y", "m", "s"), [(0.0, 0.0, 1.0), (1.3, -0.2, 0.7), (-2.0, 1.0, 2.5)]
)
def test_crps_gaussian_matches_numerical_integration(y, m, s):
    def integrand(x):
        return (stats.norm.cdf(x, loc=m, scale=s) - float(x >= y)) ** 2

    below, _ = integrate.quad(integrand, -np.inf, y)
    above, _ = integrate.quad(integrand, y, np.inf)
    assert_allclose(crps_gaussian([y], [m], [s]), below + above, rtol=1e-7)


def test_crps_gaussian_weighted_mean_and_limit():
    y_true, y_mean, y_std = _gaussian_data()
    per_sample = [
        crps_gaussian([a], [b], [c])
        for a, b, c in zip(y_true, y_mean, y_std, strict=True)
    ]
    weights = np.arange(1, y_true.shape[0] + 1, dtype=float)
    assert_allclose(crps_gaussian(y_true, y_mean, y_std), np.mean(per_sample))
    assert_allclose(
        crps_gaussian(y_true, y_mean, y_std, sample_weight=weights),
        np.average(per_sample, weights=weights),
    )
    # As the std vanishes, the CRPS tends to the absolute error.
    assert_allclose(
        crps_gaussian(y_true, y_mean, np.full_like(y_std, 1e-9)),
        np.mean(np.abs(y_true - y_mean)),
        atol=1e-8,
    )


@settings(max_examples=50, deadline=None)
@given(
    y=st.floats(-1e3, 1e3),
    m=st.floats(-1e3, 1e3),
    s=st.floats(1e-3, 1e3),
)
def test_crps_gaussian_bounds(y, m, s):
    # 0 <= CRPS <= |y - m| + E|X - m| with E|X - m| = s sqrt(2 / pi).
    crps = crps_gaussian([y], [m], [s])
    assert crps >= 0
    assert crps <= abs(y - m) + s * np.sqrt(2 / np.pi) + 1e-9 * (1 + abs(y - m))


def test_interval_coverage_of_exact_gaussian_samples_is_nominal():
    y_true, y_mean, y_std = _gaussian_data(n=20_000)
    for confidence in (0.5, 0.8, 0.95):
        coverage = interval_coverage(y_true, y_mean, y_std, confidence=confidence)
        assert coverage == pytest.approx(confidence, abs=0.015)


def test_interval_coverage_counts_inside_interval():
    z = stats.norm.ppf(0.975)
    y_true = np.array([0.0, 1.0, 1.9, -3.0])
    y_std = np.ones(4)
    expected = np.mean(np.abs(y_true) <= z)
    assert interval_coverage(y_true, np.zeros(4), y_std) == expected == 0.75


def test_mean_interval_width():
    y_std = np.array([0.5, 1.0, 3.0])
    for confidence in (0.5, 0.9, 0.95):
        z = stats.norm.ppf((1 + confidence) / 2)
        assert_allclose(
            mean_interval_width(y_std, confidence=confidence), 2 * z * y_std.mean()
        )
    lo, hi = stats.norm.interval(0.9, scale=y_std)
    assert_allclose(mean_interval_width(y_std, confidence=0.9), np.mean(hi - lo))


def test_coverage_curve_matches_interval_coverage():
    y_true, y_mean, y_std = _gaussian_data(n=50)
    expected, observed = coverage_curve(y_true, y_mean, y_std)
    assert_allclose(expected, np.linspace(0.05, 0.95, 19))
    assert observed.shape == expected.shape
    assert_allclose(
        observed,
        [interval_coverage(y_true, y_mean, y_std, confidence=c) for c in expected],
    )
    assert np.all(np.diff(observed) >= 0)

    confidences = [0.2, 0.6]
    expected, _ = coverage_curve(y_true, y_mean, y_std, confidences=confidences)
    assert_allclose(expected, confidences)


def test_coverage_calibration_error_calibrated_vs_overconfident():
    y_true, y_mean, y_std = _gaussian_data(n=5_000)
    calibrated = coverage_calibration_error(y_true, y_mean, y_std)
    overconfident = coverage_calibration_error(y_true, y_mean, 0.1 * y_std)
    underconfident = coverage_calibration_error(y_true, y_mean, 10 * y_std)
    assert calibrated < 0.02
    assert overconfident > 0.3
    assert underconfident > 0.3
    expected, observed = coverage_curve(y_true, y_mean, 0.1 * y_std)
    assert np.all(observed < expected)
    assert_allclose(overconfident, np.mean(np.abs(observed - expected)))


# --------------------------------------------------------------------------
# coverage_by_group


def _binomial_tolerance(p, counts, n_std=4.0):
    """``n_std`` binomial standard errors of a proportion ``p`` over ``counts``."""
    return n_std * np.sqrt(p * (1 - p) / np.asarray(counts))


def test_coverage_by_group_by_hand():
    # y_std sorted 0.5, 1.0, ..., 3.0; np.quantile (linear) at 0, 1/3, 2/3, 1
    # sits at sorted positions 0, 5/3, 10/3, 5: edges 0.5, 4/3, 13/6, 3.0.
    y_std = np.array([2.0, 0.5, 3.0, 1.0, 2.5, 1.5])
    y_true = np.array([0.0, 1.0, 6.0, -1.9, 5.0, 3.0])
    y_mean = np.zeros(6)
    result = coverage_by_group(y_true, y_mean, y_std, n_bins=3)
    assert_allclose(result.bin_edges, [0.5, 4 / 3, 13 / 6, 3.0])
    assert_array_equal(result.labels, [0, 1, 2])
    assert_array_equal(result.group_index, [1, 0, 2, 0, 2, 1])
    assert_array_equal(result.counts, [2, 2, 2])
    # z = 1.96: |1.0| > 0.98 (std 0.5) out, |-1.9| <= 1.96 in; |0| in,
    # |3| <= 2.94 (std 1.5)? no; |6| <= 5.88? no, |5| <= 4.9? no.
    assert_allclose(result.coverage, [0.5, 0.5, 0.0])
    z = stats.norm.ppf(0.975)
    assert_allclose(result.mean_std, [0.75, 1.75, 2.75])
    assert_allclose(result.mean_width, 2 * z * np.array([0.75, 1.75, 2.75]))
    assert result.confidence == 0.95
    assert result.by == "y_std"
    for group in range(3):
        rows = result.group_index == group
        assert result.coverage[group] == interval_coverage(
            y_true[rows], y_mean[rows], y_std[rows]
        )
        assert_allclose(
            result.mean_width[group], mean_interval_width(y_std[rows]), rtol=1e-14
        )


def test_coverage_by_group_ties_and_empty_bins():
    # Edges 1, 1, 4/3, 2: the bin [1, 1) is empty and dropped; the rows equal
    # to 1 lie in [1, 4/3) and those equal to 2 in the last, closed bin.
    y_std = np.array([1.0, 2.0, 1.0, 1.0, 2.0, 1.0])
    result = coverage_by_group(np.zeros(6), np.zeros(6), y_std, n_bins=3)
    assert_allclose(result.bin_edges, [1.0, 4 / 3, 2.0])
    assert_array_equal(result.counts, [4, 2])
    assert_array_equal(result.group_index, [0, 1, 0, 0, 1, 0])
    # All values equal: one closed bin [v, v].
    result = coverage_by_group([0.0, 1.0, 2.0], np.zeros(3), np.ones(3), n_bins=4)
    assert_allclose(result.bin_edges, [1.0, 1.0])
    assert_array_equal(result.counts, [3])
    # More bins than samples: only the filled ones are kept.
    result = coverage_by_group(
        [0.0, 1.0], np.zeros(2), np.ones(2), by="y_true", n_bins=4
    )
    assert_allclose(result.bin_edges, [0.0, 0.75, 1.0])
    assert_array_equal(result.counts, [1, 1])
    # One bin is the whole sample.
    y_true, y_mean, y_std = _gaussian_data(n=30)
    result = coverage_by_group(y_true, y_mean, y_std, n_bins=1)
    assert_allclose(result.bin_edges, [y_std.min(), y_std.max()])
    assert result.coverage.tolist() == [interval_coverage(y_true, y_mean, y_std)]


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(st.integers(0, 6), min_size=1, max_size=40),
    n_bins=st.integers(1, 12),
)
def test_coverage_by_group_every_row_in_exactly_its_bin(values, n_bins):
    values = np.array(values, dtype=float)
    n = len(values)
    for by, y_true, y_std in [
        ("y_true", values, np.ones(n)),
        ("y_std", 0 * values, values + 1),
    ]:
        result = coverage_by_group(y_true, np.zeros(n), y_std, by=by, n_bins=n_bins)
        binned = y_true if by == "y_true" else y_std
        edges, index = result.bin_edges, result.group_index
        n_groups = len(result.labels)
        assert 1 <= n_groups <= n_bins
        assert edges.shape == (n_groups + 1,)
        assert np.all(np.diff(edges[:-1]) > 0)
        assert edges[0] == binned.min()
        assert edges[-1] == binned.max()
        assert np.all(edges[index] <= binned)
        last = index == n_groups - 1
        assert np.all(binned[~last] < edges[index[~last] + 1])
        assert_array_equal(result.counts, np.bincount(index, minlength=n_groups))
        assert np.all(result.counts > 0)


def test_coverage_by_group_equal_counts_without_ties():
    y_true, y_mean, y_std = _gaussian_data(n=100)
    for n_bins in (1, 4, 5, 10):
        result = coverage_by_group(y_true, y_mean, y_std, n_bins=n_bins)
        assert_array_equal(result.counts, np.full(n_bins, 100 // n_bins))
        # Bins of y_std are ordered: each bin's stds exceed the previous bin's.
        sorted_index = result.group_index[np.argsort(y_std)]
        assert np.all(np.diff(sorted_index) >= 0)


def test_coverage_by_group_calibrated_data_is_nominal_in_every_group():
    rng = np.random.default_rng(0)
    n = 40_000
    y_mean = rng.normal(size=n)
    y_std = rng.lognormal(sigma=0.7, size=n)
    y_true = rng.normal(y_mean, y_std)
    groups = rng.choice(["north", "south", "east"], size=n)
    for confidence in (0.5, 0.95):
        for by in ("y_std", groups):
            result = coverage_by_group(
                y_true, y_mean, y_std, by=by, n_bins=5, confidence=confidence
            )
            assert np.all(
                np.abs(result.coverage - confidence)
                <= _binomial_tolerance(confidence, result.counts)
            )
    assert result.labels.tolist() == ["east", "north", "south"]
    assert result.by == "groups"
    assert result.bin_edges is None


def test_coverage_by_group_finds_the_overconfident_half():
    # The model's std is right in one half of the rows and half the true noise
    # std in the other, where its 95% intervals cover P(|Z| <= 1.96 / 2).
    rng = np.random.default_rng(1)
    n = 20_000
    true_std = np.r_[rng.uniform(1.0, 2.0, n // 2), rng.uniform(4.0, 6.0, n // 2)]
    y_std = np.r_[true_std[: n // 2], true_std[n // 2 :] / 2]
    y_mean = rng.normal(size=n)
    y_true = rng.normal(y_mean, true_std)
    halved = 2 * stats.norm.cdf(stats.norm.ppf(0.975) / 2) - 1  # 0.673
    expected = np.array([0.95, 0.95, halved, halved])

    # The lower two quartiles of y_std, [1, 2], are the calibrated half.
    result = coverage_by_group(y_true, y_mean, y_std, by="y_std", n_bins=4)
    assert result.bin_edges[2] == pytest.approx(2.0, abs=1e-3)
    assert np.all(
        np.abs(result.coverage - expected) <= _binomial_tolerance(expected, 5_000)
    )
    # The overall coverage only says "too low".
    assert interval_coverage(y_true, y_mean, y_std) == pytest.approx(
        (0.95 + halved) / 2, abs=0.02
    )
    # The same with the halves as user groups of strings.
    labels = np.where(np.arange(n) < n // 2, "calibrated", "halved")
    result = coverage_by_group(y_true, y_mean, y_std, by=labels.tolist())
    assert result.labels.tolist() == ["calibrated", "halved"]
    assert_array_equal(result.counts, [n // 2, n // 2])
    assert np.all(
        np.abs(result.coverage - [0.95, halved])
        <= _binomial_tolerance(np.array([0.95, halved]), n // 2)
    )
    z = stats.norm.ppf(0.975)
    assert_allclose(
        result.mean_width,
        [2 * z * y_std[: n // 2].mean(), 2 * z * y_std[n // 2 :].mean()],
    )


def test_coverage_by_group_by_target_conditions_on_the_noise():
    # y ~ N(0, 1) predicted exactly: the quintile bins of y are the quintiles
    # of Z, and a bin [a, b) is covered with P(a <= Z < b, |Z| <= z) / 0.2.
    rng = np.random.default_rng(2)
    n = 50_000
    y_true = rng.normal(size=n)
    result = coverage_by_group(y_true, np.zeros(n), np.ones(n), by="y_true")
    z = stats.norm.ppf(0.975)
    lo, hi = np.clip(result.bin_edges[:-1], -z, z), np.clip(result.bin_edges[1:], -z, z)
    share = np.diff(stats.norm.cdf(result.bin_edges))
    expected = (stats.norm.cdf(hi) - stats.norm.cdf(lo)) / share
    assert_allclose(expected, [0.875, 1.0, 1.0, 1.0, 0.875], atol=0.01)
    assert np.all(
        np.abs(result.coverage - expected) <= _binomial_tolerance(0.9, result.counts)
    )
    assert_allclose(result.coverage[1:4], 1.0)


def test_coverage_by_group_labels():
    y_true, y_mean, y_std = _gaussian_data(n=12)
    groups = np.array([3, 1, 2] * 4)
    result = coverage_by_group(y_true, y_mean, y_std, by=groups[:, np.newaxis])
    assert_array_equal(result.labels, [1, 2, 3])
    assert_array_equal(result.group_index, groups - 1)
    assert_array_equal(result.counts, [4, 4, 4])
    # n_bins does not apply to labels.
    same = coverage_by_group(y_true, y_mean, y_std, by=groups, n_bins=2)
    assert_array_equal(same.coverage, result.coverage)
    for group in (1, 2, 3):
        rows = groups == group
        assert_allclose(result.mean_std[group - 1], y_std[rows].mean())
        assert result.coverage[group - 1] == interval_coverage(
            y_true[rows], y_mean[rows], y_std[rows]
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"by": "std"}, "by must be 'y_std', 'y_true' or an array-like of group"),
        ({"by": "groups"}, "by must be 'y_std', 'y_true' or an array-like"),
        ({"by": ["a", "b"]}, "inconsistent numbers of samples: y_true 3, by 2"),
        ({"by": np.zeros((3, 2))}, r"by must be 1d.*got shape \(3, 2\)"),
        ({"by": [1.0, np.nan, 2.0]}, "by contains NaN"),
        ({"by": np.array(["a", 1, 2], dtype=object)}, "must be sortable"),
        ({"n_bins": 0}, "n_bins must be a positive integer, got 0"),
        ({"n_bins": 2.5}, "n_bins must be a positive integer, got 2.5"),
        ({"n_bins": True}, "n_bins must be a positive integer, got True"),
        ({"confidence": 1.0}, r"confidence must be in \(0, 1\)"),
    ],
)
def test_coverage_by_group_validation(kwargs, match):
    y = np.array([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=match):
        coverage_by_group(y, y, np.ones(3), **kwargs)


def test_coverage_by_group_shares_the_array_validation():
    y = np.array([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="y_std must be positive"):
        coverage_by_group(y, y, [1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="y_true 3, y_mean 2, y_std 3"):
        coverage_by_group(y, y[:2], np.ones(3))
    with pytest.raises(ValueError, match="y_true must not be empty"):
        coverage_by_group([], [], [], by=[])


def test_coverage_error_bars_by_hand():
    # 2 sqrt(0.9 * 0.1 / 100) = 0.06 and 2 sqrt(0.9 * 0.1 / 4) = 0.3; a bar
    # stops at 1 above a coverage of 1 and at 0 below a coverage of 0.02.
    bars = _coverage_error_bars([0.85, 1.0, 0.02], [100, 4, 100], confidence=0.9)
    assert_allclose(bars, [[0.06, 0.3, 0.02], [0.06, 0.0, 0.06]])


def test_coverage_error_bars_are_two_binomial_standard_errors():
    counts = np.array([3, 10, 75, 400])
    bars = _coverage_error_bars(np.full(4, 0.5), counts, confidence=0.8)
    # The standard error of a fraction of Bernoulli(0.8) outcomes.
    standard_error = stats.binom.std(counts, 0.8) / counts
    assert_allclose(bars, [2 * standard_error, 2 * standard_error])


_GAUSSIAN_METRICS = [
    gaussian_nll,
    crps_gaussian,
    interval_coverage,
    coverage_curve,
    coverage_calibration_error,
]


@pytest.mark.parametrize("metric", _GAUSSIAN_METRICS)
def test_validation_errors(metric):
    y = np.array([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="y_std must be positive"):
        metric(y, y, np.array([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="y_std must be positive"):
        metric(y, y, np.array([1.0, 0.0, 1.0]))
    with pytest.raises(
        ValueError, match="inconsistent numbers of samples: y_true 3, y_mean 2, y_std 3"
    ):
        metric(y, y[:2], np.ones(3))
    with pytest.raises(ValueError, match="y_true contains NaN"):
        metric(np.array([0.0, np.nan, 2.0]), y, np.ones(3))
    with pytest.raises(ValueError, match="y_mean contains infinity"):
        metric(y, np.array([0.0, np.inf, 2.0]), np.ones(3))
    with pytest.raises(ValueError, match="y_std contains NaN"):
        metric(y, y, np.array([1.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match=r"y_mean must be 1d|must have one shape"):
        metric(y, np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match="y_true must not be empty, got 0 samples"):
        metric([], [], [])
    # A column vector is a 1d input.
    column = metric(y[:, None], y, np.ones((3, 1)))
    np.testing.assert_equal(column, metric(y, y, np.ones(3)))


@pytest.mark.parametrize(
    ("confidence", "match"),
    [
        (0.0, r"confidence must be in \(0, 1\)"),
        (1.0, r"confidence must be in \(0, 1\)"),
        (-0.1, r"confidence must be in \(0, 1\)"),
        (1.5, r"confidence must be in \(0, 1\)"),
        ("0.9", r"confidence must be in \(0, 1\)"),
        (True, r"confidence must be in \(0, 1\)"),
        ([0.9], r"confidence must be in \(0, 1\)"),
        (np.nan, "confidence contains NaN"),
    ],
)
def test_confidence_validation(confidence, match):
    y = np.zeros(3)
    with pytest.raises(ValueError, match=match):
        interval_coverage(y, y, np.ones(3), confidence=confidence)
    with pytest.raises(ValueError, match=match):
        mean_interval_width(np.ones(3), confidence=confidence)


@pytest.mark.parametrize("confidences", [[0.5, 1.0], [0.0, 0.5], [0.5, 2.0]])
def test_confidences_validation(confidences):
    y = np.zeros(3)
    with pytest.raises(ValueError, match=r"confidences must be in \(0, 1\)"):
        coverage_curve(y, y, np.ones(3), confidences=confidences)
    with pytest.raises(ValueError, match=r"confidences must be in \(0, 1\)"):
        coverage_calibration_error(y, y, np.ones(3), confidences=confidences)
    with pytest.raises(ValueError, match="confidences contains NaN"):
        coverage_curve(y, y, np.ones(3), confidences=[0.5, np.nan])
    with pytest.raises(ValueError, match=r"confidences must be 1d.*got shape \(\)"):
        coverage_curve(y, y, np.ones(3), confidences=0.5)


@pytest.mark.parametrize("metric", [gaussian_nll, crps_gaussian])
def test_sample_weight_validation(metric):
    y = np.zeros(3)
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        metric(y, y, np.ones(3), sample_weight=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="sample_weight must have a positive sum"):
        metric(y, y, np.ones(3), sample_weight=np.zeros(3))
    with pytest.raises(ValueError, match="sample_weight has 2 samples"):
        metric(y, y, np.ones(3), sample_weight=[1.0, 1.0])
    with pytest.raises(ValueError, match="sample_weight contains NaN"):
        metric(y, y, np.ones(3), sample_weight=[1.0, np.nan, 1.0])


def test_mean_interval_width_validation():
    with pytest.raises(ValueError, match="y_std must be positive"):
        mean_interval_width([1.0, -2.0])
    with pytest.raises(ValueError, match="y_std contains NaN"):
        mean_interval_width([1.0, np.nan])


def test_inputs_not_modified():
    y_true, y_mean, y_std = _gaussian_data()
    y_passes = y_mean[:, None] + np.zeros((1, 4))
    weights = np.ones_like(y_true)
    confidences = np.array([0.3, 0.9])
    arrays = [y_true, y_mean, y_std, y_passes, weights, confidences]
    for array in arrays:
        array.setflags(write=False)
    copies = [array.copy() for array in arrays]

    gaussian_nll(y_true, y_mean, y_std, sample_weight=weights)
    crps_gaussian(y_true, y_mean, y_std, sample_weight=weights)
    mc_log_likelihood(y_true, y_passes, 2.0)
    interval_coverage(y_true, y_mean, y_std)
    mean_interval_width(y_std)
    expected, _ = coverage_curve(y_true, y_mean, y_std, confidences=confidences)
    expected[:] = 0.0  # the returned levels are a copy
    coverage_calibration_error(y_true, y_mean, y_std, confidences=confidences)
    coverage_by_group(y_true, y_mean, y_std, by=weights)
    coverage_by_group(y_true, y_mean, y_std, by="y_true")

    for array, copy in zip(arrays, copies, strict=True):
        assert_allclose(array, copy)


def test_public_api():
    assert sorted(__all__) == __all__
    assert set(__all__) == {
        "brier_score",
        "coverage_by_group",
        "coverage_calibration_error",
        "coverage_curve",
        "crps_gaussian",
        "crps_mixture",
        "expected_calibration_error",
        "expected_entropy",
        "gaussian_nll",
        "interval_coverage",
        "make_std_scorer",
        "mc_log_likelihood",
        "mean_interval_width",
        "mixture_cdf",
        "mixture_interval",
        "mixture_quantiles",
        "mutual_information",
        "neg_brier_score_scorer",
        "neg_calibration_error_scorer",
        "neg_coverage_error_scorer",
        "neg_crps_scorer",
        "neg_expected_calibration_error_scorer",
        "neg_gaussian_nll_scorer",
        "predictive_entropy",
        "variation_ratio",
    }


def test_scorers_match_metrics():
    X, y = _standard_normal_problem()
    est = _FixedStdRegressor(std=0.5).fit(X, y)
    y_mean, y_std = est.predict(X, return_std=True)
    assert_allclose(neg_gaussian_nll_scorer(est, X, y), -gaussian_nll(y, y_mean, y_std))
    assert_allclose(neg_crps_scorer(est, X, y), -crps_gaussian(y, y_mean, y_std))
    assert_allclose(
        neg_calibration_error_scorer(est, X, y),
        -coverage_calibration_error(y, y_mean, y_std),
    )
    assert_allclose(
        neg_coverage_error_scorer(est, X, y),
        -abs(interval_coverage(y, y_mean, y_std, confidence=0.95) - 0.95),
    )
    coverage_scorer = make_std_scorer(interval_coverage, confidence=0.5)
    assert_allclose(
        coverage_scorer(est, X, y),
        interval_coverage(y, y_mean, y_std, confidence=0.5),
    )


def test_scorer_sample_weight():
    X, y = _standard_normal_problem()
    est = _FixedStdRegressor(std=0.5).fit(X, y)
    y_mean, y_std = est.predict(X, return_std=True)
    weights = np.random.default_rng(0).uniform(size=y.shape[0])
    assert_allclose(
        neg_gaussian_nll_scorer(est, X, y, sample_weight=weights),
        -gaussian_nll(y, y_mean, y_std, sample_weight=weights),
    )
    with pytest.warns(UserWarning, match="does not accept sample_weight"):
        score = neg_coverage_error_scorer(est, X, y, sample_weight=weights)
    assert_allclose(score, neg_coverage_error_scorer(est, X, y))


def test_scorer_repr_and_pickle():
    assert repr(neg_gaussian_nll_scorer) == (
        "make_std_scorer(gaussian_nll, greater_is_better=False)"
    )
    assert repr(neg_coverage_error_scorer) == (
        "make_std_scorer(_abs_coverage_error, greater_is_better=False, confidence=0.95)"
    )
    assert repr(make_std_scorer(interval_coverage, confidence=0.9)) == (
        "make_std_scorer(interval_coverage, confidence=0.9)"
    )
    assert "GridSearchCV" in neg_gaussian_nll_scorer.__doc__
    X, y = _standard_normal_problem(n=20)
    est = _FixedStdRegressor().fit(X, y)
    restored = pickle.loads(pickle.dumps(neg_crps_scorer))
    assert restored(est, X, y) == neg_crps_scorer(est, X, y)


def test_scorer_rejects_estimator_without_std():
    class _MeanOnly(_FixedStdRegressor):
        def predict(self, X, return_std=False):
            return np.zeros(np.shape(X)[0])

    X, y = _standard_normal_problem(n=10)
    with pytest.raises(ValueError, match=r"must return a \(y_mean, y_std\) tuple"):
        neg_gaussian_nll_scorer(_MeanOnly().fit(X, y), X, y)
    with pytest.raises(ValueError, match="score_func must be callable"):
        make_std_scorer("gaussian_nll")


def test_grid_search_selects_calibrated_std():
    X, y = _standard_normal_problem()
    pipe = make_pipeline(StandardScaler(), _FixedStdRegressor())
    grid = {"_fixedstdregressor__std": [0.1, 0.3, 1.0, 3.0, 10.0]}
    for scorer in (neg_gaussian_nll_scorer, neg_crps_scorer):
        search = GridSearchCV(pipe, grid, scoring=scorer, cv=3).fit(X, y)
        assert search.best_params_ == {"_fixedstdregressor__std": 1.0}
        best_score = scorer(search.best_estimator_, X, y)
        assert search.best_score_ == pytest.approx(best_score, abs=0.1)


def test_grid_search_multimetric_refit():
    X, y = _standard_normal_problem()
    pipe = make_pipeline(StandardScaler(), _FixedStdRegressor())
    grid = {"_fixedstdregressor__std": [0.1, 1.0, 10.0]}
    scoring = {
        "nll": neg_gaussian_nll_scorer,
        "crps": neg_crps_scorer,
        "calibration": neg_calibration_error_scorer,
        "coverage": neg_coverage_error_scorer,
    }
    search = GridSearchCV(pipe, grid, scoring=scoring, refit="nll", cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search.fit(X, y)
    assert search.best_params_ == {"_fixedstdregressor__std": 1.0}
    for name in scoring:
        scores = search.cv_results_[f"mean_test_{name}"]
        assert np.all(scores <= 0)
        assert np.argmax(scores) == 1


def test_scorers_with_real_regressor():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + rng.normal(scale=0.3, size=150)
    pipe = make_pipeline(StandardScaler(), BayesianRidge())
    nll = cross_val_score(pipe, X, y, scoring=neg_gaussian_nll_scorer, cv=3)
    assert_allclose(nll, -stats.norm.entropy(scale=0.3), atol=0.3)
    results = cross_validate(
        pipe, X, y, cv=3, scoring={"coverage": neg_coverage_error_scorer}
    )
    assert np.all(results["test_coverage"] > -0.1)
