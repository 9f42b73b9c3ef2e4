"""Behaviour of MCDropoutRegressor: the predict contract, fitting, sklearn API.

The shared masks and the passes engine are tested in test_mc_engine.py.
"""

import copy
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import sine_data
from sklearn_mcdropout import MCDropoutRegressor


def test_predict_shapes_and_flags(fitted_regressor):
    est, X, _ = fitted_regressor
    y_mean = est.predict(X[:7])
    y_mean2, y_std = est.predict(X[:7], return_std=True)
    y_mean3, y_cov = est.predict(X[:7], return_cov=True)
    assert y_mean.shape == y_std.shape == (7,)
    assert y_cov.shape == (7, 7)
    np.testing.assert_allclose(y_mean, y_mean2)
    np.testing.assert_allclose(y_mean, y_mean3, rtol=1e-6, atol=1e-7)
    with pytest.raises(RuntimeError, match="At most one of return_std or return_cov"):
        est.predict(X, return_std=True, return_cov=True)


def test_std_is_pass_spread_plus_noise(fitted_regressor):
    est, X, _ = fitted_regressor
    passes = est.predict_passes(X[:9])
    y_mean, y_std = est.predict(X[:9], return_std=True)
    assert passes.shape == (9, est.n_passes)
    np.testing.assert_allclose(passes.mean(axis=1), y_mean, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        y_std**2, passes.var(axis=1) + 1 / est.tau_, rtol=1e-5, atol=1e-9
    )


def test_cov_diagonal_matches_std_and_is_psd(fitted_regressor):
    est, X, _ = fitted_regressor
    _, y_std = est.predict(X[:10], return_std=True)
    _, y_cov = est.predict(X[:10], return_cov=True)
    np.testing.assert_allclose(np.sqrt(np.diag(y_cov)), y_std, rtol=1e-5)
    np.testing.assert_allclose(y_cov, y_cov.T)
    assert np.linalg.eigvalsh(y_cov).min() >= 1 / est.tau_ * (1 - 1e-6)


def test_predict_is_deterministic_and_leaves_global_rng(fitted_regressor):
    est, X, _ = fitted_regressor
    state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    first = est.predict(X, return_std=True)
    second = est.predict(X, return_std=True)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


def test_fit_leaves_global_torch_rng_and_is_reproducible():
    X, y = sine_data(60)
    state = torch.get_rng_state()
    params = dict(hidden_layer_sizes=(16,), max_epochs=5, n_passes=10)
    a = MCDropoutRegressor(**params, random_state=3).fit(X, y)
    assert torch.equal(torch.get_rng_state(), state)
    b = MCDropoutRegressor(**params, random_state=3).fit(X, y)
    c = MCDropoutRegressor(**params, random_state=4).fit(X, y)
    for pa, pb in zip(
        a.net_.module_.parameters(), b.net_.module_.parameters(), strict=True
    ):
        assert torch.equal(pa, pb)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert not np.allclose(a.predict(X), c.predict(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fit_and_predict_run_on_the_device():
    X, y = sine_data()
    est = MCDropoutRegressor(
        hidden_layer_sizes=(32, 32), max_epochs=60, n_passes=30, device="cuda",
        random_state=0,
    ).fit(X, y)  # fmt: skip
    assert all(p.is_cuda for p in est.net_.module_.parameters())
    mean, std = est.predict(X, return_std=True)
    np.testing.assert_array_equal(mean, est.predict(X))
    assert np.all(np.isfinite(mean))
    assert est.score(X, y) > 0.7
    np.testing.assert_allclose(
        est.predict_passes(X).std(axis=1) ** 2 + 1 / est.tau_, std**2, rtol=1e-5
    )
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), mean)


def test_sample_y_shape_and_moments(fitted_regressor):
    est, X, _ = fitted_regressor
    draws = est.sample_y(X[:6], n_samples=2000, random_state=0)
    assert draws.shape == (6, 2000)
    # Draws use fresh masks: their moments match a many-pass predict to MC error.
    many = copy.deepcopy(est).set_params(n_passes=2000)
    mean, std = many.predict(X[:6], return_std=True)
    np.testing.assert_allclose(draws.mean(axis=1), mean, atol=4 * std.max() / 30)
    np.testing.assert_allclose(draws.std(axis=1), std, rtol=0.1)
    np.testing.assert_array_equal(draws, est.sample_y(X[:6], 2000, random_state=0))
    assert est.sample_y(X[:6]).shape == (6, 1)


