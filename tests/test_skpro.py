"""MCDropoutProbaRegressor: skpro's conformance checks, and the mixture it returns.

The distribution skpro receives is the mixture of the passes that
``predict_passes(X, return_noise_std=True)`` gives: its moments, quantiles
and CRPS are checked against the library's own functions of the passes.
"""

import copy
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from conftest import sine_data

pytest.importorskip("skpro")

from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from skpro.distributions import NormalMixture
from skpro.metrics import CRPS
from skpro.regression.compose import Pipeline
from skpro.utils import check_estimator

from sklearn_mcdropout import MCDropoutProbaRegressor, MCDropoutRegressor
from sklearn_mcdropout._skpro import _PassMixture
from sklearn_mcdropout.metrics import (
    crps_gaussian,
    crps_mixture,
    mixture_interval,
    mixture_quantiles,
)


def _small(**params):
    return MCDropoutRegressor(
        hidden_layer_sizes=(16,),
        dropout=0.1,
        noise="homoscedastic",
        max_epochs=5,
        n_passes=20,
        random_state=0,
    ).set_params(**params)


def _frames(n_targets=1, n=120):
    X, y = sine_data(n=n)
    X = pd.DataFrame(X, columns=["a", "b", "c"], index=np.arange(n) + 1000)
    y = np.column_stack([y, X["a"] ** 2][:n_targets])
    return X, pd.DataFrame(y, columns=["y", "y2"][:n_targets], index=X.index)


@pytest.fixture(scope="module")
def fitted():
    X, y = _frames()
    return MCDropoutProbaRegressor(_small()).fit(X, y), X, y


@pytest.fixture(scope="module")
def fitted_two_targets():
    """Heteroscedastic ensemble of two members: 2 x 20 components per target."""
    X, y = _frames(n_targets=2)
    estimator = _small(noise="heteroscedastic", n_members=2)
    return MCDropoutProbaRegressor(estimator).fit(X, y), X, y


def _passes(reg, X):
    return reg.estimator_.predict_passes(X.to_numpy(), return_noise_std=True)


def test_check_estimator():
    check_estimator(MCDropoutProbaRegressor, raise_exceptions=True, verbose=False)


def test_check_estimator_of_the_distribution():
    check_estimator(_PassMixture, raise_exceptions=True, verbose=False)


def test_importing_the_package_does_not_import_skpro():
    code = "import sys, sklearn_mcdropout; assert 'skpro' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_predict_proba_is_the_mixture_of_the_passes(fitted):
    reg, X, _ = fitted
    y_pred = reg.predict_proba(X)
    mu, sigma = _passes(reg, X)
    assert isinstance(y_pred, NormalMixture)
    assert y_pred.shape == (len(X), 1)
    assert list(y_pred.columns) == ["y"]
    assert_allclose(y_pred.mean()["y"], mu.mean(axis=1))
    assert_allclose(y_pred.var()["y"], mu.var(axis=1) + (sigma**2).mean(axis=1))
    pd.testing.assert_index_equal(y_pred.index, X.index)
    # predict and predict_var, computed without the distribution, agree.
    assert_allclose(reg.predict(X)["y"], mu.mean(axis=1), rtol=1e-6)
    assert_allclose(reg.predict_var(X), y_pred.var(), rtol=1e-5)


def test_predict_interval_and_quantiles_are_the_mixtures(fitted):
    reg, X, _ = fitted
    mu, sigma = _passes(reg, X)
    interval = reg.predict_interval(X, coverage=0.9)
    y_lower, y_upper = mixture_interval(mu, sigma, confidence=0.9)
    assert_allclose(interval[("y", 0.9, "lower")], y_lower, rtol=1e-10)
    assert_allclose(interval[("y", 0.9, "upper")], y_upper, rtol=1e-10)
    quantiles = reg.predict_quantiles(X, alpha=[0.1, 0.5, 0.7])
    assert_allclose(
        quantiles.to_numpy(), mixture_quantiles(mu, sigma, [0.1, 0.5, 0.7]), rtol=1e-10
    )
    # The same as the estimator's own methods, without skpro.
    own_lower, own_upper = reg.estimator_.predict_interval(X.to_numpy(), 0.9)
    assert_allclose(own_lower, y_lower, rtol=1e-10)
    assert_allclose(own_upper, y_upper, rtol=1e-10)
    own_quantiles = reg.estimator_.predict_quantiles(X.to_numpy(), [0.1, 0.5, 0.7])
    assert_allclose(own_quantiles, quantiles.to_numpy(), rtol=1e-10)


