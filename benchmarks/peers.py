"""The library's variants against the uncertainty methods users pick instead.

One run per data set: California housing (scikit-learn's
``fetch_california_housing``, ``train_test_split(test_size=0.2,
random_state=42)``) or a UCI folder in the format of ``benchmarks/uci.py``
(read with its ``read_folder``; the paper's fixed train/test splits, the first
``--n-splits`` of them). Every method is fitted on the same training rows and
scored on the same test rows:

- ``mcd``: ``MCDropoutRegressor()`` with its defaults (since issue 28 the
  dropout rate, noise model, ``tau`` and epochs chosen on held-out rows;
  the committed ``results/peers_*.json`` were run with the earlier defaults,
  dropout 0.1, homoscedastic, 100 epochs, ``results/defaults_*.json``
  with the new ones, and ``results/defaults-choice-rows_*.json`` with the
  new ones as first released, their noise level fitted on the rows that
  chose);
- ``mcd-het``: ``noise="heteroscedastic"``;
- ``mcd-concrete``: ``dropout="concrete"`` (learned rates);
- ``mcd-ens5``: ``n_members=5`` (five MC dropout networks pooled);
- ``deep-ens5``: a deep ensemble of 5 MLPs with a variance head,
  ``MCDropoutRegressor(n_members=5, dropout=0.0, noise="heteroscedastic",
  n_passes=1)`` (Lakshminarayanan et al., 2017);
- ``ngboost``: ``NGBRegressor(Dist=Normal)``, its defaults (500 trees);
- ``cqr``: conformalized quantile regression (Romano et al., 2019) through
  MAPIE's ``ConformalizedQuantileRegressor`` around
  ``HistGradientBoostingRegressor(loss="quantile")``, one model per
  confidence level, 20% of the training rows held out for the calibration;
  its point prediction is the median model's;
- ``gp``: ``GaussianProcessRegressor`` (exact) with a constant times an ARD
  RBF kernel plus a white-noise kernel, ``normalize_y=True``, fitted on at
  most ``--gp-max-train`` training rows drawn at random (all of them on the
  five UCI sets here, 3,000 of a protein-sized set's 41,157).

The networks and the GP get a ``StandardScaler`` in front (a ``Pipeline``);
the trees need none. Metrics, in the target's units: RMSE; the negative
log-likelihood of the method's own predictive density (``nll``: the mixture
of the passes' Gaussians for the library, as in the paper's eq. (8); a
Gaussian for NGBoost and the GP; none for CQR, which gives intervals only);
the Gaussian NLL and CRPS of the predictive mean and std (``gaussian_nll``,
``crps``; for the library the mixture's first two moments, what
``predict(X, return_std=True)`` returns); the coverage and mean width of the
90% and 95% intervals (Gaussian ``mean +- z std``, or CQR's own) overall and
per quintile of the test target (equal-count bins of its rank, ties split
by row order); for the library, the same from its predictive mixture
itself (``mixture_crps``, ``mixture_coverage_95``, ``mixture_width_95``...:
the exact CRPS and the central intervals of the mixture of the passes'
Gaussians, ``crps_mixture`` and ``mixture_interval``); fit and predict time
(``predict`` with the std, or CQR's two ``predict_interval`` calls). A UCI
run reports the mean and the standard error (std over splits / sqrt(K), as
``uci.py``) of each metric.

``--quick`` subsamples (300 training rows, 200 test rows, 2 splits) and
trains a few epochs and trees, to check that the script runs (tests/test_peers.py).

At the size of the protein set (``make_sized_data.py --size protein``:
41,157 training and 4,573 test rows a split) nothing grows beyond the
rows: the library's own NLL is streamed over its passes, the GP's cost is
that of its ``--gp-max-train`` rows.

    python benchmarks/peers.py --data california --json out.json
    python benchmarks/peers.py --data ../shared/data/uci/yacht --n-splits 10
    python benchmarks/peers.py --data /tmp/protein-sized --n-splits 1
    python benchmarks/peers.py --data ../shared/data/uci/bostonHousing --methods mcd \
        --mcd-params '{"dropout": 0.05, "noise": "heteroscedastic"}'
"""

import argparse
import json
import platform
import sys
import time
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import fetch_california_housing
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import uci
from sklearn_mcdropout import MCDropoutRegressor
from sklearn_mcdropout.metrics import (
    coverage_by_group,
    crps_gaussian,
    crps_mixture,
    gaussian_nll,
    interval_coverage,
    mean_interval_width,
    mixture_interval,
)

