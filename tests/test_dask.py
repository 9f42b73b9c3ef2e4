"""Dask: grid search on a cluster, torch threads in workers, partitioned prediction."""

import os
import re
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mcdropout import MCDropoutRegressor, predict_partitions
from sklearn_mcdropout.metrics import neg_gaussian_nll_scorer

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

N_WORKERS = 2
# Each worker's share of the cores; on the project's 2-core machine, 1 thread.
SHARE = max(1, joblib.cpu_count() // N_WORKERS)


@pytest.fixture(scope="module")
def client():
    # The nanny writes its pre-spawn variables into this process's environment
    # (where they would override the config of a later cluster); restore it.
    environ = dict(os.environ)
    # Set before the worker processes start: torch reads them at import, and
    # MKL_NUM_THREADS before OMP_NUM_THREADS, so set both.
    share = {
        f"distributed.nanny.pre-spawn-environ.{name}": SHARE
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
    }
    try:
        with (
            dask.config.set(share),
            distributed.LocalCluster(
                n_workers=N_WORKERS,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            _restore(environ)
            yield client
    finally:
        _restore(environ)


def _restore(environ):
    for name in set(os.environ) - set(environ):
        del os.environ[name]
    os.environ.update(environ)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = X @ [1.0, -2.0, 0.5] + np.sin(2 * X[:, 0]) + rng.normal(scale=0.3, size=90)
    return X, y


def _pipe():
    return make_pipeline(
        StandardScaler(),
        MCDropoutRegressor(
            hidden_layer_sizes=(16,), max_epochs=10, n_passes=10, random_state=0
        ),
    )


def test_torch_threads_in_dask_workers(client):
    # client.run runs in each worker's event-loop thread; fits run in its
    # task threads, where torch's OpenMP setting is per thread: check both.
    assert set(client.run(torch.get_num_threads).values()) == {SHARE}
    workers = list(client.scheduler_info()["workers"])
    assert len(workers) == N_WORKERS
    tasks = [
        client.submit(torch.get_num_threads, pure=False, workers=[w]) for w in workers
    ]
    assert client.gather(tasks) == [SHARE] * N_WORKERS


def test_torch_threads_in_loky_workers():
    # joblib's loky backend limits each of its n_jobs workers to cores // n_jobs.
    threads = joblib.Parallel(n_jobs=N_WORKERS)(
        joblib.delayed(torch.get_num_threads)() for _ in range(N_WORKERS)
    )
    assert threads == [SHARE] * N_WORKERS


def test_search_identical_across_engines(client, data):
    X, y = data
    grid = {"mcdropoutregressor__dropout": [0.05, 0.1, 0.2]}

    def search(n_jobs):
        return GridSearchCV(
            _pipe(),
            grid,
            scoring=neg_gaussian_nll_scorer,
            cv=2,
            n_jobs=n_jobs,
            refit=False,  # best_params_ is set all the same
        )

    serial = search(1).fit(X, y)
    loky = search(2).fit(X, y)  # joblib's default backend: a process pool
    with (
        distributed.get_task_stream(client) as stream,
        joblib.parallel_backend("dask"),
    ):
        on_cluster = search(-1).fit(X, y)
    # The fits ran as tasks on the workers (joblib may batch several in one).
    assert stream.data
    assert {task["worker"] for task in stream.data} <= set(
        client.scheduler_info()["workers"]
    )

    scores = [k for k in serial.cv_results_ if re.fullmatch(r".*_test_score", k)]
    assert {"mean_test_score", "std_test_score", "split1_test_score"} <= set(scores)
    assert np.all(np.isfinite(serial.cv_results_["mean_test_score"]))
    # Distinct candidates, so the ranking means something.
    assert len(set(serial.cv_results_["mean_test_score"])) == 3
    for other in (loky, on_cluster):
        for key in [*scores, "rank_test_score"]:
            np.testing.assert_array_equal(
                other.cv_results_[key], serial.cv_results_[key]
            )
        assert other.best_params_ == serial.best_params_
        assert other.best_index_ == serial.best_index_


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"], index=np.arange(90) * 3 + 100)
    return _pipe().fit(frame, y), frame, y


def _predict_each(estimator, parts):
    """In-memory predict_partitions: predict each partition, concatenate."""
    pred = [estimator.predict(part, return_std=True) for part in parts]
    return tuple(np.concatenate([p[i] for p in pred]) for i in (0, 1))


def _assert_close_to_whole(got, whole):
    # The same up to float32 rounding: the CPU's matrix products sum in an
    # order that depends on the number of rows.
    np.testing.assert_allclose(got, whole, rtol=1e-6, atol=1e-6 * np.abs(whole).max())


def test_predict_partitions_dataframe(client, fitted):
    model, frame, _ = fitted
    before = frame.copy()
    ddf = dd.from_pandas(frame, npartitions=4)
    parts = dask.compute(*ddf.to_delayed(), scheduler="sync")
    mean, std = _predict_each(model, parts)

    pred = predict_partitions(model, ddf)
    assert pred.npartitions == 4
    assert pred.divisions == ddf.divisions
    assert list(pred.dtypes) == [np.float64, np.float64]
    result = pred.compute()  # on the cluster: the module's client is the default
    assert list(result.columns) == ["mean", "std"]
    pd.testing.assert_index_equal(result.index, frame.index)
    np.testing.assert_array_equal(result["mean"].to_numpy(), mean)
    np.testing.assert_array_equal(result["std"].to_numpy(), std)
    # Shared masks: a row's prediction does not depend on its partition.
    whole_mean, whole_std = model.predict(frame, return_std=True)
    _assert_close_to_whole(result["mean"].to_numpy(), whole_mean)
    _assert_close_to_whole(result["std"].to_numpy(), whole_std)

    only_mean = predict_partitions(model, ddf, return_std=False).compute()
    assert only_mean.name == "mean"
    np.testing.assert_array_equal(only_mean.to_numpy(), mean)

    # Filtering leaves empty partitions; they give empty results.
    first_rows = ddf[ddf.index.to_series() < 130]
    assert first_rows.npartitions == 4
    subset = predict_partitions(model, first_rows).compute()
    np.testing.assert_array_equal(subset["mean"].to_numpy(), mean[frame.index < 130])
    pd.testing.assert_frame_equal(frame, before)


def test_predict_partitions_array(fitted):
    model, frame, _ = fitted
    est, Z = model[-1], model[0].transform(frame)
    Z.flags.writeable = False
    before = Z.copy()
    # Row blocks of 23 (the last one 21), features split in two blocks.
    dZ = da.from_array(Z, chunks=(23, 2))
    bounds = np.cumsum(dZ.chunks[0])[:-1]
    mean, std = _predict_each(est, np.split(Z, bounds))

    y_mean, y_std = predict_partitions(est, dZ)
    assert y_mean.chunks == y_std.chunks == (dZ.chunks[0],)
    assert y_mean.dtype == y_std.dtype == np.float64
    got_mean, got_std = dask.compute(y_mean, y_std, scheduler="threads")
    np.testing.assert_array_equal(got_mean, mean)
    np.testing.assert_array_equal(got_std, std)
    whole_mean, whole_std = est.predict(Z, return_std=True)
    _assert_close_to_whole(got_mean, whole_mean)
    _assert_close_to_whole(got_std, whole_std)

    only_mean = predict_partitions(est, dZ, return_std=False)
    assert only_mean.shape == (90,)
    np.testing.assert_array_equal(only_mean.compute(scheduler="threads"), mean)
    np.testing.assert_array_equal(Z, before)


@pytest.mark.parametrize(
    ("make_X", "error", "match"),
    [
        (lambda f: f, TypeError, "must be a Dask DataFrame or a Dask array"),
        (lambda f: f.to_numpy(), TypeError, "got numpy.ndarray"),
        (lambda f: dd.from_pandas(f["a"], npartitions=2), TypeError, "Dask Series"),
        (lambda f: da.ones(5, chunks=2), ValueError, "2-D Dask array"),
        (lambda f: da.ones((5, 2), chunks=2), ValueError, "expecting 3 features"),
    ],
    ids=["pandas", "numpy", "dask-series", "1d-array", "n-features"],
)
def test_predict_partitions_rejects_inputs(fitted, make_X, error, match):
    model, frame, _ = fitted
    with pytest.raises(error, match=match):
        predict_partitions(model, make_X(frame))


def test_predict_partitions_rejects_estimators(fitted):
    model, frame, _ = fitted
    ddf = dd.from_pandas(frame, npartitions=2)
    with pytest.raises(Exception, match="not fitted"):
        predict_partitions(_pipe(), ddf)
    linear = make_pipeline(LinearRegression()).fit(frame, frame["a"])
    with pytest.raises(TypeError, match=r"LinearRegression.predict does not accept"):
        predict_partitions(linear, ddf)
    pred = predict_partitions(linear, ddf, return_std=False).compute(scheduler="sync")
    np.testing.assert_allclose(pred.to_numpy(), frame["a"].to_numpy())
    with pytest.raises(TypeError, match="must have a predict method"):
        predict_partitions(StandardScaler().fit(frame), ddf)
    with pytest.raises(TypeError, match="return_std must be a bool"):
        predict_partitions(model, ddf, return_std="yes")


def test_predict_partitions_without_dask(fitted, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(ImportError, match=r"sklearn-mcdropout\[dask\]"):
        predict_partitions(fitted[0], None)
