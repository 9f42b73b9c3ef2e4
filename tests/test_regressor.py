"""Behaviour of MCDropoutRegressor: the predict contract and shared masks."""

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
from torch import nn

from sklearn_mcdropout import MCDropoutRegressor
from sklearn_mcdropout._mc import (
    _make_runner,
    _Masks,
    _mc_moments,
    _mc_samples,
    _pass_seed,
    _ReferenceRunner,
)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _data(n=120, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] + rng.normal(scale=noise, size=n)
    return X, y


@pytest.fixture(scope="module")
def fitted():
    """One small fitted model shared by the read-only tests."""
    X, y = _data()
    est = MCDropoutRegressor(
        hidden_layer_sizes=(32, 32), max_epochs=40, n_passes=30, random_state=0
    )
    return est.fit(X, y), X, y


def test_predict_shapes_and_flags(fitted):
    est, X, _ = fitted
    y_mean = est.predict(X[:7])
    y_mean2, y_std = est.predict(X[:7], return_std=True)
    y_mean3, y_cov = est.predict(X[:7], return_cov=True)
    assert y_mean.shape == y_std.shape == (7,)
    assert y_cov.shape == (7, 7)
    np.testing.assert_allclose(y_mean, y_mean2)
    np.testing.assert_allclose(y_mean, y_mean3, rtol=1e-6, atol=1e-7)
    with pytest.raises(RuntimeError, match="At most one of return_std or return_cov"):
        est.predict(X, return_std=True, return_cov=True)


def test_std_is_pass_spread_plus_noise(fitted):
    est, X, _ = fitted
    passes = est.predict_passes(X[:9])
    y_mean, y_std = est.predict(X[:9], return_std=True)
    assert passes.shape == (9, est.n_passes)
    np.testing.assert_allclose(passes.mean(axis=1), y_mean, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        y_std**2, passes.var(axis=1) + 1 / est.tau_, rtol=1e-5, atol=1e-9
    )
    assert np.all(y_std >= np.sqrt(1 / est.tau_))


def test_cov_diagonal_matches_std_and_is_psd(fitted):
    est, X, _ = fitted
    _, y_std = est.predict(X[:10], return_std=True)
    _, y_cov = est.predict(X[:10], return_cov=True)
    np.testing.assert_allclose(np.sqrt(np.diag(y_cov)), y_std, rtol=1e-5)
    np.testing.assert_allclose(y_cov, y_cov.T)
    assert np.linalg.eigvalsh(y_cov).min() >= 1 / est.tau_ * (1 - 1e-6)


def test_row_alone_batch_and_shuffled_agree(fitted):
    est, X, _ = fitted
    mean, std = est.predict(X, return_std=True)
    mean_one, std_one = est.predict(X[[5]], return_std=True)
    perm = np.random.default_rng(1).permutation(len(X))
    mean_perm, std_perm = est.predict(X[perm], return_std=True)
    np.testing.assert_allclose(mean_one, mean[[5]], rtol=1e-5)
    np.testing.assert_allclose(std_one, std[[5]], rtol=1e-5)
    np.testing.assert_allclose(mean_perm, mean[perm], rtol=1e-5)
    np.testing.assert_allclose(std_perm, std[perm], rtol=1e-5)


