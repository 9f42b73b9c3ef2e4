"""Bad input, invalid parameters, determinism and numerical safety."""

import copy
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import DataConversionWarning, FitFailedWarning
from sklearn.model_selection import GridSearchCV
from torch import nn

from conftest import noise_data
from sklearn_mcdropout import MCDropoutClassifier, MCDropoutRegressor
from sklearn_mcdropout._regressor import MAX_COV_SAMPLES

X_OK, Y_OK = noise_data()  # the training data of the fitted_tiny fixture
LABELS = np.where(Y_OK > 0, "up", "down")
ESTIMATORS = {"regressor": MCDropoutRegressor, "classifier": MCDropoutClassifier}


def _tiny(kind="regressor", **params):
    defaults = dict(hidden_layer_sizes=(8,), max_epochs=2, n_passes=5, random_state=0)
    if kind == "regressor":
        defaults["noise"] = "homoscedastic"
    return ESTIMATORS[kind](**{**defaults, **params})


def _target(kind, y=Y_OK):
    """``y`` for the regressor; for the classifier, labels where y is Y_OK."""
    return LABELS if kind == "classifier" and y is Y_OK else y


@pytest.fixture(
    scope="module",
    params=[(kind, m) for kind in ESTIMATORS for m in (1, 3)],
    ids=lambda p: f"{p[0]}, {p[1]} member{'s' if p[1] > 1 else ''}",
)
def fitted_any(request):
    kind, n_members = request.param
    est = _tiny(kind, max_epochs=5, n_passes=20, n_members=n_members)
    return est.fit(X_OK, _target(kind)), X_OK, _target(kind)


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
    "string column": (pd.DataFrame({"a": ["x"] * 30, "b": Y_OK}), Y_OK, ValueError,
                      "non-numeric columns 'a'"),
    "object column mixing numbers and strings": (
        pd.DataFrame({"a": [1.5, "x"] * 15, "b": Y_OK}), Y_OK, ValueError,
        r"non-numeric columns 'a' \(object"),
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
}  # fmt: skip
BAD_FIT_DATA_ONLY = {
    "regressor": {
        "string y": (X_OK, np.array(["a"] * 30), ValueError, "y must be numeric"),
    },
    "classifier": {
        "one class": (X_OK, np.zeros(30), ValueError, "only one class: 0.0"),
        "continuous y": (X_OK, Y_OK + 0.5, ValueError, "Unknown label type"),
        "2-D y": (X_OK, np.c_[Y_OK, Y_OK], ValueError, "1d array"),
    },
}
BAD_FIT_CASES = [(kind, name) for kind in ESTIMATORS for name in BAD_FIT_DATA] + [
    (kind, name) for kind, cases in BAD_FIT_DATA_ONLY.items() for name in cases
]


@pytest.mark.parametrize(("kind", "name"), BAD_FIT_CASES)
def test_bad_fit_data_raises_before_training(kind, name, monkeypatch):
    X, y, error, match = {**BAD_FIT_DATA, **BAD_FIT_DATA_ONLY[kind]}[name]
    y = _target(kind, y)
    X_before, y_before = copy.deepcopy(X), copy.deepcopy(y)
    trained = []
    monkeypatch.setattr(
        "skorch.NeuralNet.partial_fit", lambda *a, **k: trained.append(1)
    )
    with pytest.raises(error, match=match):
        _tiny(kind).fit(X, y)
    assert not trained
    if isinstance(X, np.ndarray) and X.dtype.kind == "f":
        np.testing.assert_array_equal(X, X_before)
    if isinstance(X, pd.DataFrame):
        pd.testing.assert_frame_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


BAD_SAMPLE_WEIGHTS = {
    "negative": (np.r_[-1.0, np.ones(29)], "Negative values in data passed to"),
    "NaN": (np.r_[np.nan, np.ones(29)], "sample_weight contains NaN"),
    "infinite": (np.r_[np.inf, np.ones(29)], "sample_weight contains infinity"),
    "too long": (np.ones(31), r"shape == \(31,\), expected \(30,\)"),
    "2-D": (np.ones((30, 2)), "1D array or scalar"),
    # Recent scikit-learn refuses it first, in its own words.
    "all zero": (np.zeros(30), "positive finite sum|at least one non-zero"),
    "one row of positive weight": (np.r_[1.0, np.zeros(29)], "of positive weight"),
}


