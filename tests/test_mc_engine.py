"""The MC passes engine: shared masks, the runners and their fast paths.

Masks are drawn once per fitted model from its random_state and shared by all
rows, so a row's prediction does not depend on the rows around it; the fast
runners (masks folded into the weights, the first layer's product cached,
passes batched or chained, ``pass_dtype``) must give the reference runner's
passes; only dropout layers are stochastic and no autograd graph is built.
"""

import copy
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from conftest import (
    BatchNormNet,
    assert_rows_predicted_alike,
    noise_data,
    sine_data,
)
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


def test_passes_differ_and_masks_are_shared(fitted_regressor):
    est, X, _ = fitted_regressor
    passes = est.predict_passes(X[:20])
    assert np.ptp(passes, axis=1).min() > 0
    # A shared mask is a sample of the whole function: the pass-to-pass
    # deviations of two nearby rows are strongly correlated.
    dev = passes - passes.mean(axis=1, keepdims=True)
    corr = np.corrcoef(dev)
    assert np.median(corr[np.triu_indices(20, 1)]) > 0.3


def test_passes_are_a_function_of_random_state():
    # Masks and weights come from random_state alone, not from torch's global
    # generator (moved between the two fits of random_state=0).
    X, y = noise_data()
    params = dict(hidden_layer_sizes=(8,), max_epochs=2, n_passes=5)
    a = MCDropoutRegressor(random_state=0, **params).fit(X, y)
    with torch.random.fork_rng():
        torch.manual_seed(12345)
        again = MCDropoutRegressor(random_state=0, **params).fit(X, y)
    other = MCDropoutRegressor(random_state=1, **params).fit(X, y)
    np.testing.assert_array_equal(again.predict_passes(X), a.predict_passes(X))
    assert not np.allclose(other.predict_passes(X), a.predict_passes(X))
    # The masks alone: the same weights with another mask seed, other passes.
    b = copy.deepcopy(a)
    b._mask_seed += 1
    assert not np.allclose(a.predict_passes(X), b.predict_passes(X))


def test_row_alone_batch_and_shuffled_agree(fitted_regressor):
    est, X, _ = fitted_regressor
    perm = np.random.default_rng(1).permutation(len(X))
    assert_rows_predicted_alike(
        lambda X: est.predict(X, return_std=True), X, [[5], perm], rtol=1e-5
    )


@settings(max_examples=15, deadline=None)
@given(
    rows=st.lists(st.integers(0, 29), min_size=1, max_size=12),
    seed=st.integers(0, 2**16),
)
def test_row_order_and_batch_invariance(fitted_tiny, rows, seed):
    est, X, _ = fitted_tiny
    idx = np.array(rows)[np.random.default_rng(seed).permutation(len(rows))]
    assert_rows_predicted_alike(
        lambda X: est.predict(X, return_std=True), X, [idx], rtol=1e-5, atol=1e-6
    )
    # The std is that of the rows' own passes, plus the noise.
    _, std = est.predict(X[idx], return_std=True)
    passes, noise_std = est.predict_passes(X[idx], return_noise_std=True)
    np.testing.assert_allclose(
        std**2, passes.var(axis=1) + (noise_std**2).mean(axis=1), rtol=1e-5, atol=1e-9
    )


