"""Would early stopping on the validation likelihood help uci.py's protocol?

For each split and each dropout rate of the folder's grid, the network is
fitted on the first 80% of the training split as in ``uci.py`` (same model,
seeds and training options, so the last epoch is uci.py's grid fit), keeping
the weights every ``--every`` epochs through the estimator's ``callbacks``.
Every snapshot is scored on the validation rows over uci.py's tau grid and,
for this diagnosis only, on the test rows with the tau picked on validation.
Two selections are compared by the test RMSE and log-likelihood of the
network they pick, split by split:

- last epoch: the best (dropout, tau) by validation likelihood after the last
  epoch, as uci.py selects;
- early stopping: the best (dropout, tau, epoch) by validation likelihood.

There is no refit on the whole training split: the test figures are those of
networks fitted on 80% of it, comparable with each other but not with
uci.py's results. Snapshots are scored with ``--passes`` passes (2,000 by
default here, against uci.py's 10,000); a progress line per grid fit goes to
stderr.

    python benchmarks/uci_early_stopping.py \\
        --data ../shared/data/uci/bostonHousing --splits 10 --n-jobs 2
"""

import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from skorch.callbacks import Callback

import uci


class Snapshots(Callback):
    """A copy of the network's weights every ``every`` epochs and at the last."""

    def __init__(self, every):
        self.every = every

    def initialize(self):
        self.states = {}
        return self

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if epoch % self.every == 0 or epoch == net.max_epochs:
            self.states[epoch] = copy.deepcopy(net.module_.state_dict())


def score_snapshots(data, k, dropout, config, every, seed):
    """Validation and test scores of each snapshot of one grid fit."""
    X, y = data["X"], data["y"]
    train, test = data["splits"][k]
    fit_idx, val_idx = uci.fit_validation_split(train)
    taus = uci.tau_grid(data["tau_values"], config["fine_tau"])
    snapshots = Snapshots(every)
    tau_train = float(np.median(data["tau_values"]))
    model = uci.fit_model(
        data, fit_idx, dropout, tau_train, config, seed + k, callbacks=[snapshots]
    )
    rows = []
    for epoch, state in snapshots.states.items():
        model[-1].net_.module_.load_state_dict(state)
        _, val_lls = uci.evaluate(model, X[val_idx], y[val_idx], taus)
        best = int(np.argmax(val_lls))
        rmse, (ll,) = uci.evaluate(model, X[test], y[test], [taus[best]])
        rows.append(
            {
                "split": k,
                "dropout": dropout,
                "epoch": epoch,
                "tau": taus[best],
                "validation_ll": val_lls[best],
                "rmse": rmse,
                "ll": ll,
            }
        )
    return rows


def select(rows, last_epoch):
    """Per split, the row of best validation likelihood (after the last epoch
    only if ``last_epoch``)."""
    picks, final = {}, max(row["epoch"] for row in rows)
    for row in rows:
        if last_epoch and row["epoch"] != final:
            continue
        best = picks.get(row["split"])
        if best is None or row["validation_ll"] > best["validation_ll"]:
            picks[row["split"]] = row
    return [picks[k] for k in sorted(picks)]


def main(argv=None):
    parser = uci.build_parser()
    parser.description = __doc__.splitlines()[0]
    parser.add_argument(
        "--every", type=int, default=50, help="epochs between snapshots"
    )
    parser.set_defaults(passes=2000)
    args = parser.parse_args(argv)
    if args.per_tau_fits or args.split_jobs > 1:
        parser.error("--per-tau-fits and --split-jobs are not supported here")
    config = uci.make_config(args)
    data = uci.read_folder(args.data)
    first, stop = args.splits or (0, None)
    indices = range(len(data["splits"]))[first:stop]
    start = time.perf_counter()
    n_jobs = len(indices) * len(data["dropout_rates"])
    jobs = Parallel(n_jobs=args.n_jobs, return_as="generator")(
        delayed(score_snapshots)(data, k, p, config, args.every, args.seed)
        for k in indices
        for p in data["dropout_rates"]
    )
    rows = []
    for done, job in enumerate(jobs, 1):
        rows.extend(job)
        print(
            f"split {job[0]['split'] + 1}, dropout {job[0]['dropout']} "
            f"({done}/{n_jobs}, {time.perf_counter() - start:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    last, early = select(rows, last_epoch=True), select(rows, last_epoch=False)
    summary = {"dataset": data["name"], "splits": list(indices), **config}
    for name, picks in [("last_epoch", last), ("early_stopping", early)]:
        summary[name] = {
            "rmse_mean": float(np.mean([r["rmse"] for r in picks])),
            "ll_mean": float(np.mean([r["ll"] for r in picks])),
            "picks": [(r["dropout"], r["epoch"]) for r in picks],
        }
    for key in ("rmse", "ll"):
        diff = np.array([a[key] - b[key] for a, b in zip(early, last, strict=True)])
        summary[f"{key}_difference"] = float(diff.mean())
        summary[f"{key}_difference_se"] = float(diff.std() / np.sqrt(len(diff)))
    print(
        f"{data['name']}, splits {first + 1}-{indices[-1] + 1}, test scores of "
        f"the networks fitted on 80% of each training split "
        f"({time.perf_counter() - start:.0f} s):"
    )
    for name in ("last_epoch", "early_stopping"):
        s = summary[name]
        print(
            f"  {name:<15} RMSE {s['rmse_mean']:.3f}, LL {s['ll_mean']:.3f}; "
            f"(dropout, epoch) picked: {s['picks']}"
        )
    print(
        f"  early stopping - last epoch: RMSE {summary['rmse_difference']:+.3f} "
        f"+- {summary['rmse_difference_se']:.3f}, LL {summary['ll_difference']:+.3f} "
        f"+- {summary['ll_difference_se']:.3f} (mean +- standard error over splits)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({**summary, "rows": rows}, indent=2))
    return summary


if __name__ == "__main__":
    main()
