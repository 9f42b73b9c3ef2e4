"""Tests for the displays of sklearn_mcdropout.plotting."""

import importlib
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import norm

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import sklearn_mcdropout  # noqa: E402
from sklearn_mcdropout import plotting  # noqa: E402
from sklearn_mcdropout.metrics import (  # noqa: E402
    coverage_by_group,
    coverage_curve,
    expected_calibration_error,
)
from sklearn_mcdropout.plotting import (  # noqa: E402
    ConfidenceCalibrationDisplay,
    CoverageByGroupDisplay,
    CoverageCurveDisplay,
    UncertaintyBandsDisplay,
    UncertaintyPanelsDisplay,
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


@pytest.fixture(scope="module")
def iris_classifier():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    return LogisticRegression(max_iter=1000).fit(X, labels), X, labels


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _diagonals(ax):
    return [line for line in ax.lines if line.get_gid() == "perfect-calibration"]


def _legend_texts(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


# --------------------------------------------------------------------------
# CoverageCurveDisplay


def test_coverage_display_plots_coverage_curve(data):
    y_true, y_mean, y_std = data
    display = CoverageCurveDisplay.from_predictions(y_true, y_mean, y_std, name="m")
    expected, observed = coverage_curve(y_true, y_mean, y_std)
    assert_allclose(display.confidences, expected)
    assert_allclose(display.observed_coverage, observed)
    assert_allclose(display.line_.get_xdata(), expected)
    assert_allclose(display.line_.get_ydata(), observed)
    # The same values by hand, from the central Gaussian intervals.
    by_hand = [
        np.mean(np.abs(y_true - y_mean) <= norm.ppf((1 + c) / 2) * y_std)
        for c in np.linspace(0.05, 0.95, 19)
    ]
    assert_allclose(observed, by_hand)
    ax = display.ax_
    assert display.figure_ is ax.figure
    assert ax.get_xlabel() == "expected confidence level"
    assert ax.get_ylabel() == "observed coverage"
    assert ax.get_xlim() == (0.0, 1.0)
    assert ax.get_ylim() == (0.0, 1.0)
    (diagonal,) = _diagonals(ax)
    assert_allclose(diagonal.get_xydata(), [[0, 0], [1, 1]])
    assert _legend_texts(ax) == ["perfect calibration", "m"]


def test_coverage_display_by_hand():
    # z(0.5) = 0.674 -> only |0| inside; z(0.9) = 1.645 -> |0|, |1|;
    # z(0.99) = 2.576 -> |0|, |1|, |2|.
    display = CoverageCurveDisplay.from_predictions(
        [0.0, 1.0, 2.0, 3.0], np.zeros(4), np.ones(4), confidences=[0.5, 0.9, 0.99]
    )
    assert_allclose(display.line_.get_xdata(), [0.5, 0.9, 0.99])
    assert_allclose(display.line_.get_ydata(), [0.25, 0.5, 0.75])
    assert display.line_.get_label().startswith("_")  # no name, no legend entry
    assert _legend_texts(display.ax_) == ["perfect calibration"]


def test_coverage_from_estimator_predicts_with_std(data):
    y_true, y_mean, y_std = data
    X = np.arange(len(y_true) * 2, dtype=float).reshape(-1, 2)
    est = FakeRegressor(y_mean, y_std)
    display = CoverageCurveDisplay.from_estimator(est, X, y_true)
    assert len(est.seen_X) == 1
    assert_array_equal(est.seen_X[0], X)
    assert display.line_.get_label() == "FakeRegressor"
    assert_allclose(display.observed_coverage, coverage_curve(y_true, y_mean, y_std)[1])
    named = CoverageCurveDisplay.from_estimator(est, X, y_true, name="mine")
    assert named.line_.get_label() == "mine"


def test_coverage_displays_combine_on_one_axes(data):
    y_true, y_mean, y_std = data
    narrow = CoverageCurveDisplay.from_predictions(
        y_true, y_mean, y_std, name="passes only"
    )
    wide = CoverageCurveDisplay.from_estimator(
        FakeRegressor(y_mean, 2 * y_std),
        np.zeros((40, 3)),
        y_true,
        ax=narrow.ax_,
        name="with 1/tau",
    )
    ax = narrow.ax_
    assert wide.ax_ is ax
    assert wide.figure_ is narrow.figure_
    assert len(ax.figure.axes) == 1
    assert len(_diagonals(ax)) == 1
    assert _legend_texts(ax) == ["perfect calibration", "passes only", "with 1/tau"]
    # Wider intervals never cover less.
    assert np.all(wide.observed_coverage >= narrow.observed_coverage)
    assert np.any(wide.observed_coverage > narrow.observed_coverage)


def test_coverage_plot_on_given_axes_and_restyle(data):
    y_true, y_mean, y_std = data
    display = CoverageCurveDisplay(*coverage_curve(y_true, y_mean, y_std), name="m")
    fig, (ax1, ax2) = plt.subplots(1, 2)
    display.plot(ax=ax2, color="tab:red", linestyle=":", name="restyled")
    assert display.ax_ is ax2
    assert display.figure_ is fig
    assert not ax1.lines
    assert display.line_.get_color() == "tab:red"
    assert display.line_.get_linestyle() == ":"
    assert display.line_.get_label() == "restyled"
    # Plotting again draws on new axes; ref_line=False leaves the diagonal out.
    first_ax = display.ax_
    display.plot(ref_line=False)
    assert display.ax_ is not first_ax
    assert not _diagonals(display.ax_)
    assert display.line_.get_label() == "m"


@pytest.mark.parametrize("confidences", [[0.0, 0.5], [0.5, 1.0], [-0.1], [1.5]])
def test_coverage_invalid_confidences(data, confidences):
    with pytest.raises(ValueError, match=r"confidences must be in \(0, 1\)"):
        CoverageCurveDisplay.from_predictions(*data, confidences=confidences)


def test_coverage_scalar_confidences_refused(data):
    with pytest.raises(ValueError, match="confidences must be 1d"):
        CoverageCurveDisplay.from_predictions(*data, confidences=0.5)


# --------------------------------------------------------------------------
# CoverageByGroupDisplay


def _error_bars(display):
    """(lower, upper) ends of the coverage error bars."""
    (bars,) = display.coverage_errorbar_.lines[2]
    segments = np.array(bars.get_segments())
    return segments[:, 0, 1], segments[:, 1, 1]


def _nominal_lines(ax):
    return [line for line in ax.lines if str(line.get_gid()).startswith("nominal")]


def test_group_display_plots_coverage_by_group():
    rng = np.random.default_rng(0)
    y_std = rng.uniform(0.5, 2.0, size=300)
    y_true = rng.normal(scale=y_std)
    y_mean = np.zeros(300)
    display = CoverageByGroupDisplay.from_predictions(
        y_true, y_mean, y_std, n_bins=4, confidence=0.9, name="m"
    )
    result = coverage_by_group(y_true, y_mean, y_std, n_bins=4, confidence=0.9)
    for attr in ("labels", "coverage", "mean_width", "counts", "bin_edges"):
        assert_array_equal(getattr(display, attr), result[attr])
    assert display.confidence == 0.9
    assert display.by == "y_std"
    assert_array_equal(display.coverage_line_.get_xdata(), np.arange(4))
    assert_array_equal(display.coverage_line_.get_ydata(), result.coverage)
    assert_array_equal(display.width_line_.get_xdata(), np.arange(4))
    assert_array_equal(display.width_line_.get_ydata(), result.mean_width)
    assert display.width_line_.get_color() == display.coverage_line_.get_color()
    # Two binomial standard errors at the nominal level: 2 sqrt(0.09 / 75).
    lower, upper = _error_bars(display)
    half = 2 * np.sqrt(0.9 * 0.1 / 75)
    assert_allclose(lower, result.coverage - half)
    assert_allclose(upper, np.minimum(result.coverage + half, 1.0))
    cover_ax, width_ax = display.axes_
    assert display.figure_ is cover_ax.figure is width_ax.figure
    (nominal,) = _nominal_lines(cover_ax)
    assert display.nominal_line_ is nominal
    assert_allclose(nominal.get_ydata(), [0.9, 0.9])
    edges = result.bin_edges
    assert [text.get_text() for text in width_ax.get_xticklabels()] == [
        f"[{edges[0]:.3g}, {edges[1]:.3g})",
        f"[{edges[1]:.3g}, {edges[2]:.3g})",
        f"[{edges[2]:.3g}, {edges[3]:.3g})",
        f"[{edges[3]:.3g}, {edges[4]:.3g}]",
    ]
    assert width_ax.get_xlabel() == "bin of the predicted std (equal counts)"
    assert cover_ax.get_ylabel() == "observed coverage"
    assert width_ax.get_ylabel() == "mean interval width"
    assert width_ax.get_ylim()[0] == 0
    assert _legend_texts(cover_ax) == ["nominal coverage 0.9", "m"]
    assert display.coverage_errorbar_.get_label() == "m"


def test_group_display_string_groups_and_clipped_error_bars():
    y_true = np.array([0.0, 0.1, 5.0, 0.2, 0.0, -0.1])
    groups = ["south", "north", "south", "north", "south", "north"]
    display = CoverageByGroupDisplay.from_predictions(
        y_true, np.zeros(6), np.ones(6), by=groups
    )
    assert display.labels.tolist() == ["north", "south"]
    assert display.by == "groups"
    assert display.bin_edges is None
    assert_allclose(display.coverage_line_.get_ydata(), [1.0, 2 / 3])
    assert_allclose(display.width_line_.get_ydata(), 2 * norm.ppf(0.975) * np.ones(2))
    assert display.coverage_line_.get_linestyle() == "None"
    assert [t.get_text() for t in display.axes_[1].get_xticklabels()] == [
        "north",
        "south",
    ]
    assert display.axes_[1].get_xlabel() == "group"
    # The bars stay in [0, 1]: 2 sqrt(0.95 * 0.05 / 3) = 0.25 > 1 - 1.
    lower, upper = _error_bars(display)
    half = 2 * np.sqrt(0.95 * 0.05 / 3)
    assert_allclose(lower, [1 - half, 2 / 3 - half])
    assert_allclose(upper, [1.0, 2 / 3 + half])
    label = display.coverage_errorbar_.get_label()  # no name: no legend entry
    assert label is None or label.startswith("_")  # None before matplotlib 3.8
    assert _legend_texts(display.axes_[0]) == ["nominal coverage 0.95"]


def test_group_display_from_estimator(data):
    y_true, y_mean, y_std = data
    X = np.arange(len(y_true) * 2, dtype=float).reshape(-1, 2)
    est = FakeRegressor(y_mean, y_std)
    display = CoverageByGroupDisplay.from_estimator(est, X, y_true, by="y_true")
    assert len(est.seen_X) == 1
    assert_array_equal(est.seen_X[0], X)
    assert display.coverage_errorbar_.get_label() == "FakeRegressor"
    assert display.width_line_.get_label() == "FakeRegressor"
    result = coverage_by_group(y_true, y_mean, y_std, by="y_true")
    assert_array_equal(display.coverage_line_.get_ydata(), result.coverage)
    assert_array_equal(display.bin_edges, result.bin_edges)
    assert display.axes_[1].get_xlabel() == "bin of the target (equal counts)"
    named = CoverageByGroupDisplay.from_estimator(
        est, X, y_true, by=X[:, 0] > 40, name="mine"
    )
    assert named.labels.tolist() == [False, True]
    assert named.coverage_errorbar_.get_label() == "mine"


def test_group_displays_combine_on_one_axes(data):
    y_true, y_mean, y_std = data
    first = CoverageByGroupDisplay.from_predictions(
        y_true, y_mean, y_std, by="y_true", name="a"
    )
    ticks = [t.get_text() for t in first.axes_[1].get_xticklabels()]
    second = CoverageByGroupDisplay.from_predictions(
        y_true, y_mean, 2 * y_std, by="y_true", name="b", ax=first.axes_
    )
    third = CoverageByGroupDisplay.from_estimator(
        FakeRegressor(y_mean, 3 * y_std),
        np.zeros((40, 1)),
        y_true,
        by="y_true",
        name="c",
        ax=list(first.axes_),
    )
    cover_ax, width_ax = first.axes_
    assert second.figure_ is third.figure_ is first.figure_
    assert len(first.figure_.axes) == 2
    assert len(_nominal_lines(cover_ax)) == 1
    assert second.nominal_line_ is first.nominal_line_
    assert _legend_texts(cover_ax) == ["nominal coverage 0.95", "a", "b", "c"]
    # Side by side: offsets 0, +0.12, -0.12 around the groups' positions.
    for display, offset in [(first, 0.0), (second, 0.12), (third, -0.12)]:
        assert_allclose(display.coverage_line_.get_xdata(), np.arange(5) + offset)
        assert_allclose(display.width_line_.get_xdata(), np.arange(5) + offset)
    # Same bins of y_true: their ranges stay the tick labels.
    assert [t.get_text() for t in width_ax.get_xticklabels()] == ticks
    # Wider intervals cover more.
    assert np.all(second.coverage >= first.coverage)
    assert_allclose(second.mean_width, 2 * first.mean_width)


def test_group_displays_with_different_bins_are_numbered(data):
    y_true, y_mean, y_std = data
    first = CoverageByGroupDisplay.from_predictions(y_true, y_mean, y_std, n_bins=4)
    CoverageByGroupDisplay.from_predictions(
        y_true, y_mean, 2 * y_std + 1, n_bins=4, ax=first.axes_
    )
    assert [t.get_text() for t in first.axes_[1].get_xticklabels()] == [
        "1",
        "2",
        "3",
        "4",
    ]


def test_group_display_plot_options(data):
    y_true, y_mean, y_std = data
    result = coverage_by_group(y_true, y_mean, y_std, by="y_true", n_bins=3)
    display = CoverageByGroupDisplay(
        result.labels,
        result.coverage,
        result.mean_width,
        result.counts,
        confidence=result.confidence,
        bin_edges=result.bin_edges,
        by=result.by,
        name="m",
    )
    fig, axes = plt.subplots(2, 2)
    display.plot(
        ax=axes[:, 1],
        ref_line=False,
        error_bars=False,
        color="tab:red",
        capsize=5,
        marker="s",
        name="restyled",
    )
    assert display.axes_[0] is axes[0, 1]
    assert display.axes_[1] is axes[1, 1]
    assert not axes[0, 0].lines
    assert not axes[1, 0].lines
    assert display.nominal_line_ is None
    assert not _nominal_lines(axes[0, 1])
    assert not display.coverage_errorbar_.has_yerr
    assert display.coverage_line_.get_color() == "tab:red"
    assert display.width_line_.get_color() == "tab:red"
    assert display.width_line_.get_marker() == "s"
    assert display.coverage_errorbar_.get_label() == "restyled"
    # Plotting again draws on a new figure, with the display's name.
    display.plot()
    assert display.figure_ is not fig
    assert display.coverage_errorbar_.get_label() == "m"


def test_group_display_errors(data):
    y_true, y_mean, y_std = data
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="ax must be two matplotlib Axes, got 1"):
        CoverageByGroupDisplay.from_predictions(y_true, y_mean, y_std, ax=ax)
    with pytest.raises(ValueError, match="by must be 'y_std', 'y_true' or an array"):
        CoverageByGroupDisplay.from_predictions(y_true, y_mean, y_std, by="x")
    with pytest.raises(ValueError, match="y_true 40, by 3"):
        CoverageByGroupDisplay.from_predictions(y_true, y_mean, y_std, by=[1, 2, 3])
    with pytest.raises(ValueError, match="n_bins must be a positive integer"):
        CoverageByGroupDisplay.from_predictions(y_true, y_mean, y_std, n_bins=0)


# --------------------------------------------------------------------------
# validation shared by the regression displays


@pytest.mark.parametrize(
    "from_predictions",
    [
        CoverageCurveDisplay.from_predictions,
        CoverageByGroupDisplay.from_predictions,
        UncertaintyPanelsDisplay.from_predictions,
    ],
)
def test_regression_array_validation(data, from_predictions):
    y_true, y_mean, y_std = data
    with pytest.raises(ValueError, match="samples: y_true 40, y_mean 39, y_std 40"):
        from_predictions(y_true, y_mean[:-1], y_std)
    bad = y_mean.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="y_mean contains NaN"):
        from_predictions(y_true, bad, y_std)
    bad = y_true.copy()
    bad[0] = np.inf
    with pytest.raises(ValueError, match="y_true contains infinity"):
        from_predictions(bad, y_mean, y_std)
    with pytest.raises(ValueError, match="y_std must be positive"):
        from_predictions(y_true, y_mean, -y_std)
    with pytest.raises(ValueError, match=r"y_mean must be 1d.*got shape \(40, 2\)"):
        from_predictions(y_true, np.c_[y_mean, y_mean], y_std)
    with pytest.raises(ValueError, match="y_true must not be empty"):
        from_predictions([], [], [])


