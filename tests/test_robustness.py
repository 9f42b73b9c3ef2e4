"""Bad input, invalid parameters, determinism and numerical safety."""

import copy
import threading

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV
from torch import nn

from sklearn_mcdropout import MCDropoutRegressor
from sklearn_mcdropout._regressor import MAX_COV_SAMPLES

RNG = np.random.default_rng(0)
X_OK = RNG.normal(size=(30, 3))
Y_OK = RNG.normal(size=30)


def _tiny(**params):
    defaults = dict(hidden_layer_sizes=(8,), max_epochs=2, n_passes=5, random_state=0)
    return MCDropoutRegressor(**{**defaults, **params})


@pytest.fixture(scope="module")
def fitted():
    return _tiny(max_epochs=5, n_passes=20).fit(X_OK, Y_OK)


def _with(value, row=0, col=0):
    X = X_OK.copy()
    X[row, col] = value
    return X


BAD_FIT_DATA = {
    "NaN in X": (_with(np.nan), Y_OK, ValueError, "Input X contains NaN"),
    "inf in X": (_with(np.inf), Y_OK, ValueError, "Input X contains infinity"),
    "NaN in y": (X_OK, np.where(np.arange(30) == 3, np.nan, Y_OK), ValueError,
                 "Input y contains NaN"),
    "strings in X": (np.full((30, 3), "a"), Y_OK, ValueError,
                     "could not convert string to float"),
    "object column": (pd.DataFrame({"a": ["x"] * 30, "b": Y_OK}), Y_OK, ValueError,
                      "non-numeric columns 'a'"),
    "categorical column": (pd.DataFrame({"c": pd.Categorical(["u", "v"] * 15)}), Y_OK,
                           ValueError, r"non-numeric columns 'c' \(category\)"),
    "nullable column with NA": (
        pd.DataFrame({"n": pd.array([1, None] * 15, dtype="Int64")}), Y_OK,
        ValueError, "Input X contains NaN"),
    "empty X": (np.empty((0, 3)), np.empty(0), ValueError, "0 sample"),
    "zero features": (np.empty((30, 0)), Y_OK, ValueError, "0 feature"),
    "one sample": (X_OK[:1], Y_OK[:1], ValueError, "n_samples=1"),
    "sparse X": (sp.csr_matrix(X_OK), Y_OK, TypeError, "Sparse data was passed"),
    "3-D X": (X_OK.reshape(30, 3, 1), Y_OK, ValueError, "dim 3"),
    "complex X": (X_OK + 1j, Y_OK, ValueError, "Complex data not supported"),
    "X and y lengths": (X_OK, Y_OK[:10], ValueError, "inconsistent numbers of samples"),
    "float32 overflow": (X_OK * 1e30, Y_OK, ValueError, "float32"),
    "string y": (X_OK, np.array(["a"] * 30), ValueError, "y must be numeric"),
    "2-D y": (X_OK, np.c_[Y_OK, Y_OK], ValueError, "1d array"),
}  # fmt: skip


@pytest.mark.parametrize("name", BAD_FIT_DATA)
def test_bad_fit_data_raises_before_training(name, monkeypatch):
    X, y, error, match = BAD_FIT_DATA[name]
    X_before = copy.deepcopy(X)
    trained = []
    monkeypatch.setattr(
        "skorch.NeuralNetRegressor.fit", lambda *a, **k: trained.append(1)
    )
    with pytest.raises(error, match=match):
        _tiny().fit(X, y)
    assert not trained
    if isinstance(X, np.ndarray) and X.dtype.kind == "f":
        np.testing.assert_array_equal(X, X_before)


BAD_PREDICT_DATA = {
    "NaN in X": (_with(np.nan)[:5], ValueError, "Input X contains NaN"),
    "wrong number of features": (X_OK[:, :2], ValueError, "expecting 3 features"),
    "sparse X": (sp.csr_matrix(X_OK), TypeError, "Sparse data was passed"),
    "empty X": (np.empty((0, 3)), ValueError, "0 sample"),
    "float32 overflow": (X_OK * 1e30, ValueError, "float32"),
    "3-D X": (X_OK.reshape(30, 3, 1), ValueError, "dim 3"),
    "strings": (np.full((4, 3), "a"), ValueError, "could not convert string"),
}


