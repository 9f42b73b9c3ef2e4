"""The defaults' fit against ``uci.py``'s tuned protocol, side by side.

Issue 28 asks ``MCDropoutRegressor()`` to cost at most a fifth of the
protocol's compute per split. For each data set's first splits, on one
thread, in turn: the defaults' fit (``peers.py``'s pipeline, a
``StandardScaler`` and ``MCDropoutRegressor(random_state=k)``), the
protocol's split as ``uci.py`` runs it (the grid of rates trained as one
batched network, the best refitted, both scored) and as the paper ran it
(``--sequential-grid``: one network per rate). Prints the seconds of each
per split and the ratios of their sums, measured in one process; the
machine's speed moves between runs, not within one.

    python benchmarks/defaults_compute.py ../shared/data/uci/yacht \\
        ../shared/data/uci/energy ../shared/data/uci/bostonHousing \\
        ../shared/data/uci/concrete ../shared/data/uci/wine-quality-red
"""

import argparse
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


def compare(folder, n_splits, uci_argv=()):
    """Seconds per split, an array (n_splits, 3): the defaults' fit, the
    batched and the sequential protocol's whole split (``uci_argv``: more
    of ``uci.py``'s options, such as fewer epochs for a quick look)."""
    data = uci.read_folder(folder)
    args = uci.build_parser().parse_args(["--data", str(folder), *uci_argv])
    batched = uci.make_config(args)
    sequential = {**batched, "sequential_grid": True}
    rows = []
    for k in range(n_splits):
        train, _ = data["splits"][k]
        X, y = data["X"][train], data["y"][train]
        model = make_pipeline(StandardScaler(), MCDropoutRegressor(random_state=k))
        rows.append(
            (
                _seconds(model.fit, X, y),
                _seconds(uci.run_split, data, k, batched, 1, args.seed),
                _seconds(uci.run_split, data, k, sequential, 1, args.seed),
            )
        )
    return data["name"], np.array(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="+", help="UCI folders in uci.py's format")
    parser.add_argument("--n-splits", type=int, default=2, help="first K splits")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print("per split, one thread: defaults' fit / protocol batched / sequential")
    with threadpool_limits(1):
        for folder in args.data:
            name, seconds = compare(folder, args.n_splits)
            mean = seconds.mean(axis=0)
            ratio = seconds[:, 0].sum() / seconds[:, 1:].sum(axis=0)
            print(
                f"{name}: {mean[0]:.1f} / {mean[1]:.1f} / {mean[2]:.1f} s; "
                f"defaults / protocol {ratio[0]:.2f} (batched), "
                f"{ratio[1]:.2f} (sequential)",
                flush=True,
            )


if __name__ == "__main__":
    main()