@pytest.mark.parametrize("scale", [1e6, 1e-6])
def test_target_scale_is_restored(scale):
    X, y = sine_data(100)
    params = dict(hidden_layer_sizes=(32,), max_epochs=30, n_passes=20, random_state=0)
    base = MCDropoutRegressor(**params).fit(X, y)
    scaled = MCDropoutRegressor(**params).fit(X, y * scale)
    mean, std = base.predict(X, return_std=True)
    mean_s, std_s = scaled.predict(X, return_std=True)
    np.testing.assert_allclose(mean_s, mean * scale, rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_allclose(std_s, std * scale, rtol=1e-3)
    assert scaled.noise_ == base.noise_  # the same choice in any unit of y
    if base.noise_ == "homoscedastic":
        np.testing.assert_allclose(scaled.tau_, base.tau_ / scale**2, rtol=1e-3)
    else:  # a factor of the variance: no unit
        np.testing.assert_allclose(scaled.noise_scale_, base.noise_scale_, rtol=1e-3)


def test_column_vector_y_warns_and_matches_1d():
    X, y = sine_data(60)
    params = dict(hidden_layer_sizes=(16,), max_epochs=5, n_passes=10, random_state=0)
    flat = MCDropoutRegressor(**params).fit(X, y)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = MCDropoutRegressor(**params).fit(X, y.reshape(-1, 1))
    np.testing.assert_array_equal(flat.predict(X), column.predict(X))


def test_pipeline_with_standard_scaler_returns_std():
    X, y = sine_data(100)
    pipe = make_pipeline(
        StandardScaler(),
        MCDropoutRegressor(
            hidden_layer_sizes=(16,), noise="homoscedastic", max_epochs=10,
            random_state=0,
        ),
    ).fit(X * 100, y)  # fmt: skip
    mean, std = pipe.predict(X[:5] * 100, return_std=True)
    assert mean.shape == std.shape == (5,)
    # The std of the passes on the scaled rows, plus the noise.
    est = pipe[-1]
    passes = est.predict_passes(pipe[0].transform(X[:5] * 100))
    np.testing.assert_allclose(mean, passes.mean(axis=1), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        std**2, passes.var(axis=1) + 1 / est.tau_, rtol=1e-5, atol=1e-9
    )
    _, cov = pipe.predict(X[:5] * 100, return_cov=True)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), std, rtol=1e-5)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_dropout_and_layers(n_jobs):
    X, y = sine_data(90)
    grid = GridSearchCV(
        MCDropoutRegressor(max_epochs=5, n_passes=10, random_state=0),
        {"dropout": [0.05, 0.2], "hidden_layer_sizes": [(8,), (16, 16)]},
        cv=2,
        n_jobs=n_jobs,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_params_["dropout"] in (0.05, 0.2)
    assert grid.best_estimator_.dropout == grid.best_params_["dropout"]


def test_grid_search_results_do_not_depend_on_n_jobs():
    X, y = sine_data(60)
    kw = dict(param_grid={"dropout": [0.1, 0.3]}, cv=2)
    est = MCDropoutRegressor(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
    one = GridSearchCV(est, n_jobs=1, **kw).fit(X, y).cv_results_
    two = GridSearchCV(est, n_jobs=2, **kw).fit(X, y).cv_results_
    np.testing.assert_allclose(one["mean_test_score"], two["mean_test_score"])


def test_clone_pickle_and_joblib_round_trips(fitted_regressor, tmp_path):
    est, X, y = fitted_regressor
    expected = est.predict(X, return_std=True)
    for restored in (
        pickle.loads(pickle.dumps(est)),
        joblib.load(joblib.dump(est, tmp_path / "model.joblib")[0]),
    ):
        got = restored.predict(X, return_std=True)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
    cloned = clone(est)
    assert not hasattr(cloned, "net_")
    assert cloned.get_params() == est.get_params()
    np.testing.assert_array_equal(cloned.fit(X, y).predict(X), est.predict(X))


def test_pickle_records_version_and_warns_on_mismatch(fitted_regressor):
    est, X, _ = fitted_regressor
    state = est.__getstate__()
    assert state["_sklearn_mcdropout_version"]
    state["_sklearn_mcdropout_version"] = "0.0.0-old"
    blank = MCDropoutRegressor.__new__(MCDropoutRegressor)
    with pytest.warns(UserWarning, match="sklearn-mcdropout 0.0.0-old"):
        blank.__setstate__(state)
    np.testing.assert_array_equal(blank.predict(X[:3]), est.predict(X[:3]))


def test_dataframe_keeps_feature_names():
    X, y = sine_data(60)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    est = MCDropoutRegressor(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
    est.fit(df, pd.Series(y))
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c"])
    assert est.n_features_in_ == 3
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        np.testing.assert_array_equal(est.predict(df), est.predict(X))
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(df.rename(columns={"a": "z"}))


def test_uncertainty_grows_in_gap_and_outside_data():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.uniform(-4, -2, 100), rng.uniform(2, 4, 100)])[:, None]
    y = np.sin(X[:, 0]) + 0.1 * X[:, 0] + rng.normal(scale=0.05, size=200)
    est = MCDropoutRegressor(
        hidden_layer_sizes=(128, 128),
        dropout=0.2,
        lr=3e-3,
        max_epochs=150,
        random_state=0,
    ).fit(X, y)
    train_std = np.median(est.predict(X, return_std=True)[1])
    gap_std = est.predict(np.array([[-0.5], [0.0], [0.5]]), return_std=True)[1]
    far_std = est.predict(np.array([[-10.0], [10.0]]), return_std=True)[1]
    assert gap_std.mean() > 1.5 * train_std
    assert far_std.min() > 2 * train_std


def test_tau_auto_recovers_noise_level():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(1000, 1))
    y = np.sin(2 * X[:, 0]) + rng.normal(scale=0.3, size=1000)
    est = MCDropoutRegressor(
        hidden_layer_sizes=(64, 64),
        noise="homoscedastic",
        max_epochs=60,
        n_passes=50,
        validation_fraction=0.2,
        random_state=0,
    ).fit(X, y)
    assert abs(1 / np.sqrt(est.tau_) - 0.3) < 0.15 * 0.3


