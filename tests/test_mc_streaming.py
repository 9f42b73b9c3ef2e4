"""The streamed log-likelihood of the predictive mixture against stored passes."""

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import norm

from sklearn_mcdropout import MCDropoutRegressor

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3))
y = X[:, 0] + 0.3 * rng.normal(size=200)


def _stored(passes, noise_std, y_true):
    log_pdf = norm.logpdf(y_true[:, None], passes, noise_std)
    return logsumexp(log_pdf, axis=1) - np.log(passes.shape[1])


@pytest.mark.parametrize("noise", ["homoscedastic", "heteroscedastic"])
@pytest.mark.parametrize("n_members", [1, 4])
def test_streamed_log_likelihood_equals_the_stored_passes(noise, n_members):
    est = MCDropoutRegressor(
        hidden_layer_sizes=(16,), max_epochs=5, n_passes=50, noise=noise,
        n_members=n_members, random_state=0,
    ).fit(X, y)  # fmt: skip
    passes, noise_std = est.predict_passes(X[:40], return_noise_std=True)
    mean, ll = est._streamed_log_likelihoods(X[:40], y[:40])
    np.testing.assert_allclose(ll[:, 0, 0, 0], _stored(passes, noise_std, y[:40]))
    np.testing.assert_allclose(mean[:, 0, 0], est.predict(X[:40]), atol=1e-12)
    if n_members > 1:  # members 2 and 3 as the second group
        mean, ll = est._streamed_log_likelihoods(X[:40], y[:40], n_groups=2)
        second = (slice(None), slice(None), slice(2, 4))
        shape = (40, est.n_passes, n_members)
        p = passes.reshape(shape)[second].reshape(40, -1)
        s = noise_std.reshape(shape)[second].reshape(40, -1)
        np.testing.assert_allclose(ll[:, 0, 1, 0], _stored(p, s, y[:40]))
        np.testing.assert_allclose(mean[:, 0, 1], p.mean(axis=1), atol=1e-12)


def test_streamed_log_likelihood_over_a_tau_grid():
    est = MCDropoutRegressor(
        hidden_layer_sizes=(16,), noise="homoscedastic", max_epochs=5, n_passes=50,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    taus = [0.5, 2.0, 1e4]  # the largest makes most passes' densities underflow
    passes = est.predict_passes(X[:40])
    _, ll = est._streamed_log_likelihoods(X[:40], y[:40], precisions=taus)
    for k, tau in enumerate(taus):
        expected = _stored(passes, 1 / np.sqrt(tau), y[:40])
        np.testing.assert_allclose(ll[:, 0, 0, k], expected, rtol=1e-10)


def test_heteroscedastic_variances_scaled_by_a_grid():
    # With the heteroscedastic model, each tau of the grid divides every
    # pass's predicted noise variance (the grid of its noise scale).
    est = MCDropoutRegressor(
        hidden_layer_sizes=(16,), max_epochs=5, n_passes=50, noise="heteroscedastic",
        n_members=2, random_state=0,
    ).fit(X, y)  # fmt: skip
    taus = [1 / 16, 0.7, 1.0, 30.0]
    passes, noise_std = est.predict_passes(X[:40], return_noise_std=True)
    _, ll = est._streamed_log_likelihoods(X[:40], y[:40], precisions=taus)
    for k, tau in enumerate(taus):
        expected = _stored(passes, noise_std / np.sqrt(tau), y[:40])
        np.testing.assert_allclose(ll[:, 0, 0, k], expected, rtol=1e-10)


def test_tau_grid_over_many_small_blocks(monkeypatch):
    # Blocks of one pass and chunks of 64 rows: the nearest pass of a row
    # changes from block to block, and the sums are rescaled to it; the
    # terms in chunks of a few entries.
    from sklearn_mcdropout import _mc

    est = MCDropoutRegressor(
        hidden_layer_sizes=(16,), dropout=0.1, noise="homoscedastic", max_epochs=5,
        n_passes=30, n_members=2, random_state=0,
    ).fit(X, y)  # fmt: skip
    taus = [0.5, 2.0, 1e4]
    monkeypatch.setattr(_mc, "_CHUNK_ELEMENTS", 64)
    monkeypatch.setattr(_mc, "_LSE_CHUNK", 8)
    passes = est.predict_passes(X[:150])  # the same chunks of rows
    mean, ll = est._streamed_log_likelihoods(X[:150], y[:150], taus, n_groups=2)
    for g in range(2):
        own = passes.reshape(150, 30, 2)[:, :, g]
        np.testing.assert_allclose(mean[:, 0, g], own.mean(axis=1), atol=1e-12)
        for k, tau in enumerate(taus):
            expected = _stored(own, 1 / np.sqrt(tau), y[:150])
            np.testing.assert_allclose(ll[:, 0, g, k], expected, rtol=1e-10)