@pytest.mark.parametrize(
    "display_class",
    [
        CoverageCurveDisplay,
        CoverageByGroupDisplay,
        UncertaintyPanelsDisplay,
        UncertaintyBandsDisplay,
    ],
)
def test_from_estimator_needs_mean_and_std(display_class):
    class MeanOnly:
        def predict(self, X, return_std=False):
            return np.zeros(len(X))

    with pytest.raises(ValueError, match=r"must return a \(y_mean, y_std\) tuple"):
        display_class.from_estimator(MeanOnly(), np.zeros((5, 1)), np.zeros(5))


# --------------------------------------------------------------------------
# ConfidenceCalibrationDisplay


def test_confidence_display_points_are_bin_accuracy_and_confidence():
    y_proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    display = ConfidenceCalibrationDisplay.from_predictions(
        [0, 1, 1, 1], y_proba, n_bins=5, name="toy"
    )
    # Bins (0.4, 0.6]: the 0.6 row (right); (0.6, 0.8]: 0.8 (right);
    # (0.8, 1]: both 0.9 rows (one right).
    assert_allclose(display.confidence, [0.6, 0.8, 0.9])
    assert_allclose(display.accuracy, [1.0, 1.0, 0.5])
    assert_allclose(display.counts, [1, 1, 2])
    assert display.ece == pytest.approx(0.35)
    assert_allclose(display.line_.get_xydata(), [[0.6, 1.0], [0.8, 1.0], [0.9, 0.5]])
    assert_allclose(display.scatter_.get_offsets(), display.line_.get_xydata())
    assert_allclose(display.scatter_.get_sizes(), 20 + 400 * np.array([1, 1, 2]) / 4)
    ax = display.ax_
    assert ax.get_xlabel() == "confidence (largest class probability)"
    assert ax.get_ylabel() == "accuracy"
    assert _legend_texts(ax) == ["perfect calibration", "toy (ECE 0.350)"]