def test_crps_is_the_mixtures(fitted):
    reg, X, y = fitted
    y_pred = reg.predict_proba(X)
    mu, sigma = _passes(reg, X)
    expected = crps_mixture(y["y"], mu, sigma)
    assert_allclose(CRPS()(y, y_pred), expected, rtol=1e-10)
    # A subset keeps the exact energy.
    head = y_pred.iloc[:10]
    assert isinstance(head, _PassMixture)
    assert_allclose(
        CRPS()(y.iloc[:10], head), crps_mixture(y["y"][:10], mu[:10], sigma[:10])
    )


def test_crps_of_one_component_is_the_gaussians():
    rng = np.random.default_rng(0)
    y_mean, y_std = rng.normal(size=5), rng.uniform(0.5, 2, size=5)
    y = y_mean + rng.normal(size=5)
    y_pred = _PassMixture(mu=y_mean[:, None, None], sigma=y_std[:, None, None])
    crps = y_pred.energy(y[:, None]) - y_pred.energy() / 2
    rows = zip(y, y_mean, y_std, strict=True)
    expected = [crps_gaussian([v], [m], [s]) for v, m, s in rows]
    assert_allclose(crps["energy"], expected, rtol=1e-12)
    # E|X - X'| of N(m, s^2) is 2 s / sqrt(pi).
    assert_allclose(y_pred.energy()["energy"], 2 * y_std / np.sqrt(np.pi))


def test_several_targets(fitted_two_targets):
    reg, X, y = fitted_two_targets
    y_pred = reg.predict_proba(X)
    mu, sigma = _passes(reg, X)  # (n, 2 targets, 40 components)
    assert mu.shape == (len(X), 2, 40)
    assert y_pred.shape == (len(X), 2)
    assert list(y_pred.columns) == ["y", "y2"]
    interval = reg.predict_interval(X, coverage=0.9)
    for j, name in enumerate(["y", "y2"]):
        assert_allclose(y_pred.mean()[name], mu[:, j].mean(axis=1))
        y_lower, y_upper = mixture_interval(mu[:, j], sigma[:, j], confidence=0.9)
        assert_allclose(interval[(name, 0.9, "lower")], y_lower, rtol=1e-10)
        assert_allclose(interval[(name, 0.9, "upper")], y_upper, rtol=1e-10)
    assert_allclose(reg.predict(X), y_pred.mean(), rtol=1e-5)
    assert_allclose(reg.predict_var(X), y_pred.var(), rtol=1e-5)
    # skpro's energy of a row sums over its columns.
    expected = sum(
        crps_mixture(y[name], mu[:, j], sigma[:, j])
        for j, name in enumerate(["y", "y2"])
    )
    crps = y_pred.energy(y) - y_pred.energy() / 2
    assert_allclose(crps["energy"].mean(), expected, rtol=1e-10)


def test_sample_draws_from_the_mixture():
    """Two well separated components: half the draws near each mean."""
    mu = np.tile([[-10.0], [10.0]], (3, 1, 2))  # (3 rows, 2 components, 2 outputs)
    y_pred = _PassMixture(mu=mu, sigma=np.full(mu.shape, 0.1))
    global_rng = check_random_state(None)
    state = global_rng.get_state()
    global_rng.seed(0)
    try:
        draws = y_pred.sample(2000)
    finally:
        global_rng.set_state(state)
    assert draws.shape == (6000, 2)
    assert draws.index.nlevels == 2
    high = draws.to_numpy() > 0
    assert abs(high.mean() - 0.5) < 0.03
    # The columns of a draw come from one component.
    np.testing.assert_array_equal(high[:, 0], high[:, 1])
    assert_allclose(np.abs(draws.to_numpy()).mean(), 10, rtol=0.01)
    assert y_pred.sample().shape == (3, 2)


def test_update_trains_one_more_epoch(fitted):
    reg, X, y = fitted
    reg = copy.deepcopy(reg)
    n_iter = reg.estimator_.n_iter_
    assert reg.update(X.iloc[:50], y.iloc[:50]) is reg
    assert reg.estimator_.n_iter_ == n_iter + 1


def test_pipeline_scales_X_first():
    X, y = _frames()
    X = X * 100 + 5
    pipe = Pipeline([StandardScaler(), MCDropoutProbaRegressor(_small())]).fit(X, y)
    y_pred = pipe.predict_proba(X)
    assert isinstance(y_pred, _PassMixture)
    Xt = StandardScaler().fit(X).transform(X)
    mu = pipe.regressor_.estimator_.predict_passes(Xt)
    assert_allclose(y_pred.mean()["y"], mu.mean(axis=1))


def test_estimator_must_be_an_mcdropout_regressor():
    X, y = _frames(n=30)
    with pytest.raises(TypeError, match="MCDropoutRegressor"):
        MCDropoutProbaRegressor(LinearRegression()).fit(X, y)
