"""What the test modules share: seeded data sets, fitted models and checks.

- Data sets are plain functions, imported by name (``from conftest import
  sine_data``), since a module may need them at import time for its
  ``parametrize`` lists. Each is seeded: the same arguments, the same arrays.
- Fitted models are session-scoped fixtures named ``fitted_*``, fitted once
  and shared by tests that only read them (a test that changes one works on a
  ``copy.deepcopy``). Each returns ``(estimator, X, y)``, its training data;
  so do the modules' own ``fitted`` fixtures.
- ``assert_rows_predicted_alike`` checks the promise of the shared masks.
- ``import_benchmark`` and ``write_uci_folder`` serve the tests of the scripts
  in ``benchmarks/``.
"""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest
from torch import nn

from sklearn_mcdropout import MCDropoutRegressor

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def sine_data(
    n=120, n_features=3, *, low=-2.0, high=2.0, frequency=1, noise=0.1, seed=0
):
    """X uniform in [low, high); y = sin(frequency x0) + 0.5 x1 + N(0, noise^2)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(low, high, size=(n, n_features))
    y = np.sin(frequency * X[:, 0]) + 0.5 * X[:, 1] + rng.normal(scale=noise, size=n)
    return X, y


def linear_data(n=40, n_features=5, *, noise=1.0, seed=0):
    """X standard normal; y = x0 + N(0, noise^2)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    return X, X[:, 0] + rng.normal(scale=noise, size=n)


def noise_data(n=30, n_features=3, seed=0):
    """X and y independent standard normal: for checks of inputs, not of fits."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_features)), rng.normal(size=n)


def blobs(n=150, n_classes=3, seed=0):
    """Two features; class k a unit Gaussian around 3 (cos, sin)(2 pi k / K)."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(n_classes) / n_classes
    centers = 3 * np.column_stack([np.cos(angles), np.sin(angles)])
    y = rng.integers(n_classes, size=n)
    X = centers[y] + rng.normal(size=(n, 2))
    return X, y


class BatchNormNet(nn.Module):
    """A custom network with BatchNorm buffers and an output of shape (n,)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(3, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2)
        )
        self.head = nn.Linear(16, 1)

    def forward(self, X):
        return self.head(self.body(X)).reshape(-1)


@pytest.fixture(scope="session")
def fitted_regressor():
    """A small MCDropoutRegressor, T=30, fitted on ``sine_data()`` (120 rows)."""
    X, y = sine_data()
    est = MCDropoutRegressor(
        hidden_layer_sizes=(32, 32), max_epochs=40, n_passes=30, random_state=0
    )
    return est.fit(X, y), X, y


@pytest.fixture(scope="session", params=[1, 3], ids=["1 member", "3 members"])
def fitted_tiny(request):
    """A tiny MCDropoutRegressor of 1 or 3 members, T=20, on ``noise_data()``."""
    X, y = noise_data()
    est = MCDropoutRegressor(
        hidden_layer_sizes=(8,), max_epochs=5, n_passes=20,
        n_members=request.param, random_state=0,
    )  # fmt: skip
    return est.fit(X, y), X, y


def assert_rows_predicted_alike(predict, X, subsets, rtol=1e-7, atol=0.0):
    """Rows predicted alone, among other rows or shuffled come out the same.

    The masks are shared by all rows, so a row's prediction does not depend
    on the rows that come with it: ``predict(X[idx])`` must be
    ``predict(X)[idx]`` for every index array ``idx`` in ``subsets``, to
    ``rtol`` and ``atol`` (float32 products over another number of rows may
    round differently). ``predict`` returns an array or a tuple of arrays.
    """

    def outputs(rows):
        out = predict(rows)
        return out if isinstance(out, tuple) else (out,)

    whole = outputs(X)
    for idx in map(np.asarray, subsets):
        for got, want in zip(outputs(X[idx]), whole, strict=True):
            np.testing.assert_allclose(
                got, want[idx], rtol=rtol, atol=atol, err_msg=f"{len(idx)} rows"
            )


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