HERE = Path(__file__).resolve().parent
CONFIDENCES = (0.90, 0.95)
N_BINS = 5
LIBRARY = ("mcd", "mcd-het", "mcd-concrete", "mcd-ens5", "deep-ens5")
PEERS = ("ngboost", "cqr", "gp")
METHODS = LIBRARY + PEERS
#: Test rows whose log-likelihoods are computed at once (the library's).
SCORE_ROWS = 2**12


def load_dataset(data):
    """Name, X, y and the (train, test) index pairs of ``data``."""
    if data == "california":
        X, y = fetch_california_housing(return_X_y=True, download_if_missing=False)
        train, test = train_test_split(
            np.arange(len(y)), test_size=0.2, random_state=42
        )
        return "california", X, y, [(train, test)]
    folder = uci.read_folder(data)
    return folder["name"], folder["X"], folder["y"], folder["splits"]


def make_method(name, config, seed):
    """An unfitted model for ``name``; ``config`` holds the run's sizes."""
    if name in LIBRARY:
        params = {
            "mcd": {},
            "mcd-het": {"noise": "heteroscedastic"},
            "mcd-concrete": {"dropout": "concrete"},
            "mcd-ens5": {"n_members": 5},
            "deep-ens5": {
                "n_members": 5,
                "dropout": 0.0,
                "noise": "heteroscedastic",
                "n_passes": 1,
            },
        }[name]
        params = {**config["mcd"], **params}
        return make_pipeline(
            StandardScaler(), MCDropoutRegressor(random_state=seed, **params)
        )
    if name == "ngboost":
        from ngboost import NGBRegressor
        from ngboost.distns import Normal

        return NGBRegressor(
            Dist=Normal, random_state=seed, verbose=False, **config["ngboost"]
        )
    if name == "cqr":
        return HistGradientBoostingRegressor(
            loss="quantile", quantile=0.5, random_state=seed, **config["hgb"]
        )
    n_features = config["n_features"]
    kernel = ConstantKernel(1.0) * RBF(
        np.ones(n_features), length_scale_bounds=(1e-2, 1e3)
    ) + WhiteKernel(0.1, noise_level_bounds=(1e-6, 1e1))
    return make_pipeline(
        StandardScaler(),
        GaussianProcessRegressor(kernel, normalize_y=True, random_state=seed),
    )


class _CQR:
    """MAPIE's conformalized quantile regression at each confidence level."""

    def __init__(self, estimator, seed):
        self.estimator = estimator
        self.seed = seed

    def fit(self, X, y):
        from mapie.regression import ConformalizedQuantileRegressor

        X_fit, X_cal, y_fit, y_cal = train_test_split(
            X, y, test_size=0.2, random_state=self.seed
        )
        self.models_ = {}
        for confidence in CONFIDENCES:
            model = ConformalizedQuantileRegressor(
                self.estimator, confidence_level=confidence
            )
            self.models_[confidence] = model.fit(X_fit, y_fit).conformalize(
                X_cal, y_cal
            )
        return self

    def predict_intervals(self, X):
        """The median model's prediction and the (lower, upper) bounds."""
        intervals = {}
        for confidence, model in self.models_.items():
            y_pred, bounds = model.predict_interval(X)
            intervals[confidence] = (bounds[:, 0, 0], bounds[:, 1, 0])
        return y_pred, intervals


def _fit(name, model, X, y, config, seed):
    if name == "cqr":
        return _CQR(model, seed).fit(X, y)
    if name == "gp" and len(y) > config["gp_max_train"]:
        rows = np.random.default_rng(seed).choice(
            len(y), config["gp_max_train"], replace=False
        )
        X, y = X[rows], y[rows]
    with warnings.catch_warnings():
        # The GP's optimiser may stop at a bound; the score says how it did.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _predict(name, model, X):
    """Predictive mean and std, or CQR's median and intervals."""
    if name == "cqr":
        return model.predict_intervals(X)
    if name == "ngboost":
        dist = model.pred_dist(X)
        return dist.params["loc"], dist.params["scale"]
    return model.predict(X, return_std=True)


def own_nll(name, model, X, y, y_mean, y_std):
    """NLL of the method's own predictive density (None for CQR)."""
    if name == "cqr":
        return None
    if name not in LIBRARY:
        return gaussian_nll(y, y_mean, y_std)
    # The library's density: the equal-weight mixture of the passes' Gaussians,
    # streamed over blocks of passes and chunks of rows (no pass stored).
    Xt = model[0].transform(X)
    total = 0.0
    for start in range(0, len(y), SCORE_ROWS):
        rows = slice(start, start + SCORE_ROWS)
        _, ll = model[-1]._streamed_log_likelihoods(Xt[rows], y[rows])
        total += float(ll.sum())
    return -total / len(y)