def test_confidence_display_from_estimator_and_combined(iris_classifier):
    clf, X, labels = iris_classifier
    display = ConfidenceCalibrationDisplay.from_estimator(clf, X, labels, n_bins=5)
    ece = expected_calibration_error(
        labels, clf.predict_proba(X), n_bins=5, labels=clf.classes_
    )
    assert display.ece == pytest.approx(ece)
    assert display.counts.sum() == len(labels)
    assert display.line_.get_label() == f"LogisticRegression (ECE {ece:.3f})"
    uniform = np.full((len(labels), 3), 1 / 3)
    other = ConfidenceCalibrationDisplay.from_predictions(
        labels, uniform, n_bins=5, ax=display.ax_, name="uniform"
    )
    assert other.ax_ is display.ax_
    assert len(_diagonals(display.ax_)) == 1
    assert_allclose(other.line_.get_xydata(), [[1 / 3, 1 / 3]])
    assert len(display.ax_.get_legend().get_texts()) == 3


def test_confidence_display_errors(iris_classifier):
    clf, X, labels = iris_classifier
    with pytest.raises(ValueError, match="n_bins must be a positive integer"):
        ConfidenceCalibrationDisplay.from_estimator(clf, X, labels, n_bins=0)
    with pytest.raises(ValueError, match="y_proba has 3 columns but there are 2"):
        ConfidenceCalibrationDisplay.from_predictions(
            labels, clf.predict_proba(X), labels=["a", "b"]
        )
    with pytest.raises(ValueError, match="samples: y_true 149, y_proba 150"):
        ConfidenceCalibrationDisplay.from_predictions(
            labels[:-1], clf.predict_proba(X), labels=clf.classes_
        )


