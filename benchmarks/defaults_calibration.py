"""Would the defaults cover better with a noise scale fitted on fresh rows?

An experiment for issue 28, run with the defaults as first released (whose
noise level was fitted on the rows that chose; RESULTS_peers.md has its
figures), which led to fitting it on fresh rows inside ``fit``: on the
first ``--n-splits`` of a UCI set, per split, three ways of using
``MCDropoutRegressor()``:

- ``defaults``: fitted on all training rows, as a user fits it (it chooses
  on held-out rows of its own, then refits on all rows);
- ``no refit``: fitted on 90% of the training rows, the other 10% (fresh
  rows: they served neither the choice nor early stopping) left out;
- ``no refit + scale``: the same model with its noise variance multiplied by
  the factor ``c`` (61 values from 1/4 to 16, log-spaced) that maximises the
  likelihood of the fresh 10% under the mixture of the passes' Gaussians, as
  ``tau="auto"`` fits a homoscedastic model's noise.

Test scores: the NLL of the mixture (the paper's eq. (8)) and the coverage
of its central 95% interval. Mean and standard error over splits.

    python benchmarks/defaults_calibration.py --data ../shared/data/uci/concrete
"""

import argparse

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm
from sklearn.preprocessing import StandardScaler

import uci
from sklearn_mcdropout import MCDropoutRegressor
from sklearn_mcdropout.metrics import mixture_interval

SCALES = np.exp(np.linspace(np.log(0.25), np.log(16), 61))


def mixture_nll(y, y_passes, noise_std):
    """Mean negative log density of y under each row's mixture."""
    log_pdf = norm.logpdf(y[:, np.newaxis], y_passes, noise_std)
    return -np.mean(logsumexp(log_pdf, axis=1) - np.log(y_passes.shape[1]))


def scores(y, y_passes, noise_std):
    lower, upper = mixture_interval(y_passes, noise_std, confidence=0.95)
    return mixture_nll(y, y_passes, noise_std), np.mean((lower <= y) & (y <= upper))


def one_split(X_train, y_train, X_test, y_test, seed):
    full = MCDropoutRegressor(random_state=seed).fit(X_train, y_train)
    rows = {"defaults": scores(y_test, *full.predict_passes(X_test, True))}
    order = np.random.default_rng(seed).permutation(len(y_train))
    fresh, train = order[: len(order) // 10], order[len(order) // 10 :]
    part = MCDropoutRegressor(random_state=seed).fit(X_train[train], y_train[train])
    y_passes, noise_std = part.predict_passes(X_train[fresh], True)
    nlls = [
        mixture_nll(y_train[fresh], y_passes, noise_std * np.sqrt(c)) for c in SCALES
    ]
    scale = SCALES[int(np.argmin(nlls))]
    y_passes, noise_std = part.predict_passes(X_test, True)
    rows["no refit"] = scores(y_test, y_passes, noise_std)
    rows["no refit + scale"] = scores(y_test, y_passes, noise_std * np.sqrt(scale))
    chosen = " / ".join(f"{m.noise_} {m.dropout_.flat[0]:g}" for m in (full, part))
    return rows, scale, chosen


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a UCI folder")
    parser.add_argument("--n-splits", type=int, default=5)
    args = parser.parse_args(argv)
    folder = uci.read_folder(args.data)
    X, y = folder["X"], folder["y"]
    results = []
    for k, (train, test) in enumerate(folder["splits"][: args.n_splits]):
        scaler = StandardScaler().fit(X[train])
        rows, scale, chosen = one_split(
            scaler.transform(X[train]), y[train], scaler.transform(X[test]), y[test], k
        )
        results.append(rows)
        cells = ", ".join(f"{m} NLL {v[0]:.3f} cov {v[1]:.3f}" for m, v in rows.items())
        print(f"split {k}: chose {chosen}; scale {scale:.2f}; {cells}", flush=True)
    print(f"{folder['name']}, {len(results)} splits (mean ± SE):")
    for method in results[0]:
        values = np.array([r[method] for r in results])
        mean, se = values.mean(axis=0), values.std(axis=0) / np.sqrt(len(values))
        print(
            f"  {method:<18} NLL {mean[0]:.3f} ± {se[0]:.3f}   "
            f"95% coverage {mean[1]:.3f} ± {se[1]:.3f}"
        )


if __name__ == "__main__":
    main()