@pytest.mark.parametrize("kind", ESTIMATORS)
@pytest.mark.parametrize("name", BAD_SAMPLE_WEIGHTS)
def test_bad_sample_weight_raises_before_training(kind, name, monkeypatch):
    weights, match = BAD_SAMPLE_WEIGHTS[name]
    before = weights.copy()
    trained = []
    monkeypatch.setattr(
        "skorch.NeuralNet.partial_fit", lambda *a, **k: trained.append(1)
    )
    with pytest.raises(ValueError, match=match):
        _tiny(kind).fit(X_OK, _target(kind, Y_OK), sample_weight=weights)
    assert not trained
    np.testing.assert_array_equal(weights, before)


def test_object_columns_holding_numbers_are_accepted():
    # As scikit-learn's estimators do (e.g. Ridge): only what cannot be
    # converted to numbers is refused.
    numbers = pd.DataFrame(X_OK, columns=["a", "b", "c"])
    objects = numbers.astype({"a": object, "b": object})
    assert list(objects.dtypes.astype(str)) == ["object", "object", "float64"]
    for kind in ESTIMATORS:
        expected = _tiny(kind).fit(numbers, _target(kind)).predict(numbers)
        est = _tiny(kind).fit(objects, _target(kind))
        np.testing.assert_array_equal(est.predict(objects), expected)
        assert list(est.feature_names_in_) == ["a", "b", "c"]
    # The caller's frame is unchanged.
    assert list(objects.dtypes.astype(str)) == ["object", "object", "float64"]


BAD_PREDICT_DATA = {
    "NaN in X": (_with(np.nan)[:5], ValueError, "Input X contains NaN"),
    "wrong number of features": (X_OK[:, :2], ValueError, "expecting 3 features"),
    "sparse X": (sp.csr_matrix(X_OK), TypeError, "Sparse data was passed"),
    "empty X": (np.empty((0, 3)), ValueError, "0 sample"),
    "float32 overflow": (X_OK * 1e30, ValueError, "float32"),
    "3-D X": (X_OK.reshape(30, 3, 1), ValueError, "dim 3"),
    "strings": (np.full((4, 3), "a"), ValueError, "could not convert string"),
    "string column": (pd.DataFrame({"a": ["x"] * 4, "b": 0.0, "c": 0.0}), ValueError,
                      "non-numeric columns 'a'"),
}  # fmt: skip
PREDICT_METHODS = {
    "regressor": {
        "predict": lambda est, X: est.predict(X),
        "predict_std": lambda est, X: est.predict(X, return_std=True),
        "predict_cov": lambda est, X: est.predict(X, return_cov=True),
        "predict_passes": lambda est, X: est.predict_passes(X),
        "sample_y": lambda est, X: est.sample_y(X),
    },
    "classifier": {
        "predict": lambda est, X: est.predict(X),
        "predict_proba": lambda est, X: est.predict_proba(X),
        "predict_log_proba": lambda est, X: est.predict_log_proba(X),
        "predict_uncertainty": lambda est, X: est.predict_uncertainty(X),
        "predict_proba_passes": lambda est, X: est.predict_proba_passes(X),
    },
}


def _outputs(kind, est):
    if kind == "regressor":
        return est.predict(X_OK, return_std=True)
    return est.predict_proba(X_OK), est.predict_uncertainty(X_OK).mutual_information


@pytest.mark.parametrize("name", BAD_PREDICT_DATA)
def test_bad_predict_data_leaves_model_unchanged(fitted_any, name):
    est, _, _ = fitted_any
    kind = "classifier" if isinstance(est, MCDropoutClassifier) else "regressor"
    X, error, match = BAD_PREDICT_DATA[name]
    before = copy.deepcopy(est.__dict__)
    weights = {k: v.clone() for k, v in est.net_.module_.state_dict().items()}
    expected = _outputs(kind, est)
    for method, call in PREDICT_METHODS[kind].items():
        with pytest.raises(error, match=match):
            call(est, X)
        assert set(est.__dict__) == set(before), method
    for key, value in est.net_.module_.state_dict().items():
        assert torch.equal(value, weights[key])
    for got, want in zip(_outputs(kind, est), expected, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind", ESTIMATORS)
def test_read_only_and_non_contiguous_inputs_work(kind):
    rng = np.random.default_rng(1)
    X = np.asfortranarray(rng.normal(size=(40, 6)))[:, ::2]
    y = rng.normal(size=80)[::2]
    y = np.where(y > 0, 1, 0) if kind == "classifier" else y
    X.setflags(write=False)
    y.setflags(write=False)
    assert not X.flags.c_contiguous
    est = _tiny(kind).fit(X, y)
    np.testing.assert_array_equal(est.predict(X), est.predict(np.ascontiguousarray(X)))


def _net(n_outputs):
    return nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.1), nn.Linear(4, n_outputs))


