"""
============================================================
Grid search and batch prediction on a Dask cluster
============================================================

``GridSearchCV`` runs its fits through joblib, and
``joblib.parallel_backend("dask")`` sends them to the workers of a Dask
cluster instead of local processes. Here a ``LocalCluster`` of two worker
processes on this machine tunes the dropout rate on California housing by
the Gaussian NLL, then predicts a partitioned test set on the same workers
with :func:`~sklearn_mcdropout.predict_partitions`. On a real cluster,
connect to its scheduler instead: ``Client("tcp://scheduler-address:8786")``.

The workers are new Python processes, started with ``spawn``, and each one
imports this file again: the code that starts and uses the cluster runs only
under ``if __name__ == "__main__":``. The search gives the same scores as
``n_jobs=1`` or joblib's own process pool, to the last bit: each fit draws
its randomness from ``random_state`` alone.

Needs the ``dask`` extra (``pip install "sklearn-mcdropout[examples,dask]"``).
A network of two layers of 64 units trained for 20 epochs keeps the run to
about 7 minutes on 2 CPU cores; set ``SKLEARN_MCDROPOUT_QUICK=1`` for a run
of under a minute on a subsample.
"""

# %%
import os
import time
from pathlib import Path

import dask
import dask.array as da
import joblib
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mcdropout import (
    MCDropoutRegressor,
    load_california_housing,
    predict_partitions,
)
from sklearn_mcdropout.metrics import gaussian_nll, neg_gaussian_nll_scorer

quick = os.environ.get("SKLEARN_MCDROPOUT_QUICK") == "1"
output = Path(os.environ.get("SKLEARN_MCDROPOUT_OUTPUT", "examples/output"))


def torch_threads():
    """Number of threads torch uses in the process that calls it."""
    import torch

    return torch.get_num_threads()


# %%
# The search
# ----------
# A ``Pipeline`` of a scaler and the network, and a grid over the dropout
# rate, scored by the negative Gaussian NLL of the predictive distribution.
if __name__ == "__main__":
    start = time.perf_counter()
    output.mkdir(parents=True, exist_ok=True)
    X, y = load_california_housing()
    if quick:
        rows = np.random.default_rng(0).choice(len(y), size=800, replace=False)
        X, y = X[rows], y[rows]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    pipe = make_pipeline(
        StandardScaler(),
        MCDropoutRegressor(
            hidden_layer_sizes=(64, 64),
            noise="homoscedastic",
            weight_decay=1e-4,
            max_epochs=3 if quick else 20,
            n_passes=20 if quick else 50,
            random_state=0,
        ),
    )
    grid = {"mcdropoutregressor__dropout": [0.02, 0.05, 0.1, 0.2]}
    search = GridSearchCV(pipe, grid, scoring=neg_gaussian_nll_scorer, cv=3, n_jobs=-1)

# %%
# Start a cluster
# ---------------
# Dask's nanny starts every worker process with ``OMP_NUM_THREADS=1`` and
# ``MKL_NUM_THREADS=1`` (its ``distributed.nanny.pre-spawn-environ``
# settings): one torch thread per task, right for the default ``LocalCluster``
# with one task slot per core. These workers run one task at a time, so give
# each its share of the cores instead. torch reads the variables when it is
# imported, ``MKL_NUM_THREADS`` before ``OMP_NUM_THREADS``: set both, before
# the workers start. (``LocalCluster(env=...)`` would set them too late here:
# a worker imports this file, and with it torch, before applying ``env``.)
if __name__ == "__main__":
    n_workers = 2
    share = max(1, joblib.cpu_count() // n_workers)
    threads = {
        f"distributed.nanny.pre-spawn-environ.{name}": share
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
    }
    with dask.config.set(threads):
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    client = Client(cluster)
    print("torch threads per worker:", client.run(torch_threads))

# %%
# Search on the cluster
# ---------------------
# ``n_jobs=-1`` lets joblib run as many fits at once as the cluster has task
# slots. The refit of the best candidate runs in this process.
if __name__ == "__main__":
    with joblib.parallel_backend("dask"):
        search.fit(X_train, y_train)
    results = pd.DataFrame(search.cv_results_)
    table = pd.DataFrame(
        {
            "dropout": results["param_mcdropoutregressor__dropout"],
            "NLL": -results["mean_test_score"],
            "rank": results["rank_test_score"],
        }
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("best:", search.best_params_)

# %%
# Predict a partitioned data set on the workers
# ---------------------------------------------
# :func:`~sklearn_mcdropout.predict_partitions` maps ``predict(X,
# return_std=True)`` over the blocks of a Dask array (or the partitions of a
# Dask DataFrame, read for instance with ``dask.dataframe.read_parquet``),
# so the data never has to fit in one process. Compute the mean and the std
# together: they come from one prediction per block.
if __name__ == "__main__":
    X_blocks = da.from_array(X_test, chunks=(len(X_test) // 4 + 1, -1))
    y_mean, y_std = dask.compute(*predict_partitions(search.best_estimator_, X_blocks))
    print(
        f"refitted best model on the test split ({X_blocks.numblocks[0]} blocks): "
        f"NLL {gaussian_nll(y_test, y_mean, y_std):.3f}"
    )
    client.close()
    cluster.close()

# %%
# NLL against dropout
# -------------------
if __name__ == "__main__":
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.errorbar(
        table["dropout"],
        table["NLL"],
        yerr=results["std_test_score"],
        marker="o",
        capsize=3,
    )
    ax.set_xlabel("dropout rate")
    ax.set_ylabel("Gaussian NLL, mean and std over 3 folds")
    _ = ax.set_title("Grid search on a Dask cluster")
    fig.tight_layout()
    fig.savefig(output / "dask_search.png", dpi=110)
    print(f"figure saved in {output}; total time {time.perf_counter() - start:.0f} s")