# --------------------------------------------------------------------------
# UncertaintyPanelsDisplay


def test_panels_content(data, tmp_path):
    y_true, y_mean, y_std = data
    display = UncertaintyPanelsDisplay.from_predictions(
        y_true, y_mean, y_std, std_label="my std"
    )
    fig = display.figure_
    assert len(fig.axes) == 4  # three panels + colour bar
    ax_res, ax_pred, ax_hist = display.axes_
    assert fig.axes[:3] == [ax_res, ax_pred, ax_hist]
    assert display.colorbar_.ax is fig.axes[3]
    assert [ax.get_title() for ax in display.axes_] == [
        "Residuals",
        "Predicted vs true (colour: std)",
        "Distribution of predictive uncertainty",
    ]
    assert ax_res.get_xlabel() == ax_pred.get_xlabel() == "true value"
    assert ax_pred.get_ylabel() == "predicted mean"
    assert ax_hist.get_xlabel() == display.colorbar_.ax.get_ylabel() == "my std"

    # Residuals panel: scattered residuals and a horizontal zero line.
    assert_allclose(
        display.residuals_scatter_.get_offsets(), np.c_[y_true, y_mean - y_true]
    )
    assert any(np.all(np.asarray(line.get_ydata()) == 0) for line in ax_res.lines)

    # Centre panel: predicted vs true, coloured by the std, with the diagonal.
    scatter = display.predictions_scatter_
    assert_allclose(scatter.get_offsets(), np.c_[y_true, y_mean])
    assert_allclose(scatter.get_array(), y_std)
    assert_allclose(display.colorbar_.ax.get_ylim(), (y_std.min(), y_std.max()))
    assert scatter.get_cmap().name == "viridis"
    diagonal = ax_pred.lines[0]
    assert_allclose(diagonal.get_xdata(), diagonal.get_ydata())

    # Right panel: a histogram counting every sample, and the mean std.
    assert sum(bar.get_height() for bar in display.hist_) == len(y_std)
    (mean_line,) = ax_hist.lines
    assert_allclose(mean_line.get_xdata(), y_std.mean())

    assert_allclose(fig.get_size_inches(), (15, 4.5))
    fig.savefig(tmp_path / "panels.png")
    assert (tmp_path / "panels.png").stat().st_size > 0


