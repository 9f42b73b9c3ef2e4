"""The defaults' fit against ``uci.py``'s tuned protocol, side by side.

Issue 28 asks ``MCDropoutRegressor()`` to cost at most a fifth of the
protocol's compute per split. For each data set's first splits, on one
thread, in turn: the defaults' fit (``peers.py``'s pipeline, a
``StandardScaler`` and ``MCDropoutRegressor(random_state=k)``), the
protocol's split as ``uci.py`` runs it (the grid of rates trained as one
batched network, the best refitted, both scored) and as the paper ran it
(``--sequential-grid``: one network per rate). Prints the seconds of each
per split and the ratios of their sums, measured in one process; the
machine's speed moves between runs, not within one. ``--uci-args`` passes
more of ``uci.py``'s options to the protocol (``"--n-members 5"``: five
members per rate, the defaults' own ensemble size on these sets);
``--batched-only`` leaves out the sequential grid.

    python benchmarks/defaults_compute.py ../shared/data/uci/yacht \\
        ../shared/data/uci/energy ../shared/data/uci/bostonHousing \\
        ../shared/data/uci/concrete ../shared/data/uci/wine-quality-red
"""

import argparse
import shlex
import time

import numpy as np
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import uci
from sklearn_mcdropout import MCDropoutRegressor


def _seconds(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def _or_dash(value, digits):
    """``value`` with ``digits`` decimals, or "-" where it was not measured."""
    return "-" if np.isnan(value) else f"{value:.{digits}f}"


def compare(folder, n_splits, uci_argv=(), sequential=True):
    """Seconds per split, an array (n_splits, 3): the defaults' fit, the
    batched and the sequential protocol's whole split (``uci_argv``: more
    of ``uci.py``'s options, such as fewer epochs for a quick look; NaN for
    the sequential one where ``sequential`` is False)."""
    data = uci.read_folder(folder)
    args = uci.build_parser().parse_args(["--data", str(folder), *uci_argv])
    batched = uci.make_config(args)
    one_by_one = {**batched, "sequential_grid": True}
    rows = []
    for k in range(n_splits):
        train, _ = data["splits"][k]
        X, y = data["X"][train], data["y"][train]
        model = make_pipeline(StandardScaler(), MCDropoutRegressor(random_state=k))
        rows.append(
            (
                _seconds(model.fit, X, y),
                _seconds(uci.run_split, data, k, batched, 1, args.seed),
                _seconds(uci.run_split, data, k, one_by_one, 1, args.seed)
                if sequential
                else np.nan,
            )
        )
    return data["name"], np.array(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="+", help="UCI folders in uci.py's format")
    parser.add_argument("--n-splits", type=int, default=2, help="first K splits")
    parser.add_argument(
        "--uci-args",
        default="",
        help="more of uci.py's options for the protocol, one quoted string "
        "(--uci-args='--n-members 5')",
    )
    parser.add_argument(
        "--batched-only", action="store_true", help="leave out the sequential grid"
    )
    args = parser.parse_args(argv)
    uci_argv = shlex.split(args.uci_args)
    torch.set_num_threads(1)
    print(
        "per split, one thread: defaults' fit / protocol batched / sequential"
        + (f" (uci.py {' '.join(uci_argv)})" if uci_argv else "")
    )
    with threadpool_limits(1):
        for folder in args.data:
            name, seconds = compare(
                folder, args.n_splits, uci_argv, not args.batched_only
            )
            mean = seconds.mean(axis=0)
            ratio = seconds[:, 0].sum() / seconds[:, 1:].sum(axis=0)
            print(
                f"{name}: {mean[0]:.1f} / {mean[1]:.1f} / {_or_dash(mean[2], 1)} s; "
                f"defaults / protocol {ratio[0]:.2f} (batched), "
                f"{_or_dash(ratio[1], 2)} (sequential)",
                flush=True,
            )


if __name__ == "__main__":
    main()
