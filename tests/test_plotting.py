"""Tests for sklearn_mcdropout.plotting."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from sklearn_mcdropout import plotting  # noqa: E402
from sklearn_mcdropout.metrics._regression import _observed_coverage  # noqa: E402
from sklearn_mcdropout.plotting import (  # noqa: E402
    plot_1d_regression,
    plot_confidence_diagram,
    plot_reliability_diagram,
    plot_uncertainty_panels,
)


class FakeRegressor:
    """Minimal 'fitted' regressor returning fixed predictions."""

    def __init__(self, y_mean, y_std):
        self.y_mean = np.asarray(y_mean, dtype=float)
        self.y_std = np.asarray(y_std, dtype=float)
        self.seen_X = []

    def predict(self, X, return_std=False):
        self.seen_X.append(np.asarray(X))
        if return_std:
            return self.y_mean, self.y_std
        return self.y_mean


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    n = 40
    y_true = rng.normal(size=n)
    y_mean = y_true + rng.normal(scale=0.3, size=n)
    y_std = rng.uniform(0.1, 0.6, size=n)
    return y_true, y_mean, y_std


@pytest.fixture
def data_1d():
    rng = np.random.default_rng(0)
    X_train = rng.uniform(-3, 3, size=(20, 1))
    y_train = np.sin(X_train[:, 0]) + rng.normal(scale=0.1, size=20)
    X_plot = np.linspace(-4, 4, 50)
    y_mean = np.sin(X_plot)
    y_std = 0.1 + 0.05 * np.abs(X_plot)
    return X_train, y_train, X_plot, y_mean, y_std


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _band_collections(ax):
    return [
        c
        for c in ax.collections
        if isinstance(c, PolyCollection) and c.get_label().startswith("mean ±")
    ]


# --------------------------------------------------------------------------
# plot_uncertainty_panels


def test_panels_content(data, tmp_path):
    y_true, y_mean, y_std = data
    fig = plot_uncertainty_panels(y_true, y_mean, y_std, std_label="my std")
    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        assert len(fig.axes) == 4  # three panels + colour bar
        ax_res, ax_pred, ax_hist, ax_cbar = fig.axes
        for ax in (ax_res, ax_pred, ax_hist):
            assert ax.get_xlabel()
            assert ax.get_ylabel()
            assert ax.get_title()
        assert ax_cbar.get_ylabel() == "my std"
        assert ax_hist.get_xlabel() == "my std"

        # Residuals panel: scattered residuals and a horizontal zero line.
        offsets = ax_res.collections[0].get_offsets()
        np.testing.assert_allclose(offsets[:, 0], y_true)
        np.testing.assert_allclose(offsets[:, 1], y_mean - y_true)
        assert any(np.all(np.asarray(line.get_ydata()) == 0) for line in ax_res.lines)

        # Centre panel: predicted vs true, coloured by the std, with diagonal.
        sc = ax_pred.collections[0]
        np.testing.assert_allclose(sc.get_offsets()[:, 1], y_mean)
        np.testing.assert_allclose(sc.get_array(), y_std)
        np.testing.assert_allclose(ax_cbar.get_ylim(), (y_std.min(), y_std.max()))
        assert sc.get_cmap().name == "viridis"
        diag = ax_pred.lines[0]
        np.testing.assert_allclose(diag.get_xdata(), diag.get_ydata())

        # Right panel: histogram counting every sample.
        heights = [p.get_height() for p in ax_hist.patches]
        assert sum(heights) == len(y_std)

        np.testing.assert_allclose(fig.get_size_inches(), (15, 4.5))
        path = tmp_path / "panels.png"
        fig.savefig(path)
        assert path.stat().st_size > 0
    finally:
        plt.close(fig)


def test_panels_estimator_path(data):
    y_true, y_mean, y_std = data
    X = np.arange(len(y_true) * 2, dtype=float).reshape(-1, 2)
    est = FakeRegressor(y_mean, y_std)
    fig = plot_uncertainty_panels(y_true, estimator=est, X=X)
    try:
        assert len(est.seen_X) == 1
        np.testing.assert_array_equal(est.seen_X[0], X)
        np.testing.assert_allclose(fig.axes[1].collections[0].get_array(), y_std)
    finally:
        plt.close(fig)


def test_panels_existing_figure(data):
    y_true, y_mean, y_std = data
    fig = plt.figure(figsize=(12, 4))
    out = plot_uncertainty_panels(y_true, y_mean, y_std, fig=fig)
    assert out is fig
    assert len(fig.axes) == 4
    plt.close(fig)


def test_accepts_column_vectors(data):
    y_true, y_mean, y_std = data
    fig = plot_uncertainty_panels(
        y_true.reshape(-1, 1), y_mean.reshape(-1, 1), y_std.tolist()
    )
    assert len(fig.axes) == 4
    plt.close(fig)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y_mean": "mean", "y_std": "std", "estimator": "est"}, "not both"),
        ({"y_mean": "mean", "estimator": "est"}, "not both"),
        ({}, "got neither"),
        ({"y_mean": "mean"}, "got neither"),
        ({"y_std": "std"}, "got neither"),
        ({"estimator": "est"}, "X is required"),
        ({"y_mean": "mean", "y_std": "std", "X": "X"}, "only used together"),
    ],
)
@pytest.mark.parametrize("func", [plot_uncertainty_panels, plot_reliability_diagram])
def test_argument_combinations(data, func, kwargs, match):
    y_true, y_mean, y_std = data
    values = {
        "mean": y_mean,
        "std": y_std,
        "est": FakeRegressor(y_mean, y_std),
        "X": np.zeros((len(y_true), 2)),
    }
    kwargs = {k: values[v] for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=match):
        func(y_true, **kwargs)


@pytest.mark.parametrize("func", [plot_uncertainty_panels, plot_reliability_diagram])
def test_array_validation(data, func):
    y_true, y_mean, y_std = data
    with pytest.raises(ValueError, match="samples: y_true 40, y_mean 39, y_std 40"):
        func(y_true, y_mean[:-1], y_std)
    with pytest.raises(ValueError, match="samples: y_true 40, y_mean 40, y_std 39"):
        func(y_true, y_mean, y_std[:-1])
    bad = y_mean.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="y_mean contains NaN"):
        func(y_true, bad, y_std)
    bad = y_true.copy()
    bad[0] = np.inf
    with pytest.raises(ValueError, match="y_true contains infinity"):
        func(bad, y_mean, y_std)
    with pytest.raises(ValueError, match="y_std must be positive"):
        func(y_true, y_mean, -y_std)
    with pytest.raises(ValueError, match="y_mean must be 1d"):
        func(y_true, np.c_[y_mean, y_mean], y_std)
    with pytest.raises(ValueError, match="y_true must not be empty"):
        func([], [], [])


def test_estimator_must_return_tuple(data):
    y_true, y_mean, _ = data

    class MeanOnly:
        def predict(self, X, return_std=False):
            return y_mean

    with pytest.raises(ValueError, match=r"must return a \(y_mean, y_std\) tuple"):
        plot_uncertainty_panels(y_true, estimator=MeanOnly(), X=np.zeros((40, 1)))


# --------------------------------------------------------------------------
# plot_reliability_diagram


def test_coverage_curve_by_hand():
    y_true = np.array([0.0, 1.0, 2.0, 3.0])
    y_mean = np.zeros(4)
    y_std = np.ones(4)
    # z(0.5) = 0.674 -> only |0| <= z; z(0.9) = 1.645 -> |0|, |1| inside;
    # z(0.99) = 2.576 -> |0|, |1|, |2| inside.
    cov = _observed_coverage(y_true, y_mean, y_std, np.array([0.5, 0.9, 0.99]))
    np.testing.assert_allclose(cov, [0.25, 0.5, 0.75])


def test_reliability_curve_matches_hand_coverage(tmp_path):
    y_true = np.array([0.0, 1.0, 2.0, 3.0])
    y_mean = np.zeros(4)
    y_std = np.ones(4)
    fig = plot_reliability_diagram(
        y_true, y_mean, y_std, confidences=[0.5, 0.9, 0.99], label="toy"
    )
    try:
        (ax,) = fig.axes
        (curve,) = [line for line in ax.lines if line.get_label() == "toy"]
        np.testing.assert_allclose(curve.get_xdata(), [0.5, 0.9, 0.99])
        np.testing.assert_allclose(curve.get_ydata(), [0.25, 0.5, 0.75])
        assert ax.get_xlim() == (0.0, 1.0)
        assert ax.get_ylim() == (0.0, 1.0)
        assert ax.get_xlabel()
        assert ax.get_ylabel()
        assert ax.get_title()
        path = tmp_path / "reliability.png"
        fig.savefig(path)
        assert path.stat().st_size > 0
    finally:
        plt.close(fig)


def test_reliability_default_grid(data):
    y_true, y_mean, y_std = data
    fig = plot_reliability_diagram(y_true, y_mean, y_std)
    try:
        ax = fig.axes[0]
        curve = ax.lines[-1]
        assert curve.get_label() == "model"
        grid = np.linspace(0.05, 0.95, 19)
        np.testing.assert_allclose(curve.get_xdata(), grid)
        expected = [
            np.mean(np.abs(y_true - y_mean) <= norm.ppf((1 + c) / 2) * y_std)
            for c in grid
        ]
        np.testing.assert_allclose(curve.get_ydata(), expected)
        diag = ax.lines[0]
        assert diag.get_label() == "perfect calibration"
        np.testing.assert_allclose(diag.get_xdata(), [0, 1])
        np.testing.assert_allclose(diag.get_ydata(), [0, 1])
    finally:
        plt.close(fig)


def test_reliability_same_axes_several_labels(data):
    y_true, y_mean, y_std = data
    fig = plot_reliability_diagram(y_true, y_mean, y_std, label="passes only")
    ax = fig.axes[0]
    est = FakeRegressor(y_mean, 2 * y_std)
    fig2 = plot_reliability_diagram(
        y_true, estimator=est, X=np.zeros((40, 3)), ax=ax, label="with 1/tau"
    )
    try:
        assert fig2 is fig
        assert len(fig.axes) == 1
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["perfect calibration", "passes only", "with 1/tau"]
        # Wider intervals never cover less.
        narrow, wide = ax.lines[1].get_ydata(), ax.lines[2].get_ydata()
        assert np.all(wide >= narrow)
        assert np.any(wide > narrow)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("confidences", [[0.0, 0.5], [0.5, 1.0], [-0.1], [1.5]])
def test_reliability_invalid_confidences(data, confidences):
    y_true, y_mean, y_std = data
    with pytest.raises(ValueError, match=r"confidences must be in \(0, 1\)"):
        plot_reliability_diagram(y_true, y_mean, y_std, confidences=confidences)


def test_reliability_scalar_confidence_is_refused(data):
    y_true, y_mean, y_std = data
    with pytest.raises(ValueError, match=r"confidences must be 1d"):
        plot_reliability_diagram(y_true, y_mean, y_std, confidences=0.5)


# --------------------------------------------------------------------------
# plot_1d_regression


def test_1d_bands_and_content(data_1d, tmp_path):
    X_train, y_train, X_plot, y_mean, y_std = data_1d
    fig = plot_1d_regression(
        X_train,
        y_train,
        X_plot,
        y_mean,
        y_std,
        n_std=(1, 2, 3),
        y_true_plot=np.sin(X_plot),
    )
    try:
        (ax,) = fig.axes
        bands = _band_collections(ax)
        assert sorted(b.get_label() for b in bands) == [
            "mean ± 1 std",
            "mean ± 2 std",
            "mean ± 3 std",
        ]
        alpha = {b.get_label(): b.get_alpha() for b in bands}
        assert alpha["mean ± 1 std"] > alpha["mean ± 2 std"] > alpha["mean ± 3 std"]
        # The ±2 band spans exactly mean ± 2 std.
        band2 = next(b for b in bands if b.get_label() == "mean ± 2 std")
        verts = band2.get_paths()[0].vertices
        assert np.isclose(verts[:, 1].max(), np.max(y_mean + 2 * y_std))
        assert np.isclose(verts[:, 1].min(), np.min(y_mean - 2 * y_std))

        labels = {line.get_label(): line for line in ax.lines}
        np.testing.assert_allclose(labels["predictive mean"].get_ydata(), y_mean)
        np.testing.assert_allclose(labels["true function"].get_ydata(), y_mean)
        train = next(c for c in ax.collections if c.get_label() == "training data")
        np.testing.assert_allclose(train.get_offsets()[:, 0], X_train[:, 0])
        assert ax.get_xlabel()
        assert ax.get_ylabel()
        assert ax.get_title()
        assert ax.get_legend() is not None
        path = tmp_path / "oned.png"
        fig.savefig(path)
        assert path.stat().st_size > 0
    finally:
        plt.close(fig)


def test_1d_unsorted_x_plot_is_sorted(data_1d):
    X_train, y_train, X_plot, y_mean, y_std = data_1d
    perm = np.random.default_rng(0).permutation(len(X_plot))
    fig = plot_1d_regression(X_train, y_train, X_plot[perm], y_mean[perm], y_std[perm])
    line = next(ln for ln in fig.axes[0].lines if ln.get_label() == "predictive mean")
    np.testing.assert_allclose(line.get_xdata(), X_plot)
    np.testing.assert_allclose(line.get_ydata(), y_mean)
    plt.close(fig)


def test_1d_estimator_path_reshapes_1d_x(data_1d):
    X_train, y_train, X_plot, y_mean, y_std = data_1d
    est = FakeRegressor(y_mean, y_std)
    fig = plot_1d_regression(X_train[:, 0], y_train, X_plot, estimator=est, n_std=2)
    try:
        assert len(est.seen_X) == 1
        assert est.seen_X[0].shape == (len(X_plot), 1)
        np.testing.assert_allclose(est.seen_X[0][:, 0], X_plot)
        bands = _band_collections(fig.axes[0])
        assert [b.get_label() for b in bands] == ["mean ± 2 std"]
    finally:
        plt.close(fig)


def test_1d_on_existing_axes(data_1d):
    X_train, y_train, X_plot, y_mean, y_std = data_1d
    fig, (ax1, ax2) = plt.subplots(1, 2)
    out = plot_1d_regression(X_train, y_train, X_plot, y_mean, y_std, ax=ax2)
    assert out is fig
    assert len(_band_collections(ax2)) == 2
    assert len(ax1.collections) == 0
    plt.close(fig)


def test_1d_errors(data_1d):
    X_train, y_train, X_plot, y_mean, y_std = data_1d
    with pytest.raises(ValueError, match=r"X_train must be 1d.*got shape \(20, 2\)"):
        plot_1d_regression(np.c_[X_train, X_train], y_train, X_plot, y_mean, y_std)
    with pytest.raises(ValueError, match=r"X_plot must be 1d.*got shape \(50, 3\)"):
        plot_1d_regression(
            X_train, y_train, np.c_[X_plot, X_plot, X_plot], y_mean, y_std
        )
    with pytest.raises(ValueError, match="samples: X_train 20, y_train 19"):
        plot_1d_regression(X_train, y_train[:-1], X_plot, y_mean, y_std)
    with pytest.raises(ValueError, match="samples: X_plot 50, y_mean 49, y_std 50"):
        plot_1d_regression(X_train, y_train, X_plot, y_mean[:-1], y_std)
    with pytest.raises(ValueError, match="samples: X_plot 50, y_true_plot 3"):
        plot_1d_regression(
            X_train, y_train, X_plot, y_mean, y_std, y_true_plot=y_mean[:3]
        )
    with pytest.raises(ValueError, match="y_std must be positive"):
        plot_1d_regression(X_train, y_train, X_plot, y_mean, -y_std)
    with pytest.raises(ValueError, match="n_std values must be positive"):
        plot_1d_regression(X_train, y_train, X_plot, y_mean, y_std, n_std=(1, -2))
    with pytest.raises(ValueError, match="not both"):
        plot_1d_regression(
            X_train,
            y_train,
            X_plot,
            y_mean,
            y_std,
            estimator=FakeRegressor(y_mean, y_std),
        )
    with pytest.raises(ValueError, match="got neither"):
        plot_1d_regression(X_train, y_train, X_plot, y_mean)


# --------------------------------------------------------------------------
# optional matplotlib


def test_missing_matplotlib_message(monkeypatch, data):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    y_true, y_mean, y_std = data
    with pytest.raises(ImportError, match=r"pip install sklearn-mcdropout\[examples\]"):
        plot_reliability_diagram(y_true, y_mean, y_std)


def test_module_imports_without_matplotlib(monkeypatch):
    """The module itself must not import matplotlib at import time."""
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    spec = importlib.util.spec_from_file_location(
        "sklearn_mcdropout._plotting_without_mpl", Path(plotting.__file__)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.__all__) == {
        "plot_1d_regression",
        "plot_confidence_diagram",
        "plot_reliability_diagram",
        "plot_uncertainty_panels",
    }
    with pytest.raises(ImportError, match="plotting needs matplotlib"):
        module._import_pyplot()


def test_confidence_diagram_points_are_bin_accuracy_and_confidence():
    y_true = np.array([0, 1, 1, 1])
    y_proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    fig = plot_confidence_diagram(y_true, y_proba, n_bins=5, label="toy")
    ax = fig.axes[0]
    curve = next(line for line in ax.lines if line.get_gid() is None)
    # Bins (0.4, 0.6]: the 0.6 row (right); (0.6, 0.8]: 0.8 (right);
    # (0.8, 1]: both 0.9 rows (one right).
    np.testing.assert_allclose(curve.get_xdata(), [0.6, 0.8, 0.9])
    np.testing.assert_allclose(curve.get_ydata(), [1.0, 1.0, 0.5])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["perfect calibration", "toy (ECE 0.350)"]
    plt.close(fig)


def test_confidence_diagram_from_estimator_and_errors():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = LogisticRegression(max_iter=1000).fit(X, labels)
    fig = plot_confidence_diagram(labels, estimator=clf, X=X)
    fig = plot_confidence_diagram(
        labels, clf.predict_proba(X), ax=fig.axes[0], label="again"
    )
    gids = [line.get_gid() for line in fig.axes[0].lines]
    assert gids.count("perfect-calibration") == 1
    plt.close(fig)
    with pytest.raises(ValueError, match="not both"):
        plot_confidence_diagram(labels, clf.predict_proba(X), estimator=clf, X=X)
    with pytest.raises(ValueError, match="got neither"):
        plot_confidence_diagram(labels)
    with pytest.raises(ValueError, match="X is required"):
        plot_confidence_diagram(labels, estimator=clf)