BAD_PARAMS = {
    "dropout": (dict(dropout=1.0), r"'dropout' parameter .* range \[0.0, 1.0\)"),
    "negative dropout": (dict(dropout=-0.1), "'dropout' parameter"),
    "n_passes": (dict(n_passes=0), r"'n_passes' parameter .* range \[1, inf\)"),
    "empty layers": (dict(hidden_layer_sizes=()), "hidden_layer_sizes must be"),
    "zero width": (dict(hidden_layer_sizes=(8, 0)), "hidden_layer_sizes must be"),
    "activation": (dict(activation="swish"), "'activation' parameter .* among"),
    "device": (dict(device="tpu"), "device='tpu' is not a torch device"),
    "no dropout layer": (
        dict(module=nn.Linear(3, 1)),
        "no torch.nn.Dropout or ConcreteDropout layer",
    ),
    "other dropout": (
        dict(
            module=nn.Sequential(nn.Linear(3, 4), nn.AlphaDropout(0.1), nn.Linear(4, 1))
        ),
        "AlphaDropout",
    ),
}
BAD_PARAMS_ONLY = {
    "regressor": {
        "tau": (dict(tau=0.0), r"'tau' parameter .* range \(0.0, inf\)"),
        "bad output": (
            dict(module=_net(n_outputs=2)),
            r"output of shape \(n, 1\)",
        ),
    },
    "classifier": {
        "bad output": (
            dict(module=_net(n_outputs=3)),
            r"logits of shape \(n, n_classes\) = \(n, 2\)",
        ),
    },
}
BAD_PARAM_CASES = [(kind, name) for kind in ESTIMATORS for name in BAD_PARAMS] + [
    (kind, name) for kind, cases in BAD_PARAMS_ONLY.items() for name in cases
]


@pytest.mark.parametrize(("kind", "name"), BAD_PARAM_CASES)
def test_invalid_parameters_raise_at_fit(kind, name):
    params, match = {**BAD_PARAMS, **BAD_PARAMS_ONLY[kind]}[name]
    est = _tiny(kind, **params)  # the constructor only stores
    with pytest.raises(ValueError, match=match):
        est.fit(X_OK, _target(kind))


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_unavailable_cuda_device_raises():
    with pytest.raises(ValueError, match="CUDA is not available"):
        _tiny(device="cuda").fit(X_OK, Y_OK)


def test_one_pass_warns_that_epistemic_part_is_zero():
    with pytest.warns(UserWarning, match="n_passes=1"):
        est = _tiny(n_passes=1).fit(X_OK, Y_OK)
    _, std = est.predict(X_OK, return_std=True)
    np.testing.assert_allclose(std, np.sqrt(1 / est.tau_))


def test_concurrent_predictions_are_identical(fitted_tiny):
    est, X, _ = fitted_tiny
    expected = est.predict(X, return_std=True)
    results = [None] * 6

    def work(i):
        results[i] = est.predict(X, return_std=True)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for mean, std in results:
        np.testing.assert_array_equal(mean, expected[0])
        np.testing.assert_array_equal(std, expected[1])


@pytest.mark.parametrize("spread", [0.0, 1e-13], ids=["exact", "up to rounding"])
def test_constant_target_is_predicted_exactly(spread):
    # As GaussianProcessRegressor and BayesianRidge: a target with no variance
    # (up to rounding) is predicted as its constant, with a finite noise std.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = 3.0 + spread * rng.standard_normal(60)
    for params in [dict(tau=4.0), dict()]:
        est = _tiny(hidden_layer_sizes=(16,), max_epochs=5, **params).fit(X, y)
        mean, std = est.predict(X, return_std=True)
        np.testing.assert_allclose(mean, np.mean(y), rtol=0, atol=1e-15)
        np.testing.assert_allclose(std, np.sqrt(1 / est.tau_))
        assert np.isfinite(est.tau_)
        assert np.sqrt(1 / est.tau_) < 0.01 if not params else est.tau_ == 4.0
        draws = est.sample_y(X[:3], n_samples=5)
        np.testing.assert_allclose(draws.std(), np.sqrt(1 / est.tau_), rtol=1)