def test_panels_from_estimator(data):
    y_true, y_mean, y_std = data
    X = np.arange(len(y_true) * 2, dtype=float).reshape(-1, 2)
    est = FakeRegressor(y_mean, y_std)
    display = UncertaintyPanelsDisplay.from_estimator(est, X, y_true)
    assert len(est.seen_X) == 1
    assert_array_equal(est.seen_X[0], X)
    assert_allclose(display.y_std, y_std)
    assert_allclose(display.predictions_scatter_.get_array(), y_std)


def test_panels_on_given_axes(data):
    fig, axes = plt.subplots(2, 3)
    display = UncertaintyPanelsDisplay.from_predictions(*data, ax=axes[1])
    assert display.figure_ is fig
    assert list(display.axes_) == list(axes[1])
    assert all(not ax.collections for ax in axes[0])
    assert len(fig.axes) == 7  # six axes and the colour bar
    with pytest.raises(ValueError, match="ax must be three matplotlib Axes, got 1"):
        display.plot(ax=axes[0, 0])


def test_panels_accept_column_vectors(data):
    y_true, y_mean, y_std = data
    display = UncertaintyPanelsDisplay.from_predictions(
        y_true.reshape(-1, 1), y_mean.reshape(-1, 1), y_std.tolist()
    )
    assert display.y_true.shape == (40,)
    assert_allclose(display.predictions_scatter_.get_offsets()[:, 0], y_true)