def target_bins(y):
    """Equal-count bins of the target's rank, 0 (lowest) to ``N_BINS - 1``.

    Ties are split by row order, so a target with few distinct values (wine
    quality) still gives ``N_BINS`` bins of equal size.
    """
    rank = np.argsort(np.argsort(y, kind="stable"), kind="stable")
    return rank * N_BINS // len(y)


def score(name, model, X, y, fit_time):
    """Every metric of one fitted method on one test set."""
    start = time.perf_counter()
    y_pred, spread = _predict(name, model, X)
    predict_time = time.perf_counter() - start
    bins = target_bins(y)
    result = {
        "rmse": float(np.sqrt(np.mean((y_pred - y) ** 2))),
        "fit_time": fit_time,
        "predict_time": predict_time,
        "nll": own_nll(name, model, X, y, y_pred, spread),
        "bin_ranges": [
            [float(y[bins == b].min()), float(y[bins == b].max())]
            for b in range(N_BINS)
        ],
    }
    if name == "cqr":
        result["gaussian_nll"] = result["crps"] = None
        for confidence, (lower, upper) in spread.items():
            inside = (lower <= y) & (y <= upper)
            per_bin = np.bincount(bins, weights=inside) / np.bincount(bins)
            _add_intervals(
                result, confidence, inside.mean(), np.mean(upper - lower), per_bin
            )
        return result
    result["gaussian_nll"] = gaussian_nll(y, y_pred, spread)
    result["crps"] = crps_gaussian(y, y_pred, spread)
    if name in LIBRARY:
        result.update(mixture_scores(model, X, y, bins))
    for confidence in CONFIDENCES:
        per_bin = coverage_by_group(
            y, y_pred, spread, by=bins, confidence=confidence
        ).coverage
        _add_intervals(
            result,
            confidence,
            interval_coverage(y, y_pred, spread, confidence=confidence),
            mean_interval_width(spread, confidence=confidence),
            per_bin,
        )
    return result


def _add_intervals(result, confidence, coverage, width, per_bin, prefix=""):
    level = round(100 * confidence)
    result[f"{prefix}coverage_{level}"] = float(coverage)
    result[f"{prefix}width_{level}"] = float(width)
    result[f"{prefix}coverage_{level}_by_bin"] = [float(c) for c in per_bin]


def mixture_scores(model, X, y, bins):
    """CRPS and central intervals of the library's mixture, by chunks of rows.

    The mixture of the passes' Gaussians itself, not its two moments; the
    passes of ``SCORE_ROWS`` rows are stored at a time.
    """
    Xt = model[0].transform(X)
    crps_total = 0.0
    intervals = {c: (np.empty(len(y)), np.empty(len(y))) for c in CONFIDENCES}
    for start in range(0, len(y), SCORE_ROWS):
        rows = slice(start, start + SCORE_ROWS)
        y_passes, noise_std = model[-1].predict_passes(Xt[rows], return_noise_std=True)
        crps_total += crps_mixture(y[rows], y_passes, noise_std) * len(y_passes)
        for confidence, (lower, upper) in intervals.items():
            lower[rows], upper[rows] = mixture_interval(
                y_passes, noise_std, confidence=confidence
            )
    result = {"mixture_crps": crps_total / len(y)}
    for confidence, (lower, upper) in intervals.items():
        inside = (lower <= y) & (y <= upper)
        per_bin = np.bincount(bins, weights=inside) / np.bincount(bins)
        _add_intervals(
            result,
            confidence,
            inside.mean(),
            np.mean(upper - lower),
            per_bin,
            prefix="mixture_",
        )
    return result


def run_method(name, X_train, y_train, X_test, y_test, config, seed):
    model = make_method(name, config, seed)
    start = time.perf_counter()
    model = _fit(name, model, X_train, y_train, config, seed)
    fit_time = time.perf_counter() - start
    return score(name, model, X_test, y_test, fit_time)


def summarise(per_split):
    """Mean and standard error over splits of every numeric metric."""
    summary = {}
    for name, results in per_split.items():
        summary[name] = {}
        for key in results[0]:
            if key == "bin_ranges" or results[0][key] is None:
                continue
            values = np.array([r[key] for r in results], dtype=float)
            mean = values.mean(axis=0)
            se = values.std(axis=0) / np.sqrt(len(values))
            summary[name][key] = {"mean": mean.tolist(), "se": se.tolist()}
    return summary