def test_small_but_real_variation_is_still_learned():
    X = np.linspace(-1, 1, 60).reshape(-1, 1)
    y = 1e6 + 1e-3 * X[:, 0]  # relative spread 6e-10 of the mean: constant
    flat = _tiny(max_epochs=5).fit(X, y)
    np.testing.assert_array_equal(flat.predict(X), np.mean(y))
    y = 1.0 + 1e-6 * X[:, 0]  # relative spread 6e-7: learned
    est = _tiny(hidden_layer_sizes=(16,), max_epochs=200, lr=1e-2).fit(X, y)
    assert est.score(X, y) > 0.9


def test_return_cov_refuses_too_many_rows(fitted_tiny):
    est, _, _ = fitted_tiny
    X = np.zeros((MAX_COV_SAMPLES + 1, 3))
    with pytest.raises(ValueError, match="exceeds MAX_COV_SAMPLES"):
        est.predict(X, return_cov=True)


def test_sample_y_refuses_bad_n_samples(fitted_tiny):
    est, X, _ = fitted_tiny
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        est.sample_y(X, n_samples=0)


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


@settings(max_examples=10, deadline=None)
@given(
    x=st.lists(st.floats(-3, 3, allow_nan=False), min_size=3, max_size=3).map(
        lambda v: np.array([v])
    ),
    seed=st.integers(0, 2**16),
)
def test_sample_y_consistent_with_mean_and_std(fitted_tiny, x, seed):
    est, _, _ = fitted_tiny
    draws = est.sample_y(x, n_samples=4000, random_state=seed)[0]
    many = copy.deepcopy(est).set_params(n_passes=4000)
    mean, std = many.predict(x, return_std=True)
    assert abs(draws.mean() - mean[0]) < 5 * std[0] / np.sqrt(4000) + 0.02 * std[0]
    assert abs(draws.std() - std[0]) < 0.1 * std[0]


def _assert_warns_at_this_line(call, category, match):
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        call()
    ours = [w for w in records if issubclass(w.category, category)]
    assert ours, f"no {category.__name__} matching {match!r}"
    for w in ours:
        assert match in str(w.message)
        assert w.filename == __file__, (str(w.message), w.filename, w.lineno)


@pytest.mark.parametrize("kind", ESTIMATORS)
def test_warnings_point_at_the_callers_line(kind, monkeypatch):
    y = _target(kind)
    column = np.asarray(y).reshape(-1, 1)
    _assert_warns_at_this_line(
        lambda: _tiny(kind).fit(X_OK, column), DataConversionWarning, "column-vector"
    )
    _assert_warns_at_this_line(
        lambda: _tiny(kind, n_passes=1).fit(X_OK, y), UserWarning, "n_passes=1"
    )
    monkeypatch.setattr("sklearn_mcdropout._base._has_fast_bfloat16", lambda d: False)
    est = _tiny(kind, pass_dtype="bfloat16").fit(X_OK, y)
    methods = dict(PREDICT_METHODS[kind], score=lambda est, X: est.score(X, y))
    for call in methods.values():
        _assert_warns_at_this_line(
            lambda call=call: call(est, X_OK), UserWarning, "bfloat16"
        )


def _numpy_global_state():
    _, keys, position, *_ = np.random.get_state()  # noqa: NPY002
    return keys.copy(), position


def test_random_state_none_draws_from_the_global_numpy_state_only():
    torch_state = torch.get_rng_state()
    keys, position = _numpy_global_state()
    _tiny(random_state=None).fit(X_OK, Y_OK)
    assert torch.equal(torch.get_rng_state(), torch_state)
    new_keys, new_position = _numpy_global_state()
    assert new_position != position or not np.array_equal(new_keys, keys)
    _tiny(random_state=np.random.RandomState(1)).fit(X_OK, Y_OK)
    keys, position = _numpy_global_state()
    assert position == new_position
    np.testing.assert_array_equal(keys, new_keys)


def test_limits_are_importable_from_the_package():
    import sklearn_mcdropout

    assert sklearn_mcdropout.MAX_COV_SAMPLES == MAX_COV_SAMPLES == 10_000
    assert sklearn_mcdropout.MAX_STORED_PASS_VALUES == 2**27
    assert abs(sklearn_mcdropout.MAX_ABS_INPUT / 1.8446743e19 - 1) < 1e-7
    assert {"MAX_ABS_INPUT", "MAX_COV_SAMPLES", "MAX_STORED_PASS_VALUES"} <= set(
        sklearn_mcdropout.__all__
    )