@pytest.mark.parametrize("params", [{}, {"n_members": 3}, {"noise": "heteroscedastic"}])
def test_a_row_is_predicted_to_the_bit_whatever_rows_come_with_it(params):
    # Products of rows in multiples of 128 (_mc._ROW_BLOCK): the same kernels,
    # and the same float32 rounding of the passes, for 1 row as within 300
    # (scikit-learn's check_methods_subset_invariance asks for 1e-7).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X[:, 0] + 0.1 * rng.normal(size=300)
    est = MCDropoutRegressor(
        **{"dropout": 0.1, "noise": "homoscedastic", **params},
        max_epochs=2, n_passes=20, random_state=0,
    ).fit(X, y)  # fmt: skip
    passes = est.predict_passes(X)
    mean, std = est.predict(X, return_std=True)
    for start, n in [(0, 1), (7, 10), (20, 128), (50, 200)]:
        part = slice(start, start + n)
        np.testing.assert_array_equal(est.predict_passes(X[part]), passes[part])
        # The moments' float64 sums: vectorised over other shapes, 1e-16.
        got_mean, got_std = est.predict(X[part], return_std=True)
        np.testing.assert_allclose(got_mean, mean[part], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(got_std, std[part], rtol=1e-13)


@pytest.mark.parametrize("n_members", [1, 3])
def test_passes_of_a_row_do_not_depend_on_how_many_rows_come_with_it(n_members):
    # Few rows scale the activations by the masks, many rows the weights
    # (whichever costs less): the same passes up to float32 rounding.
    X, y = sine_data(60)
    est = MCDropoutRegressor(
        hidden_layer_sizes=(16,), max_epochs=2, n_passes=20, n_members=n_members,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    firsts = [np.arange(n) for n in (1, 2, 3, 5, 8, 13, 40)]
    assert_rows_predicted_alike(est.predict_passes, X, firsts, rtol=1e-6, atol=1e-6)


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


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batched_max_macs", [0, 2**40], ids=["chain", "batched"])
@pytest.mark.parametrize(("dropout", "spread_rtol"), [(0.1, 0.05), (0.005, 0.1)])
def test_bfloat16_passes_within_documented_tolerance(
    device, batched_max_macs, dropout, spread_rtol, monkeypatch
):
    # The documented accuracy of pass_dtype="bfloat16", with the masks of
    # float32: mean within 2% of the largest |mean|, predictive std within 2%
    # per row, the spread of the passes alone within 5% per row at the rate
    # 0.1 and within 10% at 0.005 (the passes barely differ there, so bfloat16
    # rounding is a larger share of their spread).
    monkeypatch.setattr("sklearn_mcdropout._mc._BATCHED_MAX_MACS", batched_max_macs)
    monkeypatch.setattr(
        "sklearn_mcdropout._base._has_fast_bfloat16", lambda device: True
    )
    X, y = sine_data(400)
    est = MCDropoutRegressor(
        hidden_layer_sizes=(64, 64), max_epochs=30, n_passes=50, device=device,
        dropout=dropout, noise="homoscedastic", weight_decay=1e-4, random_state=0,
    ).fit(X, y)  # fmt: skip
    mean32, std32 = est.predict(X, return_std=True)
    spread32 = est.predict_passes(X).std(axis=1)
    est.set_params(pass_dtype="bfloat16")
    mean16, std16 = est.predict(X, return_std=True)
    spread16 = est.predict_passes(X).std(axis=1)
    assert not np.array_equal(mean16, mean32)  # the passes did run in bfloat16
    assert np.abs(mean16 - mean32).max() <= 0.02 * np.abs(mean32).max()
    np.testing.assert_allclose(std16, std32, rtol=0.02)
    np.testing.assert_allclose(spread16, spread32, rtol=spread_rtol)


def test_bfloat16_pass_dtype_falls_back_where_not_fast(fitted_regressor, monkeypatch):
    est, X, _ = fitted_regressor
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


def test_many_passes_with_return_std_streams(fitted_tiny, monkeypatch):
    est, X, _ = fitted_tiny
    many = copy.deepcopy(est).set_params(n_passes=10_000)

    def refuse(*args, **kwargs):
        raise AssertionError("return_std must not store the passes")

    monkeypatch.setattr("sklearn_mcdropout._regressor._mc_samples", refuse)
    mean, std = many.predict(X, return_std=True)
    assert np.all(np.isfinite(std))
    np.testing.assert_allclose(mean, est.predict(X), atol=3 * std.max() / 4)


def test_masks_are_drawn_on_the_cpu_whatever_the_device(fitted_tiny, monkeypatch):
    # A model moved to another device must predict with the same masks, so no
    # generator may live on the data's device.
    est, X, _ = fitted_tiny
    devices = []
    rand = torch.rand

    def recording_rand(*args, generator=None, **kwargs):
        devices.append(None if generator is None else generator.device.type)
        return rand(*args, generator=generator, **kwargs)

    monkeypatch.setattr(torch, "rand", recording_rand)
    fresh = copy.deepcopy(est).set_params(n_passes=7)  # masks drawn per call
    fresh.predict(X, return_std=True)
    fresh.sample_y(X, n_samples=2)
    assert devices
    assert set(devices) == {"cpu"}


def test_custom_module_batchnorm_stays_in_eval_mode():
    X, y = sine_data(80)
    user_module = BatchNormNet()
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
    # In train mode BatchNorm would use batch statistics and a lone row would
    # come out differently; in eval mode it agrees with the batch.
    assert_rows_predicted_alike(
        lambda X: est.predict(X, return_std=True), X, [[3]], rtol=1e-5
    )
    assert torch.equal(bn.running_mean, running[0])
    assert torch.equal(bn.running_var, running[1])
    assert est.net_.module_.training


@pytest.mark.parametrize("batched_max_macs", [0, 2**40], ids=["chain", "batched"])
def test_no_autograd_graph_is_built(fitted_regressor, batched_max_macs, monkeypatch):
    # Autograd saves tensors for backward whenever it records an operation
    # on a tensor that requires grad; no saved tensor means no graph.
    monkeypatch.setattr("sklearn_mcdropout._mc._BATCHED_MAX_MACS", batched_max_macs)
    est, X, _ = fitted_regressor
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
