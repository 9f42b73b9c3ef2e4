"""A synthetic regression folder in the authors' UCI format, of a given size.

For timing ``uci.py`` on data the size of a UCI set that is not on this
machine: the default is the power plant's size, 9,568 rows x 4 features,
20 random 90/10 splits, with the power plant's protocol files (50 hidden
units, dropout rates 0.005 to 0.1, tau 0.1 to 0.2). The target is a smooth
function of the features plus Gaussian noise of std 4, on the power plant's
scale (about 450). Only the sizes matter for timing; the figures are not the
power plant's.

    python benchmarks/make_sized_data.py /tmp/power-plant-sized
    python benchmarks/uci.py --data /tmp/power-plant-sized --splits 2 --split-jobs 2
"""

import argparse
from pathlib import Path

import numpy as np


def write_folder(folder, n_rows=9568, n_features=4, n_splits=20, seed=0):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features))
    y = (
        450 + 10 * np.tanh(X[:, 0]) - 2.5 * X[:, 1] ** 2
        + 3 * np.sin(2 * X[:, 2 % n_features]) + 2 * X[:, 0] * X[:, -1]
        + rng.normal(scale=4, size=n_rows)
    )  # fmt: skip
    np.savetxt(folder / "data.txt", np.c_[X, y])
    np.savetxt(folder / "index_features.txt", np.arange(n_features), fmt="%d")
    np.savetxt(folder / "index_target.txt", [n_features], fmt="%d")
    n_train = int(0.9 * n_rows)
    for k in range(n_splits):
        perm = np.random.default_rng(100 + k).permutation(n_rows)
        np.savetxt(folder / f"index_train_{k}.txt", perm[:n_train], fmt="%d")
        np.savetxt(folder / f"index_test_{k}.txt", perm[n_train:], fmt="%d")
    for name, text in [
        ("n_splits", str(n_splits)),
        ("n_hidden", "50"),
        ("n_epochs", "40"),
        ("dropout_rates", "0.005 0.01 0.05 0.1"),
        ("tau_values", "0.1 0.15 0.2"),
    ]:
        (folder / f"{name}.txt").write_text(text + "\n")
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--rows", type=int, default=9568)
    parser.add_argument("--features", type=int, default=4)
    args = parser.parse_args(argv)
    write_folder(args.folder, args.rows, args.features)


if __name__ == "__main__":
    main()