def test_fixed_tau_and_auto_weight_decay():
    X, y = sine_data(50)
    est = MCDropoutRegressor(
        hidden_layer_sizes=(8,),
        tau=4.0,
        weight_decay="auto",
        length_scale=0.5,
        dropout=0.2,
        max_epochs=2,
        random_state=0,
    ).fit(X, y)
    assert est.tau_ == 4.0
    # torch decay 2 * lambda, lambda = l^2 (1 - p) / (2 N tau_standardised)
    expected = 0.5**2 * 0.8 / (50 * 4.0 * np.std(y) ** 2)
    np.testing.assert_allclose(est.weight_decay_, expected)
    groups = est.net_.optimizer_.param_groups
    decays = {id(p): g["weight_decay"] for g in groups for p in g["params"]}
    for name, p in est.net_.module_.named_parameters():
        assert decays[id(p)] == (0.0 if name.endswith("bias") else expected)
    # With tau="auto" the prior's tau is 1 in the units of the standardised
    # target: the noise precision is not known before training.
    est = MCDropoutRegressor(
        hidden_layer_sizes=(8,), dropout=0.2, noise="homoscedastic",
        length_scale=0.5, max_epochs=2, random_state=0,
    ).fit(X, y)  # fmt: skip
    np.testing.assert_allclose(est.weight_decay_, 0.5**2 * 0.8 / 45)  # 5 held out


def test_zero_dropout_warns_and_std_is_noise_only():
    X, y = sine_data(40)
    est = MCDropoutRegressor(
        hidden_layer_sizes=(8,), dropout=0.0, noise="homoscedastic", max_epochs=2
    )
    with pytest.warns(
        UserWarning, match="epistemic part of the predictive std is zero"
    ):
        est.fit(X, y)
    _, std = est.predict(X, return_std=True)
    np.testing.assert_allclose(std, np.sqrt(1 / est.tau_))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MCDropoutRegressor(hidden_layer_sizes=(8,), max_epochs=1).fit(X, y)