# --------------------------------------------------------------------------
# UncertaintyBandsDisplay


def _band_top_bottom(band):
    vertices = band.get_paths()[0].vertices
    return vertices[:, 1].max(), vertices[:, 1].min()


def test_bands_content(data_1d, tmp_path):
    X_train, y_train, X_plot, y_mean, y_std = data_1d
    display = UncertaintyBandsDisplay.from_predictions(
        X_train,
        y_train,
        X_plot,
        y_mean,
        y_std,
        n_std=(2, 1, 3),
        y_true_plot=np.cos(X_plot),
    )
    labels = [band.get_label() for band in display.bands_]
    assert labels == ["mean ± 1 std", "mean ± 2 std", "mean ± 3 std"]
    alphas = [band.get_alpha() for band in display.bands_]
    assert alphas[0] > alphas[1] > alphas[2]
    for k, band in zip((1, 2, 3), display.bands_, strict=True):
        top, bottom = _band_top_bottom(band)
        assert top == pytest.approx(np.max(y_mean + k * y_std))
        assert bottom == pytest.approx(np.min(y_mean - k * y_std))
    assert_allclose(display.line_.get_xydata(), np.c_[X_plot, y_mean])
    assert_allclose(display.true_line_.get_ydata(), np.cos(X_plot))
    assert_allclose(display.scatter_.get_offsets(), np.c_[X_train[:, 0], y_train])
    ax = display.ax_
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    assert _legend_texts(ax) == [
        "mean ± 3 std",
        "mean ± 2 std",
        "mean ± 1 std",
        "predictive mean",
        "true function",
        "training data",
    ]
    display.figure_.savefig(tmp_path / "bands.png")
    assert (tmp_path / "bands.png").stat().st_size > 0