@pytest.mark.parametrize("n_members", [1, 3])
def test_passes_of_a_row_do_not_depend_on_how_many_rows_come_with_it(n_members):
    # Few rows scale the activations by the masks, many rows the weights
    # (whichever costs less): the same passes up to float32 rounding.
    X, y = _data(60)
    est = MCDropoutRegressor(
        hidden_layer_sizes=(16,), max_epochs=2, n_passes=20, n_members=n_members,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    every = est.predict_passes(X)
    for n in (1, 2, 3, 5, 8, 13, 40):
        np.testing.assert_allclose(
            est.predict_passes(X[:n]), every[:n], rtol=1e-6, atol=1e-6
        )


def test_passes_differ_and_masks_are_shared(fitted):
    est, X, _ = fitted
    passes = est.predict_passes(X[:20])
    assert np.ptp(passes, axis=1).min() > 0
    # A shared mask is a sample of the whole function: the pass-to-pass
    # deviations of two nearby rows are strongly correlated.
    dev = passes - passes.mean(axis=1, keepdims=True)
    corr = np.corrcoef(dev)
    assert np.median(corr[np.triu_indices(20, 1)]) > 0.3


def test_predict_is_deterministic_and_leaves_global_rng(fitted):
    est, X, _ = fitted
    state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    first = est.predict(X, return_std=True)
    second = est.predict(X, return_std=True)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


def test_fit_leaves_global_torch_rng_and_is_reproducible():
    X, y = _data(60)
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


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batched_max_macs", [0, 2**40], ids=["chain", "batched"])
def test_fast_path_matches_reference_implementation(
    device, batched_max_macs, monkeypatch
):
    monkeypatch.setattr("sklearn_mcdropout._mc._BATCHED_MAX_MACS", batched_max_macs)
    torch.manual_seed(0)
    chains = {
        "cached first layer": nn.Sequential(
            nn.Linear(4, 64), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(64, 48), nn.Tanh(), nn.Dropout(0.1),
            nn.Linear(48, 1),
        ),
        "input dropout": nn.Sequential(
            nn.Dropout(0.3), nn.Linear(4, 50), nn.ReLU(), nn.Dropout(0.3),
            nn.Linear(50, 1),
        ),
        "zero first rate, cache kept intact": nn.Sequential(
            nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.0),
            nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1),
        ),
        "all rates zero": nn.Sequential(
            nn.Dropout(0.0), nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.0),
            nn.Linear(8, 1),
        ),
        "no dropout after last hidden": nn.Sequential(
            nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1),
        ),
    }  # fmt: skip
    X = torch.randn(300, 4, device=device)
    for name, module in chains.items():
        module.to(device)
        fast, ref = _make_runner(module, device=device), _ReferenceRunner(module)
        assert not isinstance(fast, _ReferenceRunner)
        # Both runners apply the dropout calls in the same order and shapes,
        # so the one mask-drawing function serves both.
        plan = ref.plan(4)
        assert fast.plan(4) == plan, name
        masks = _Masks(plan, 7, 25)
        fast_moments = _mc_moments(fast, masks, X)
        ref_moments = _mc_moments(ref, masks, X)
        np.testing.assert_allclose(
            fast_moments[0], ref_moments[0], rtol=1e-5, atol=1e-5, err_msg=name
        )
        np.testing.assert_allclose(
            fast_moments[1], ref_moments[1], rtol=1e-4, atol=1e-6, err_msg=name
        )
        masks = _Masks(plan, 1, 5)
        np.testing.assert_allclose(
            _mc_samples(fast, masks, X),
            _mc_samples(ref, masks, X),
            rtol=1e-5,
            atol=1e-5,
            err_msg=name,
        )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batched_max_macs", [0, 2**40], ids=["chain", "batched"])