@pytest.mark.parametrize("name", BAD_PREDICT_DATA)
@pytest.mark.parametrize("method", ["predict", "predict_std", "sample_y"])
def test_bad_predict_data_leaves_model_unchanged(fitted, name, method):
    X, error, match = BAD_PREDICT_DATA[name]
    before = copy.deepcopy(fitted.__dict__)
    weights = {k: v.clone() for k, v in fitted.net_.module_.state_dict().items()}
    expected = fitted.predict(X_OK, return_std=True)
    call = {
        "predict": lambda: fitted.predict(X),
        "predict_std": lambda: fitted.predict(X, return_std=True),
        "sample_y": lambda: fitted.sample_y(X),
    }[method]
    with pytest.raises(error, match=match):
        call()
    assert set(fitted.__dict__) == set(before)
    for key, value in fitted.net_.module_.state_dict().items():
        assert torch.equal(value, weights[key])
    got = fitted.predict(X_OK, return_std=True)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_read_only_and_non_contiguous_inputs_work(fitted):
    X = np.asfortranarray(RNG.normal(size=(40, 6)))[:, ::2]
    y = RNG.normal(size=80)[::2]
    X.setflags(write=False)
    y.setflags(write=False)
    assert not X.flags.c_contiguous
    est = _tiny().fit(X, y)
    np.testing.assert_array_equal(est.predict(X), est.predict(np.ascontiguousarray(X)))


BAD_PARAMS = {
    "dropout": (dict(dropout=1.0), r"'dropout' parameter .* range \[0.0, 1.0\)"),
    "negative dropout": (dict(dropout=-0.1), "'dropout' parameter"),
    "n_passes": (dict(n_passes=0), r"'n_passes' parameter .* range \[1, inf\)"),
    "tau": (dict(tau=0.0), r"'tau' parameter .* range \(0.0, inf\)"),
    "empty layers": (dict(hidden_layer_sizes=()), "hidden_layer_sizes must be"),
    "zero width": (dict(hidden_layer_sizes=(8, 0)), "hidden_layer_sizes must be"),
    "activation": (dict(activation="swish"), "'activation' parameter .* among"),
    "device": (dict(device="tpu"), "device='tpu' is not a torch device"),
    "no dropout layer": (dict(module=nn.Linear(3, 1)), "no torch.nn.Dropout layer"),
    "other dropout": (
        dict(
            module=nn.Sequential(nn.Linear(3, 4), nn.AlphaDropout(0.1), nn.Linear(4, 1))
        ),
        "AlphaDropout",
    ),
    "bad output": (
        dict(module=nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.1), nn.Linear(4, 2))),
        r"output of shape \(n, 1\)",
    ),
}


@pytest.mark.parametrize("name", BAD_PARAMS)
def test_invalid_parameters_raise_at_fit(name):
    params, match = BAD_PARAMS[name]
    est = _tiny(**params)  # the constructor only stores
    with pytest.raises(ValueError, match=match):
        est.fit(X_OK, Y_OK)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_unavailable_cuda_device_raises():
    with pytest.raises(ValueError, match="CUDA is not available"):
        _tiny(device="cuda").fit(X_OK, Y_OK)


def test_one_pass_warns_that_epistemic_part_is_zero():
    with pytest.warns(UserWarning, match="n_passes=1"):
        est = _tiny(n_passes=1).fit(X_OK, Y_OK)
    _, std = est.predict(X_OK, return_std=True)
    np.testing.assert_allclose(std, np.sqrt(1 / est.tau_))


def test_different_random_state_gives_different_masks():
    params = dict(hidden_layer_sizes=(8,), max_epochs=2, n_passes=5)
    a = MCDropoutRegressor(random_state=0, **params).fit(X_OK, Y_OK)
    b = copy.deepcopy(a)
    b._mask_seed += 1  # same weights, other masks
    assert not np.allclose(a.predict_passes(X_OK), b.predict_passes(X_OK))


