"""Wall time of a grid search on a Dask cluster, with and without thread control.

A ``LocalCluster`` of 2 worker processes, one task slot each, runs
``GridSearchCV(..., n_jobs=-1)`` under ``joblib.parallel_backend("dask")``
twice, on a fresh cluster each time:

- thread control: Dask's default, where the nanny starts each worker with
  ``OMP_NUM_THREADS=1`` and ``MKL_NUM_THREADS=1``, so torch runs one thread
  per fit: on 2 cores, 2 threads in all;
- oversubscribed: the workers forced to 2 torch threads each (the dask
  config ``distributed.nanny.pre-spawn-environ`` with ``OMP_NUM_THREADS`` and
  ``MKL_NUM_THREADS`` at 2), what torch takes on its own on 2 cores: 4
  threads on 2 cores.

The workers import the library before the clock starts, so the times are the
search alone. The two configurations alternate (``--repeats`` rounds); the
best time of each and their ratio are printed, with the torch threads
measured in the workers and whether the two searches scored alike.

    python benchmarks/bench_dask_threads.py            # full run, about 6 min
    python benchmarks/bench_dask_threads.py --quick    # smaller sizes, 1.5 min

California housing loads through scikit-learn's cache: offline, point
``SCIKIT_LEARN_DATA`` at a folder holding ``cal_housing_py3.pkz``.
"""

import argparse
import os
import time

import dask
import joblib
import numpy as np
import torch
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mcdropout import MCDropoutRegressor, load_california_housing
from sklearn_mcdropout.metrics import neg_gaussian_nll_scorer

N_WORKERS = 2


def search_time(torch_threads, X, y, args):
    """Seconds of one search on a fresh cluster, torch threads, test scores."""
    environ = dict(os.environ)
    # None keeps Dask's default (1); torch reads MKL_NUM_THREADS first.
    config = {
        f"distributed.nanny.pre-spawn-environ.{name}": torch_threads
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
        if torch_threads is not None
    }
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=N_WORKERS,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        # The nanny wrote its variables into this process's environment.
        os.environ.clear()
        os.environ.update(environ)
        client.run(__import__, "sklearn_mcdropout")
        workers = list(client.scheduler_info()["workers"])
        probes = [
            client.submit(torch.get_num_threads, pure=False, workers=[w])
            for w in workers
        ]
        threads = client.gather(probes)
        pipe = make_pipeline(
            StandardScaler(),
            MCDropoutRegressor(
                hidden_layer_sizes=(args.width, args.width),
                max_epochs=args.epochs,
                batch_size=args.batch_size,
                n_passes=20,
                tau=4.0,
                random_state=0,
            ),
        )
        grid = {"mcdropoutregressor__dropout": [0.05, 0.1, 0.2, 0.3]}
        search = GridSearchCV(
            pipe,
            grid,
            scoring=neg_gaussian_nll_scorer,
            cv=args.cv,
            n_jobs=-1,
            refit=False,
        )
        start = time.perf_counter()
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
        elapsed = time.perf_counter() - start
    return elapsed, threads, search.cv_results_["mean_test_score"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    args.rows = 2000 if args.quick else 4000
    args.width = 256
    args.epochs = 3
    args.batch_size = 128
    args.cv = 2 if args.quick else 3
    repeats = args.repeats or (1 if args.quick else 2)

    X, y = load_california_housing()
    rows = np.random.default_rng(0).choice(len(y), size=args.rows, replace=False)
    X, y = X[rows], y[rows]
    print(
        f"{os.cpu_count()} cores, {N_WORKERS} workers x 1 task slot; "
        f"{args.rows} rows, network 8 -> {args.width} x 2 -> 1, "
        f"{args.epochs} epochs, batch {args.batch_size}; 4 candidates x "
        f"{args.cv} folds = {4 * args.cv} fits; torch {torch.__version__}"
    )
    configs = {
        "thread control (Dask default)": None,
        "oversubscribed (2 threads/worker)": 2,
    }
    times = {name: [] for name in configs}
    threads, scores = {}, {}
    for _ in range(repeats):
        for name, torch_threads in configs.items():
            elapsed, threads[name], scores[name] = search_time(
                torch_threads, X, y, args
            )
            times[name].append(elapsed)
            print(f"  {name}: {elapsed:.1f} s", flush=True)

    print(f"\n{'workers':36} {'torch threads':>14} {'best time':>10} {'all runs':>16}")
    for name in configs:
        runs = ", ".join(f"{t:.1f}" for t in times[name])
        print(f"{name:36} {threads[name]!s:>14} {min(times[name]):>8.1f} s {runs:>16}")
    control, over = (min(times[name]) for name in configs)
    print(f"oversubscribed / thread control: {over / control:.2f}x")
    same = np.array_equal(*scores.values())
    print(f"mean test scores identical in both: {same}")


if __name__ == "__main__":
    main()