def test_bands_unsorted_x_plot_is_sorted(data_1d):
    X_train, y_train, X_plot, y_mean, y_std = data_1d
    perm = np.random.default_rng(0).permutation(len(X_plot))
    display = UncertaintyBandsDisplay.from_predictions(
        X_train, y_train, X_plot[perm], y_mean[perm], y_std[perm]
    )
    assert_allclose(display.x_plot, X_plot[perm])  # stored as given
    assert_allclose(display.line_.get_xydata(), np.c_[X_plot, y_mean])


def test_bands_from_estimator(data_1d):
    X_train, y_train, X_plot, y_mean, y_std = data_1d
    est = FakeRegressor(y_mean, y_std)
    display = UncertaintyBandsDisplay.from_estimator(
        est, X_train[:, 0], y_train, X_plot=X_plot, n_std=2
    )
    (seen,) = est.seen_X
    assert_allclose(seen, X_plot[:, np.newaxis])  # a 1d X_plot becomes a column
    assert [band.get_label() for band in display.bands_] == ["mean ± 2 std"]
    assert display.true_line_ is None
    # Without X_plot: 200 points spanning X.
    est = FakeRegressor(np.zeros(200), np.ones(200))
    display = UncertaintyBandsDisplay.from_estimator(est, X_train, y_train)
    assert_allclose(est.seen_X[0][:, 0], np.linspace(X_train.min(), X_train.max(), 200))
    assert_allclose(display.x_plot, est.seen_X[0][:, 0])