def test_concurrent_predictions_are_identical(fitted):
    expected = fitted.predict(X_OK, return_std=True)
    results = [None] * 6

    def work(i):
        results[i] = fitted.predict(X_OK, return_std=True)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for mean, std in results:
        np.testing.assert_array_equal(mean, expected[0])
        np.testing.assert_array_equal(std, expected[1])


def test_constant_target_gives_noise_std_without_nan():
    y = np.full(30, 3.0)
    est = _tiny(tau=4.0, max_epochs=200, lr=1e-2).fit(X_OK, y)
    mean, std = est.predict(X_OK, return_std=True)
    np.testing.assert_allclose(mean, 3.0, atol=0.05)
    np.testing.assert_allclose(std, np.sqrt(1 / est.tau_), rtol=0.05)
    auto = _tiny(max_epochs=20).fit(X_OK, y)
    mean, std = auto.predict(X_OK, return_std=True)
    assert np.all(np.isfinite(mean))
    assert np.all(np.isfinite(std))
    assert np.isfinite(auto.tau_)


def test_many_passes_with_return_std_streams(fitted, monkeypatch):
    many = copy.deepcopy(fitted).set_params(n_passes=10_000)

    def refuse(*args, **kwargs):
        raise AssertionError("return_std must not store the passes")

    monkeypatch.setattr("sklearn_mcdropout._regressor._mc_samples", refuse)
    mean, std = many.predict(X_OK, return_std=True)
    assert np.all(np.isfinite(std))
    np.testing.assert_allclose(mean, fitted.predict(X_OK), atol=3 * std.max() / 4)


def test_return_cov_refuses_too_many_rows(fitted):
    X = np.zeros((MAX_COV_SAMPLES + 1, 3))
    with pytest.raises(ValueError, match="exceeds MAX_COV_SAMPLES"):
        fitted.predict(X, return_cov=True)


def test_sample_y_refuses_bad_n_samples(fitted):
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        fitted.sample_y(X_OK, n_samples=0)


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_grid_search_reports_failing_candidate_and_completes_the_rest():
    grid = GridSearchCV(
        _tiny(),
        {"hidden_layer_sizes": [(8,), (8, 0)]},
        cv=2,
        n_jobs=2,
        error_score=np.nan,
    )
    with pytest.warns(FitFailedWarning, match="hidden_layer_sizes must be"):
        grid.fit(X_OK, Y_OK)
    scores = grid.cv_results_["mean_test_score"]
    assert np.isfinite(scores[0])
    assert np.isnan(scores[1])
    assert grid.best_params_ == {"hidden_layer_sizes": (8,)}


@settings(max_examples=15, deadline=None)
@given(
    rows=st.lists(st.integers(0, 29), min_size=1, max_size=12),
    seed=st.integers(0, 2**16),
)
def test_row_order_and_batch_invariance(fitted, rows, seed):
    perm = np.random.default_rng(seed).permutation(len(rows))
    idx = np.array(rows)[perm]
    mean_all, std_all = fitted.predict(X_OK, return_std=True)
    mean, std = fitted.predict(X_OK[idx], return_std=True)
    np.testing.assert_allclose(mean, mean_all[idx], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std, std_all[idx], rtol=1e-5, atol=1e-6)
    assert np.all(std >= np.sqrt(1 / fitted.tau_) * (1 - 1e-12))


@settings(max_examples=10, deadline=None)
@given(
    x=st.lists(st.floats(-3, 3, allow_nan=False), min_size=3, max_size=3).map(
        lambda v: np.array([v])
    ),
    seed=st.integers(0, 2**16),
)
def test_sample_y_consistent_with_mean_and_std(fitted, x, seed):
    draws = fitted.sample_y(x, n_samples=4000, random_state=seed)[0]
    many = copy.deepcopy(fitted).set_params(n_passes=4000)
    mean, std = many.predict(x, return_std=True)
    assert abs(draws.mean() - mean[0]) < 5 * std[0] / np.sqrt(4000) + 0.02 * std[0]
    assert abs(draws.std() - std[0]) < 0.1 * std[0]
