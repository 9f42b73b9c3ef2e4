"""What the test modules share.

- ``import_benchmark`` and ``write_uci_folder`` serve the tests of the scripts
  in ``benchmarks/``.
"""

import importlib
import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def import_benchmark(name):
    """``benchmarks/<name>.py`` as a module, imported as when the script runs:
    with its folder on ``sys.path``, where the scripts import each other."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module(name)


def write_uci_folder(path, data, target, n_train, n_splits, dropout_rates, taus):
    """``data`` as a data set in the format of the paper's UCI folders.

    The target is column ``target`` of ``data``, the features the others;
    split k is the permutation of the rows by ``default_rng(k)``, its first
    ``n_train`` rows for training; 8 hidden units, 1 epoch; the grids of
    dropout rates and tau values as given.
    """
    np.savetxt(path / "data.txt", data)
    features = [j for j in range(data.shape[1]) if j != target]
    np.savetxt(path / "index_features.txt", features, fmt="%d")
    np.savetxt(path / "index_target.txt", [target], fmt="%d")
    for k in range(n_splits):
        perm = np.random.default_rng(k).permutation(len(data))
        np.savetxt(path / f"index_train_{k}.txt", perm[:n_train], fmt="%d")
        np.savetxt(path / f"index_test_{k}.txt", perm[n_train:], fmt="%d")
    for name, value in [("n_splits", n_splits), ("n_hidden", 8), ("n_epochs", 1)]:
        (path / f"{name}.txt").write_text(f"{value}\n")
    (path / "dropout_rates.txt").write_text(" ".join(map(str, dropout_rates)) + "\n")
    (path / "tau_values.txt").write_text(" ".join(map(str, taus)) + "\n")
    return path