def test_bands_on_given_axes_and_without_data(data_1d):
    _, _, X_plot, y_mean, y_std = data_1d
    fig, (ax1, ax2) = plt.subplots(1, 2)
    display = UncertaintyBandsDisplay(X_plot, y_mean, y_std).plot(ax=ax2)
    assert display.ax_ is ax2
    assert display.figure_ is fig
    assert display.scatter_ is None
    assert len(ax2.collections) == 2  # the two bands
    assert not ax1.collections


def test_bands_errors(data_1d):
    X_train, y_train, X_plot, y_mean, y_std = data_1d
    from_predictions = UncertaintyBandsDisplay.from_predictions
    with pytest.raises(ValueError, match=r"X must be 1d.*got shape \(20, 2\)"):
        from_predictions(np.c_[X_train, X_train], y_train, X_plot, y_mean, y_std)
    with pytest.raises(ValueError, match=r"X_plot must be 1d.*got shape \(50, 3\)"):
        from_predictions(X_train, y_train, np.c_[X_plot, X_plot, X_plot], y_mean, y_std)
    with pytest.raises(ValueError, match="samples: X 20, y 19"):
        from_predictions(X_train, y_train[:-1], X_plot, y_mean, y_std)
    with pytest.raises(ValueError, match="samples: X_plot 50, y_mean 49, y_std 50"):
        from_predictions(X_train, y_train, X_plot, y_mean[:-1], y_std)
    with pytest.raises(ValueError, match=r"samples: .*y_true_plot 3"):
        from_predictions(X_train, y_train, X_plot, y_mean, y_std, y_true_plot=[0, 1, 2])
    with pytest.raises(ValueError, match="y_std must be positive"):
        from_predictions(X_train, y_train, X_plot, y_mean, -y_std)
    with pytest.raises(ValueError, match=r"n_std must be positive, got \[1.0, -2.0\]"):
        from_predictions(X_train, y_train, X_plot, y_mean, y_std, n_std=(1, -2))


# --------------------------------------------------------------------------
# optional matplotlib


def test_missing_matplotlib_message(monkeypatch, data):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    y_true, y_mean, y_std = data
    with pytest.raises(ImportError, match=r"pip install sklearn-mcdropout\[examples\]"):
        CoverageCurveDisplay.from_predictions(y_true, y_mean, y_std)
    # from_estimator fails before predicting.
    est = FakeRegressor(y_mean, y_std)
    with pytest.raises(ImportError, match="plotting needs matplotlib"):
        UncertaintyPanelsDisplay.from_estimator(est, np.zeros((40, 1)), y_true)
    with pytest.raises(ImportError, match="plotting needs matplotlib"):
        CoverageByGroupDisplay.from_estimator(est, np.zeros((40, 1)), y_true)
    with pytest.raises(ImportError, match="plotting needs matplotlib"):
        UncertaintyBandsDisplay.from_estimator(est, np.zeros(40), y_true)
    assert not est.seen_X


def test_module_imports_without_matplotlib(monkeypatch):
    """The subpackage must not import matplotlib at import time."""
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, name, None)
        elif name == plotting.__name__ or name.startswith(f"{plotting.__name__}."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delattr(sklearn_mcdropout, "plotting")
    module = importlib.import_module(plotting.__name__)
    assert module is not plotting
    assert set(module.__all__) == {
        "ConfidenceCalibrationDisplay",
        "CoverageByGroupDisplay",
        "CoverageCurveDisplay",
        "UncertaintyBandsDisplay",
        "UncertaintyPanelsDisplay",
    }
    with pytest.raises(ImportError, match="plotting needs matplotlib"):
        module._base._import_pyplot()