def test_bfloat16_passes_within_documented_tolerance(
    device, batched_max_macs, monkeypatch
):
    # The documented accuracy of pass_dtype="bfloat16", with the masks of
    # float32: mean within 2% of the largest |mean|, predictive std within 2%
    # per row, the spread of the passes alone within 5% per row.
    monkeypatch.setattr("sklearn_mcdropout._mc._BATCHED_MAX_MACS", batched_max_macs)
    monkeypatch.setattr(
        "sklearn_mcdropout._base._has_fast_bfloat16", lambda device: True
    )
    X, y = _data(400)
    est = MCDropoutRegressor(
        hidden_layer_sizes=(64, 64), max_epochs=30, n_passes=50, device=device,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    mean32, std32 = est.predict(X, return_std=True)
    spread32 = est.predict_passes(X).std(axis=1)
    est.set_params(pass_dtype="bfloat16")
    mean16, std16 = est.predict(X, return_std=True)
    spread16 = est.predict_passes(X).std(axis=1)
    assert not np.array_equal(mean16, mean32)  # the passes did run in bfloat16
    assert np.abs(mean16 - mean32).max() <= 0.02 * np.abs(mean32).max()
    np.testing.assert_allclose(std16, std32, rtol=0.02)
    np.testing.assert_allclose(spread16, spread32, rtol=0.05)


def test_bfloat16_pass_dtype_falls_back_where_not_fast(fitted, monkeypatch):
    est, X, _ = fitted
    bf16 = copy.deepcopy(est).set_params(pass_dtype="bfloat16")
    expected_mean, expected_std = est.predict(X, return_std=True)

    monkeypatch.setattr(
        "sklearn_mcdropout._base._has_fast_bfloat16", lambda device: False
    )
    with pytest.warns(UserWarning, match="pass_dtype='bfloat16' is not fast"):
        mean, std = bf16.predict(X, return_std=True)
    np.testing.assert_array_equal(mean, expected_mean)
    np.testing.assert_array_equal(std, expected_std)

    monkeypatch.setattr(
        "sklearn_mcdropout._base._has_fast_bfloat16", lambda device: True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, std = bf16.predict(X, return_std=True)
        passes = bf16.predict_passes(X)
    assert not np.array_equal(mean, expected_mean)
    assert np.abs(mean - expected_mean).max() <= 0.02 * np.abs(expected_mean).max()
    np.testing.assert_allclose(std, expected_std, rtol=0.02)
    np.testing.assert_allclose(passes.mean(axis=1), mean, rtol=1e-6, atol=1e-6)


def test_reference_runner_matches_hand_computation():
    # One hidden layer: pass t is W2 diag(z_t) / (1 - p) relu(W1 x + b1) + b2.
    torch.manual_seed(0)
    module = nn.Sequential(
        nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.25), nn.Linear(8, 1)
    )
    X = torch.randn(5, 2)
    runner = _ReferenceRunner(module)
    samples = _mc_samples(runner, _Masks(runner.plan(2), 11, 4), X)[:, :, 0]
    with torch.no_grad():
        hidden = torch.relu(module[0](X))
        for t in range(4):
            gen = torch.Generator().manual_seed(_pass_seed(11, t))
            keep = torch.rand(8, generator=gen) >= 0.25
            expected = module[3](hidden * keep / 0.75).reshape(-1)
            np.testing.assert_allclose(samples[:, t], expected.numpy(), rtol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fit_and_predict_run_on_the_device():
    X, y = _data()
    est = MCDropoutRegressor(
        hidden_layer_sizes=(32, 32), max_epochs=60, n_passes=30, device="cuda",
        random_state=0,
    ).fit(X, y)  # fmt: skip
    assert all(p.is_cuda for p in est.net_.module_.parameters())
    mean, std = est.predict(X, return_std=True)
    np.testing.assert_array_equal(mean, est.predict(X))
    assert np.all(np.isfinite(mean))
    assert np.all(std > 0)
    assert est.score(X, y) > 0.7
    np.testing.assert_allclose(
        est.predict_passes(X).std(axis=1) ** 2 + 1 / est.tau_, std**2, rtol=1e-5
    )
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), mean)


class _BatchNormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(3, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2)
        )
        self.head = nn.Linear(16, 1)

    def forward(self, X):
        return self.head(self.body(X)).squeeze(-1)


def test_custom_module_batchnorm_stays_in_eval_mode():
    X, y = _data(80)
    user_module = _BatchNormNet()
    user_state = {k: v.clone() for k, v in user_module.state_dict().items()}
    est = MCDropoutRegressor(
        module=user_module, max_epochs=5, n_passes=8, random_state=0
    )
    est.fit(X, y)
    # The given module is never trained: fit works on a copy.
    for key, value in user_module.state_dict().items():
        assert torch.equal(value, user_state[key])
    bn = est.net_.module_.module.body[1]
    running = bn.running_mean.clone(), bn.running_var.clone()
    mean_all, std_all = est.predict(X, return_std=True)
    mean_one, std_one = est.predict(X[[3]], return_std=True)
    assert torch.equal(bn.running_mean, running[0])
    assert torch.equal(bn.running_var, running[1])
    # In train mode BatchNorm would use batch statistics and a lone row would
    # come out differently; in eval mode it agrees with the batch.
    np.testing.assert_allclose(mean_one, mean_all[[3]], rtol=1e-5)
    np.testing.assert_allclose(std_one, std_all[[3]], rtol=1e-5)
    assert est.net_.module_.training


@pytest.mark.parametrize("batched_max_macs", [0, 2**40], ids=["chain", "batched"])
def test_no_autograd_graph_is_built(fitted, batched_max_macs, monkeypatch):
    # Autograd saves tensors for backward whenever it records an operation
    # on a tensor that requires grad; no saved tensor means no graph.
    monkeypatch.setattr("sklearn_mcdropout._mc._BATCHED_MAX_MACS", batched_max_macs)
    est, X, _ = fitted
    saved = []

    def pack(tensor):
        saved.append(tensor.shape)
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        est.predict(X[:4], return_cov=True)
        est.predict(X[:4], return_std=True)
        est.sample_y(X[:4], n_samples=3)
        runner = _ReferenceRunner(est.net_.module_)
        masks = _Masks(runner.plan(X.shape[1]), 0, 2)
        _mc_moments(runner, masks, torch.as_tensor(X[:4], dtype=torch.float32))
        assert saved == []
        # The hook does see a graph being built: the same network in training.
        est.net_.module_(torch.as_tensor(X[:4], dtype=torch.float32))
    assert saved