def make_config(args, n_features):
    """Sizes of every method: the defaults, or small ones with ``--quick``."""
    mcd = dict(args.mcd_params)
    if args.max_epochs is not None:
        mcd["max_epochs"] = args.max_epochs
    config = {
        "n_features": n_features,
        "gp_max_train": args.gp_max_train,
        "mcd": mcd,
        "ngboost": {},
        "hgb": {},
    }
    if args.quick:
        quick = {"max_epochs": 3, "n_passes": 10, "hidden_layer_sizes": (16,)}
        config["mcd"] = {**quick, **args.mcd_params}
        config["ngboost"] = {"n_estimators": 20}
        config["hgb"] = {"max_iter": 10}
        config["gp_max_train"] = min(args.gp_max_train, 100)
    return config


def _code():
    """Where the library was imported from, and that checkout's commit."""
    import subprocess

    import sklearn_mcdropout

    folder = Path(sklearn_mcdropout.__file__).resolve().parent
    git = ["git", "-C", str(folder)]
    try:
        commit = subprocess.run(
            [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = None, ""
    return {"library": str(folder), "commit": commit, "modified": bool(dirty)}


def _versions():
    names = ["sklearn-mcdropout", "torch", "scikit-learn", "numpy", "ngboost", "mapie"]
    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return {"python": platform.python_version(), **found}


def _subsample(index, n, seed):
    if len(index) <= n:
        return index
    return np.sort(np.random.default_rng(seed).choice(index, n, replace=False))


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        required=True,
        help='"california", or a UCI folder in the format of uci.py',
    )
    parser.add_argument(
        "--n-splits", type=int, help="the first K splits of a UCI set (all)"
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=list(METHODS),
        help="methods to run (all)",
    )
    parser.add_argument(
        "--max-epochs",
        type=int,
        help='epochs of the library\'s networks (default: their own, "auto")',
    )
    parser.add_argument(
        "--mcd-params",
        type=_json_object,
        default={},
        help="parameters of the library's networks, a JSON object; each"
        " variant's own win (mcd-het's noise...)",
    )
    parser.add_argument(
        "--gp-max-train",
        type=int,
        default=3000,
        help="the GP's training rows at most, drawn at random (3000)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    parser.add_argument("--seed", type=int, default=0, help="seed of split k: seed + k")
    parser.add_argument("--quick", action="store_true", help="a subsample, few epochs")
    parser.add_argument(
        "--json", help="results file (benchmarks/results/peers_<data set>.json)"
    )
    return parser


def _json_object(text):
    """``--mcd-params``: a JSON object, its lists made tuples (layer sizes)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"not a JSON object: {text!r}")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}


def main(argv=None):
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    name, X, y, splits = load_dataset(args.data)
    if args.quick:
        splits = splits[:2]
    splits = splits[: args.n_splits]
    config = make_config(args, X.shape[1])
    per_split = {method: [] for method in args.methods}
    start = time.perf_counter()
    with threadpool_limits(args.threads):
        for k, (train, test) in enumerate(splits):
            seed = args.seed + k
            if args.quick:
                train, test = _subsample(train, 300, seed), _subsample(test, 200, seed)
            for method in args.methods:
                result = run_method(
                    method, X[train], y[train], X[test], y[test], config, seed
                )
                per_split[method].append(result)
                nll = result["gaussian_nll"]
                print(
                    f"{name} split {k + 1}/{len(splits)} {method}: "
                    f"RMSE {result['rmse']:.3f}, "
                    f"Gaussian NLL {'n/a' if nll is None else f'{nll:.3f}'}, "
                    f"95% coverage {result['coverage_95']:.3f}, "
                    f"fit {result['fit_time']:.1f} s "
                    f"({time.perf_counter() - start:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    output = {
        "dataset": name,
        "command": "python benchmarks/peers.py " + " ".join(argv or sys.argv[1:]),
        "n_splits": len(splits),
        "n_train": len(splits[0][0]) if not args.quick else min(300, len(train)),
        "n_test": len(splits[0][1]) if not args.quick else min(200, len(test)),
        "n_features": X.shape[1],
        "gp_train_rows": min(config["gp_max_train"], len(train)),
        "threads": args.threads,
        "quick": args.quick,
        "config": {k: v for k, v in config.items() if k != "n_features"},
        "versions": _versions(),
        "code": _code(),
        "wall_seconds": time.perf_counter() - start,
        "summary": summarise(per_split),
        "per_split": per_split,
    }
    path = Path(args.json or HERE / "results" / f"peers_{name}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(output, indent=1, default=_jsonable))
    print(f"{name}: {len(splits)} splits in {output['wall_seconds']:.0f} s -> {path}")
    return output


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


if __name__ == "__main__":
    main()
