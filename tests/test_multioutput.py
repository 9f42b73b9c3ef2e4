"""Several targets: one network, shared masks, GaussianProcessRegressor's shapes."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import DataConversionWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from sklearn_mcdropout import MCDropoutRegressor
from sklearn_mcdropout.metrics import gaussian_nll, neg_gaussian_nll_scorer


def _three_targets(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    f = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1]
    Y = np.c_[f, 100 * X[:, 1] ** 2, -3 * f + 7]  # three targets, three scales
    return X, Y + rng.normal(scale=[0.1, 5.0, 0.3], size=Y.shape)


def _small(**params):
    defaults = dict(hidden_layer_sizes=(32,), max_epochs=30, n_passes=20)
    return MCDropoutRegressor(**{**defaults, "random_state": 0, **params})


@pytest.fixture(scope="module", params=["homoscedastic", "heteroscedastic"])
def fitted(request):
    X, Y = _three_targets()
    return _small(noise=request.param, max_epochs=150, lr=5e-3).fit(X, Y), X, Y


def test_shapes_follow_gaussian_process_regressor(fitted):
    est, X_train, _ = fitted
    X = X_train[:15]  # rows predicted
    gpr = GaussianProcessRegressor().fit(*_three_targets(40))
    assert est.n_outputs_ == 3
    assert est.predict(X).shape == gpr.predict(X).shape == (15, 3)
    for flag in ("return_std", "return_cov"):
        ours, theirs = est.predict(X, **{flag: True}), gpr.predict(X, **{flag: True})
        assert [a.shape for a in ours] == [a.shape for a in theirs]
    assert est.predict(X, return_cov=True)[1].shape == (15, 15, 3)
    assert est.sample_y(X, 4).shape == gpr.sample_y(X, 4).shape == (15, 3, 4)
    assert est.predict_passes(X).shape == (15, 3, 20)
    assert all(a.shape == (15, 3) for a in est.predict_uncertainty(X).values())
    if est.noise == "homoscedastic":
        assert est.tau_.shape == (3,)
    assert est.net_.module_[-1].out_features == 3 * (1 + (est.noise != "homoscedastic"))


def test_each_target_is_the_statistics_of_its_passes(fitted):
    # By hand, per target j: the mean and (ddof=0) covariance of the T
    # passes, plus the noise variance (1 / tau_j, or each pass's predicted
    # variance averaged over the passes) on the diagonal.
    est, X_train, _ = fitted
    X = X_train[:15]  # rows predicted
    passes, noise_std = est.predict_passes(X, return_noise_std=True)
    y_mean, y_std = est.predict(X, return_std=True)
    _, y_cov = est.predict(X, return_cov=True)
    unc = est.predict_uncertainty(X)
    for j in range(3):
        p, noise_var = passes[:, j, :], (noise_std[:, j, :] ** 2).mean(axis=1)
        if est.noise == "homoscedastic":
            np.testing.assert_allclose(noise_var, 1 / est.tau_[j])
        np.testing.assert_allclose(y_mean[:, j], p.mean(axis=1), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(
            y_std[:, j] ** 2, p.var(axis=1) + noise_var, rtol=1e-5, atol=1e-9
        )
        cov = (p - p.mean(axis=1, keepdims=True)) @ (p - p.mean(axis=1)[:, None]).T
        cov = cov / p.shape[1] + np.diag(noise_var)
        np.testing.assert_allclose(y_cov[:, :, j], cov, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(unc.aleatoric_std[:, j] ** 2, noise_var, rtol=1e-6)
        np.testing.assert_allclose(
            unc.epistemic_std[:, j] ** 2, p.var(axis=1), rtol=1e-5, atol=1e-9
        )


def test_targets_keep_their_units(fitted):
    est, X_train, Y = fitted
    pred = est.predict(X_train)
    # Each target is fitted in its own units: a scale-free error per target.
    r2 = 1 - ((pred - Y) ** 2).mean(axis=0) / Y.var(axis=0)
    assert np.all(r2 > 0.5)


class _TwoOfOne(nn.Module):
    """One output, given twice: the targets see the very same pass."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 1)
        )

    def forward(self, X):
        return self.body(X).repeat(1, 2)


def test_masks_are_shared_across_targets():
    X, Y = _three_targets(60)
    y = Y[:, 0]
    est = MCDropoutRegressor(module=_TwoOfOne, max_epochs=3, n_passes=10)
    est.set_params(random_state=0).fit(X, np.c_[y, 2 * y + 1])
    passes = est.predict_passes(X)
    # Target 2 is 2 * target 1 + 1, so its passes are too, pass by pass.
    np.testing.assert_allclose(passes[:, 1], 2 * passes[:, 0] + 1, rtol=1e-6)


def test_one_dimensional_y_keeps_its_shapes():
    X, Y = _three_targets(60)
    est = _small(max_epochs=3).fit(X, Y[:, 0])
    assert est.n_outputs_ == 1
    assert isinstance(est.tau_, float)
    assert est.predict(X).shape == (60,)
    assert [a.shape for a in est.predict(X, return_cov=True)] == [(60,), (60, 60)]
    assert est.sample_y(X, 3).shape == (60, 3)
    assert est.predict_passes(X).shape == (60, 20)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = _small(max_epochs=3).fit(X, Y[:, :1])
    np.testing.assert_array_equal(column.predict(X), est.predict(X))


def test_multioutput_pickles_and_stays_deterministic(fitted):
    est, X_train, Y = fitted
    X = X_train[:15]  # rows predicted
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    refit = _small(noise=est.noise, max_epochs=150, lr=5e-3).fit(X_train, Y)
    np.testing.assert_array_equal(refit.predict(X), est.predict(X))


def test_multioutput_leaves_arrays_and_global_rng_alone():
    X, Y = _three_targets(60)
    X0, Y0 = X.copy(), Y.copy()
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the global state)
    _small(max_epochs=2).fit(X, Y).predict(X, return_std=True)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


def test_grid_search_with_the_likelihood_scorer():
    X, Y = _three_targets()
    pipe = make_pipeline(StandardScaler(), _small(max_epochs=10))
    search = GridSearchCV(
        pipe,
        {"mcdropoutregressor__hidden_layer_sizes": [(16,), (32,)]},
        scoring=neg_gaussian_nll_scorer,
        cv=2,
    ).fit(X, Y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    y_mean, y_std = search.best_estimator_.predict(X, return_std=True)
    # The scorer averages the per-target likelihoods uniformly.
    per_target = [gaussian_nll(Y[:, j], y_mean[:, j], y_std[:, j]) for j in range(3)]
    assert gaussian_nll(Y, y_mean, y_std) == pytest.approx(np.mean(per_target))


def test_custom_module_output_is_checked_against_the_targets():
    X, Y = _three_targets(30)
    with pytest.raises(ValueError, match=r"shape \(n, 3\), one column per target"):
        MCDropoutRegressor(module=_TwoOfOne, max_epochs=1).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _small(max_epochs=1).fit(X, Y[:, :2])