def test_sample_y_shape_and_moments(fitted):
    est, X, _ = fitted
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
    X, y = _data(100)
    params = dict(hidden_layer_sizes=(32,), max_epochs=30, n_passes=20, random_state=0)
    base = MCDropoutRegressor(**params).fit(X, y)
    scaled = MCDropoutRegressor(**params).fit(X, y * scale)
    mean, std = base.predict(X, return_std=True)
    mean_s, std_s = scaled.predict(X, return_std=True)
    np.testing.assert_allclose(mean_s, mean * scale, rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_allclose(std_s, std * scale, rtol=1e-3)
    np.testing.assert_allclose(scaled.tau_, base.tau_ / scale**2, rtol=1e-3)


def test_column_vector_y_warns_and_matches_1d():
    X, y = _data(60)
    params = dict(hidden_layer_sizes=(16,), max_epochs=5, n_passes=10, random_state=0)
    flat = MCDropoutRegressor(**params).fit(X, y)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = MCDropoutRegressor(**params).fit(X, y.reshape(-1, 1))
    np.testing.assert_array_equal(flat.predict(X), column.predict(X))


def test_pipeline_with_standard_scaler_returns_std():
    X, y = _data(100)
    pipe = make_pipeline(
        StandardScaler(),
        MCDropoutRegressor(hidden_layer_sizes=(16,), max_epochs=10, random_state=0),
    ).fit(X * 100, y)
    mean, std = pipe.predict(X[:5] * 100, return_std=True)
    assert mean.shape == std.shape == (5,)
    assert np.all(std > 0)
    _, cov = pipe.predict(X[:5] * 100, return_cov=True)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), std, rtol=1e-5)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_dropout_and_layers(n_jobs):
    X, y = _data(90)
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
    X, y = _data(60)
    kw = dict(param_grid={"dropout": [0.1, 0.3]}, cv=2)
    est = MCDropoutRegressor(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
    one = GridSearchCV(est, n_jobs=1, **kw).fit(X, y).cv_results_
    two = GridSearchCV(est, n_jobs=2, **kw).fit(X, y).cv_results_
    np.testing.assert_allclose(one["mean_test_score"], two["mean_test_score"])


def test_clone_pickle_and_joblib_round_trips(fitted, tmp_path):
    est, X, y = fitted
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


def test_pickle_records_version_and_warns_on_mismatch(fitted):
    est, X, _ = fitted
    state = est.__getstate__()
    assert state["_sklearn_mcdropout_version"]
    state["_sklearn_mcdropout_version"] = "0.0.0-old"
    blank = MCDropoutRegressor.__new__(MCDropoutRegressor)
    with pytest.warns(UserWarning, match="sklearn-mcdropout 0.0.0-old"):
        blank.__setstate__(state)
    np.testing.assert_array_equal(blank.predict(X[:3]), est.predict(X[:3]))


def test_dataframe_keeps_feature_names():
    X, y = _data(60)
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
        max_epochs=60,
        n_passes=50,
        validation_fraction=0.2,
        random_state=0,
    ).fit(X, y)
    assert abs(1 / np.sqrt(est.tau_) - 0.3) < 0.15 * 0.3


def test_fixed_tau_and_auto_weight_decay():
    X, y = _data(50)
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
    with pytest.raises(ValueError, match="needs a numeric tau"):
        MCDropoutRegressor(weight_decay="auto").fit(X, y)


def test_zero_dropout_warns_and_std_is_noise_only():
    X, y = _data(40)
    est = MCDropoutRegressor(hidden_layer_sizes=(8,), dropout=0.0, max_epochs=2)
    with pytest.warns(
        UserWarning, match="epistemic part of the predictive std is zero"
    ):
        est.fit(X, y)
    _, std = est.predict(X, return_std=True)
    np.testing.assert_allclose(std, np.sqrt(1 / est.tau_))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MCDropoutRegressor(hidden_layer_sizes=(8,), max_epochs=1).fit(X, y)
