"""Displays of the coverage of Gaussian prediction intervals."""

from itertools import pairwise

import numpy as np

from ..metrics._regression import (
    _coverage_error_bars,
    coverage_by_group,
    coverage_curve,
)
from ._base import (
    _REFERENCE_LINE_STYLE,
    _estimator_name,
    _finish_unit_square,
    _get_axes_grid,
    _legend_if_labelled,
    _line_with_gid,
    _predict_to_plot,
    _reliability_axes,
)


class CoverageCurveDisplay:
    """Coverage curve of Gaussian prediction intervals: a reliability diagram.

    For each confidence level ``c`` the observed coverage, the fraction of
    targets inside the central interval ``y_mean ± z * y_std`` with
    ``z = Phi^{-1}((1 + c) / 2)``, is plotted against ``c``, as computed by
    :func:`~sklearn_mcdropout.metrics.coverage_curve`. A calibrated model lies
    on the diagonal; a curve below it means the intervals are too narrow
    (over-confident).

    Create it with :meth:`from_estimator` or :meth:`from_predictions`. All
    parameters are stored as attributes.

    Parameters
    ----------
    confidences : ndarray of shape (n_levels,)
        Nominal confidence levels, in (0, 1).

    observed_coverage : ndarray of shape (n_levels,)
        Observed coverage at each level.

    name : str, default=None
        Legend label of the curve. If None, the curve has no label.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The coverage curve.

    ax_ : matplotlib Axes
        Axes with the diagram.

    figure_ : matplotlib Figure
        Figure containing the diagram.

    See Also
    --------
    sklearn_mcdropout.metrics.coverage_curve : The values plotted.
    sklearn_mcdropout.metrics.coverage_calibration_error : Their mean
        distance from the diagonal.
    ConfidenceCalibrationDisplay : The reliability diagram of a classifier.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_mcdropout.metrics import coverage_curve
    >>> from sklearn_mcdropout.plotting import CoverageCurveDisplay
    >>> rng = np.random.default_rng(0)
    >>> y_true = rng.normal(size=200)
    >>> y_mean, y_std = np.zeros(200), np.full(200, 0.5)
    >>> confidences, coverage = coverage_curve(y_true, y_mean, y_std)
    >>> display = CoverageCurveDisplay(confidences, coverage, name="too narrow")
    >>> display = display.plot()
    >>> display.line_.get_xydata().shape
    (19, 2)
    >>> plt.close(display.figure_)
    """

    def __init__(self, confidences, observed_coverage, *, name=None):
        self.confidences = confidences
        self.observed_coverage = observed_coverage
        self.name = name

    def plot(self, ax=None, *, name=None, ref_line=True, **kwargs):
        """Plot the coverage curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on. If None, a new figure and axes are created.

        name : str, default=None
            Legend label of the curve. If None, the display's `name`.

        ref_line : bool, default=True
            Whether to draw the diagonal of perfect calibration; it is drawn
            once per axes however many curves share it.

        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : CoverageCurveDisplay
            The display, with `line_`, `ax_` and `figure_` set.
        """
        self.ax_ = _reliability_axes(ax, ref_line)
        self.figure_ = self.ax_.figure
        line_kwargs = {
            "marker": "o",
            "markersize": 4,
            "label": self.name if name is None else name,
        }
        (self.line_,) = self.ax_.plot(
            self.confidences, self.observed_coverage, **{**line_kwargs, **kwargs}
        )
        _finish_unit_square(self.ax_, "expected confidence level", "observed coverage")
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        confidences=None,
        name=None,
        ax=None,
        ref_line=True,
        **kwargs,
    ):
        """Plot the coverage curve of a fitted regressor on data.

        Parameters
        ----------
        estimator : estimator instance
            Fitted regressor, or pipeline, whose ``predict(X,
            return_std=True)`` returns ``(y_mean, y_std)``.

        X : array-like of shape (n_samples, n_features)
            Input samples.

        y : array-like of shape (n_samples,)
            True target values.

        confidences : array-like of shape (n_levels,), default=None
            Confidence levels, each in (0, 1). If None,
            ``np.linspace(0.05, 0.95, 19)``.

        name : str, default=None
            Legend label of the curve. If None, the estimator's class name.

        ax : matplotlib Axes, default=None
            Axes to draw on. If None, a new figure and axes are created.

        ref_line : bool, default=True
            Whether to draw the diagonal of perfect calibration.

        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : CoverageCurveDisplay
            The display, with the computed values and the artists.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from sklearn.linear_model import BayesianRidge
        >>> from sklearn_mcdropout.plotting import CoverageCurveDisplay
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(100, 2))
        >>> y = X @ [1.0, -2.0] + rng.normal(size=100)
        >>> reg = BayesianRidge().fit(X, y)
        >>> display = CoverageCurveDisplay.from_estimator(reg, X, y)
        >>> display.line_.get_label(), display.observed_coverage.shape
        ('BayesianRidge', (19,))
        >>> plt.close(display.figure_)
        """
        y_mean, y_std = _predict_to_plot(estimator, X)
        return cls.from_predictions(
            y,
            y_mean,
            y_std,
            confidences=confidences,
            name=_estimator_name(estimator, name),
            ax=ax,
            ref_line=ref_line,
            **kwargs,
        )

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_mean,
        y_std,
        *,
        confidences=None,
        name=None,
        ax=None,
        ref_line=True,
        **kwargs,
    ):
        """Plot the coverage curve of Gaussian predictions.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True target values.

        y_mean : array-like of shape (n_samples,)
            Predictive means.

        y_std : array-like of shape (n_samples,)
            Predictive standard deviations, all strictly positive.

        confidences : array-like of shape (n_levels,), default=None
            Confidence levels, each in (0, 1). If None,
            ``np.linspace(0.05, 0.95, 19)``.

        name : str, default=None
            Legend label of the curve. If None, the curve has no label.

        ax : matplotlib Axes, default=None
            Axes to draw on. If None, a new figure and axes are created.

        ref_line : bool, default=True
            Whether to draw the diagonal of perfect calibration.

        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : CoverageCurveDisplay
            The display, with the computed values and the artists.

        Examples
        --------
        Two predictive standard deviations on one diagram:

        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from sklearn_mcdropout.plotting import CoverageCurveDisplay
        >>> rng = np.random.default_rng(0)
        >>> y_true, y_mean = rng.normal(size=200), np.zeros(200)
        >>> narrow = CoverageCurveDisplay.from_predictions(
        ...     y_true, y_mean, np.full(200, 0.5), name="too narrow")
        >>> wide = CoverageCurveDisplay.from_predictions(
        ...     y_true, y_mean, np.ones(200), name="calibrated", ax=narrow.ax_)
        >>> [text.get_text() for text in wide.ax_.get_legend().get_texts()]
        ['perfect calibration', 'too narrow', 'calibrated']
        >>> plt.close(wide.figure_)
        """
        expected, observed = coverage_curve(
            y_true, y_mean, y_std, confidences=confidences
        )
        display = cls(expected, observed, name=name)
        return display.plot(ax=ax, ref_line=ref_line, **kwargs)


def _draw_nominal(ax, confidence):
    """The dashed line of the nominal coverage, once per axes and level."""
    gid = f"nominal-coverage-{confidence!r}"
    line = _line_with_gid(ax, gid)
    if line is not None:
        return line
    return ax.axhline(
        confidence,
        **_REFERENCE_LINE_STYLE,
        label=f"nominal coverage {confidence:g}",
        gid=gid,
    )


_GROUP_GID = "coverage-by-group"
_DODGE = 0.12
_ERRORBAR_ONLY_KWARGS = {
    "barsabove",
    "capsize",
    "capthick",
    "ecolor",
    "elinewidth",
    "errorevery",
    "lolims",
    "uplims",
    "xlolims",
    "xuplims",
}
_GROUP_AXIS_LABELS = {
    "y_std": "bin of the predicted std (equal counts)",
    "y_true": "bin of the target (equal counts)",
    "groups": "group",
}


def _group_tick_labels(labels, bin_edges):
    """A bin's range ``[lo, hi)`` (the last closed), or the group's label."""
    if bin_edges is None:
        return [str(label) for label in labels]
    ranges = [f"[{lo:.3g}, {hi:.3g})" for lo, hi in pairwise(bin_edges)]
    ranges[-1] = ranges[-1][:-1] + "]"
    return ranges


def _dodge(ax):
    """Offset of the next display's points: 0, +d, -d, +2d, ... on ``ax``.

    Also returns how many displays ``ax`` already holds.
    """
    n_drawn = sum(line.get_gid() == _GROUP_GID for line in ax.lines)
    return _DODGE * ((n_drawn + 1) // 2) * (1 if n_drawn % 2 else -1), n_drawn


def _set_group_ticks(axes, tick_labels, previous_labels):
    """Label the groups' positions; number them if displays disagree."""
    if previous_labels is not None and previous_labels != tick_labels:
        n_groups = max(len(previous_labels), len(tick_labels))
        tick_labels = [str(i + 1) for i in range(n_groups)]
    for ax in axes:
        ax.set_xticks(np.arange(len(tick_labels)), tick_labels)


class CoverageByGroupDisplay:
    """Coverage and width of Gaussian prediction intervals per group of samples.

    Two panels share the groups on their x axis: on top, the observed coverage
    of the central intervals ``y_mean ± z * y_std`` in each group, with the
    nominal level as a dashed line; below, the mean width of the intervals.
    The groups are equal-count bins of the predicted std or of the target, or
    labels given by the user, as computed by
    :func:`~sklearn_mcdropout.metrics.coverage_by_group`. A model calibrated
    conditionally on the groups has every point on the dashed line; points
    below it mark groups whose intervals are too narrow.

    The error bars span two binomial standard errors at the nominal level,
    ``2 * sqrt(confidence * (1 - confidence) / count)``, clipped to [0, 1]: a
    bar that misses the line is a miss beyond sampling noise (at about the 5%
    level per group).

    Create it with :meth:`from_estimator` or :meth:`from_predictions`. All
    parameters are stored as attributes.

    Parameters
    ----------
    labels : ndarray of shape (n_groups,)
        Group labels (bin numbers for quantile bins).

    coverage : ndarray of shape (n_groups,)
        Observed coverage in each group.

    mean_width : ndarray of shape (n_groups,)
        Mean interval width in each group.

    counts : ndarray of shape (n_groups,)
        Number of samples in each group.

    confidence : float
        Nominal coverage of the intervals.

    bin_edges : ndarray of shape (n_groups + 1,), default=None
        Edges of the quantile bins, shown as the tick labels; None for groups
        given by label, whose labels are shown.

    by : {"y_std", "y_true", "groups"}, default="groups"
        What the groups are, for the x axis label.

    name : str, default=None
        Legend label of the points. If None, they have no label.

    Attributes
    ----------
    coverage_errorbar_ : matplotlib ErrorbarContainer
        The coverage points and their error bars.

    coverage_line_ : matplotlib Line2D
        The coverage points (``coverage_errorbar_.lines[0]``).

    width_line_ : matplotlib Line2D
        The mean widths.

    nominal_line_ : matplotlib Line2D or None
        The nominal level; None if `ref_line` was False.

    axes_ : ndarray of shape (2,) of matplotlib Axes
        The coverage and width axes.

    figure_ : matplotlib Figure
        Figure containing the axes.

    See Also
    --------
    sklearn_mcdropout.metrics.coverage_by_group : The values plotted.
    CoverageCurveDisplay : Coverage of all samples at every level.

    Notes
    -----
    Points of quantile bins are joined by a line, those of labelled groups are
    not. Displays drawn on the same axes share the positions ``0, 1, ...`` of
    their groups, each offset a little to the side; when their tick labels
    differ (bins of two models' predicted std have different edges) the
    groups are numbered from 1 instead, bin 1 holding the lowest values.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_mcdropout.metrics import coverage_by_group
    >>> from sklearn_mcdropout.plotting import CoverageByGroupDisplay
    >>> rng = np.random.default_rng(0)
    >>> y_std = rng.uniform(0.5, 2.0, size=300)
    >>> y_true = rng.normal(scale=y_std)
    >>> result = coverage_by_group(y_true, np.zeros(300), y_std, n_bins=3)
    >>> display = CoverageByGroupDisplay(
    ...     result.labels,
    ...     result.coverage,
    ...     result.mean_width,
    ...     result.counts,
    ...     confidence=result.confidence,
    ...     bin_edges=result.bin_edges,
    ...     by=result.by,
    ... ).plot()
    >>> display.coverage_line_.get_ydata().shape
    (3,)
    >>> plt.close(display.figure_)
    """

    def __init__(
        self,
        labels,
        coverage,
        mean_width,
        counts,
        *,
        confidence,
        bin_edges=None,
        by="groups",
        name=None,
    ):
        self.labels = labels
        self.coverage = coverage
        self.mean_width = mean_width
        self.counts = counts
        self.confidence = confidence
        self.bin_edges = bin_edges
        self.by = by
        self.name = name

    def plot(self, ax=None, *, name=None, ref_line=True, error_bars=True, **kwargs):
        """Plot the coverage and the mean width of each group.

        Parameters
        ----------
        ax : array-like of two matplotlib Axes, default=None
            Axes of the coverage and of the width. If None, a new figure of
            size (7, 6) with two panels sharing the x axis is created.

        name : str, default=None
            Legend label of the points. If None, the display's `name`.

        ref_line : bool, default=True
            Whether to draw the nominal coverage as a dashed line; it is drawn
            once per axes and level however many displays share it.

        error_bars : bool, default=True
            Whether to draw two binomial standard errors at the nominal level
            around each coverage.

        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.errorbar`
            for the coverage and, but for those of error bars only (such as
            ``capsize``), to :meth:`matplotlib.axes.Axes.plot` for the width.

        Returns
        -------
        display : CoverageByGroupDisplay
            The display, with the artists, `axes_` and `figure_` set.
        """
        self.axes_ = cover_ax, width_ax = _get_axes_grid(
            ax, 2, 1, figsize=(7, 6), sharex=True
        )
        self.figure_ = cover_ax.figure
        offset, n_drawn = _dodge(cover_ax)
        previous_labels = (
            [text.get_text() for text in width_ax.get_xticklabels()]
            if n_drawn
            else None
        )
        coverage = np.asarray(self.coverage)
        x = np.arange(len(coverage)) + offset
        style = {
            "marker": "o",
            "linestyle": "none" if self.bin_edges is None else "-",
            "label": self.name if name is None else name,
            **kwargs,
        }
        self.nominal_line_ = (
            _draw_nominal(cover_ax, self.confidence) if ref_line else None
        )
        yerr = (
            _coverage_error_bars(coverage, self.counts, self.confidence)
            if error_bars
            else None
        )
        self.coverage_errorbar_ = cover_ax.errorbar(
            x, coverage, yerr=yerr, **{"capsize": 3, **style}
        )
        self.coverage_line_ = self.coverage_errorbar_.lines[0]
        self.coverage_line_.set_gid(_GROUP_GID)
        line_style = {k: v for k, v in style.items() if k not in _ERRORBAR_ONLY_KWARGS}
        line_style.setdefault("color", self.coverage_line_.get_color())
        (self.width_line_,) = width_ax.plot(x, self.mean_width, **line_style)
        _set_group_ticks(
            self.axes_, _group_tick_labels(self.labels, self.bin_edges), previous_labels
        )
        cover_ax.set(ylabel="observed coverage")
        width_ax.set(
            xlabel=_GROUP_AXIS_LABELS.get(self.by, str(self.by)),
            ylabel="mean interval width",
        )
        width_ax.set_ylim(bottom=0, auto=None)
        for axis in self.axes_:
            axis.grid(True, axis="y", alpha=0.3)
        _legend_if_labelled(cover_ax, loc="best")
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        by="y_std",
        n_bins=5,
        confidence=0.95,
        name=None,
        ax=None,
        ref_line=True,
        error_bars=True,
        **kwargs,
    ):
        """Plot coverage and width per group of a fitted regressor on data.

        Parameters
        ----------
        estimator : estimator instance
            Fitted regressor, or pipeline, whose ``predict(X,
            return_std=True)`` returns ``(y_mean, y_std)``.

        X : array-like of shape (n_samples, n_features)
            Input samples.

        y : array-like of shape (n_samples,)
            True target values.

        by : {"y_std", "y_true"} or array-like of shape (n_samples,), \
                default="y_std"
            Equal-count bins of the predicted std or of the target, or one
            group label per sample; see
            :func:`~sklearn_mcdropout.metrics.coverage_by_group`.

        n_bins : int, default=5
            Number of quantile bins; ignored when `by` holds labels.

        confidence : float, default=0.95
            Nominal coverage of the intervals, in (0, 1).

        name : str, default=None
            Legend label of the points. If None, the estimator's class name.

        ax : array-like of two matplotlib Axes, default=None
            Axes of the coverage and of the width. If None, a new figure is
            created.

        ref_line : bool, default=True
            Whether to draw the nominal coverage as a dashed line.

        error_bars : bool, default=True
            Whether to draw two binomial standard errors around each coverage.

        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.errorbar`
            and :meth:`matplotlib.axes.Axes.plot`; see :meth:`plot`.

        Returns
        -------
        display : CoverageByGroupDisplay
            The display, with the computed values and the artists.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from sklearn.linear_model import BayesianRidge
        >>> from sklearn_mcdropout.plotting import CoverageByGroupDisplay
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(400, 2))
        >>> noise = np.where(X[:, 0] > 0, 2.0, 0.5)  # heteroscedastic
        >>> y = X @ [1.0, -2.0] + noise * rng.normal(size=400)
        >>> reg = BayesianRidge().fit(X, y)
        >>> display = CoverageByGroupDisplay.from_estimator(
        ...     reg, X, y, by=np.where(X[:, 0] > 0, "noisy", "quiet"))
        >>> display.labels.tolist(), display.coverage_errorbar_.get_label()
        (['noisy', 'quiet'], 'BayesianRidge')
        >>> bool(display.coverage[0] < 0.95 < display.coverage[1])
        True
        >>> plt.close(display.figure_)
        """
        y_mean, y_std = _predict_to_plot(estimator, X)
        return cls.from_predictions(
            y,
            y_mean,
            y_std,
            by=by,
            n_bins=n_bins,
            confidence=confidence,
            name=_estimator_name(estimator, name),
            ax=ax,
            ref_line=ref_line,
            error_bars=error_bars,
            **kwargs,
        )

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_mean,
        y_std,
        *,
        by="y_std",
        n_bins=5,
        confidence=0.95,
        name=None,
        ax=None,
        ref_line=True,
        error_bars=True,
        **kwargs,
    ):
        """Plot coverage and width per group of Gaussian predictions.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True target values.

        y_mean : array-like of shape (n_samples,)
            Predictive means.

        y_std : array-like of shape (n_samples,)
            Predictive standard deviations, all strictly positive.

        by : {"y_std", "y_true"} or array-like of shape (n_samples,), \
                default="y_std"
            Equal-count bins of the predicted std or of the target, or one
            group label per sample; see
            :func:`~sklearn_mcdropout.metrics.coverage_by_group`.

        n_bins : int, default=5
            Number of quantile bins; ignored when `by` holds labels.

        confidence : float, default=0.95
            Nominal coverage of the intervals, in (0, 1).

        name : str, default=None
            Legend label of the points. If None, they have no label.

        ax : array-like of two matplotlib Axes, default=None
            Axes of the coverage and of the width. If None, a new figure is
            created.

        ref_line : bool, default=True
            Whether to draw the nominal coverage as a dashed line.

        error_bars : bool, default=True
            Whether to draw two binomial standard errors around each coverage.

        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.errorbar`
            and :meth:`matplotlib.axes.Axes.plot`; see :meth:`plot`.

        Returns
        -------
        display : CoverageByGroupDisplay
            The display, with the computed values and the artists.

        Examples
        --------
        Two predictive standard deviations on one pair of axes:

        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from sklearn_mcdropout.plotting import CoverageByGroupDisplay
        >>> rng = np.random.default_rng(0)
        >>> true_std = rng.uniform(0.5, 2.0, size=500)
        >>> y_true = rng.normal(scale=true_std)
        >>> exact = CoverageByGroupDisplay.from_predictions(
        ...     y_true, np.zeros(500), true_std, name="exact")
        >>> constant = CoverageByGroupDisplay.from_predictions(
        ...     y_true, np.zeros(500), np.full(500, 1.25), by="y_true",
        ...     name="constant", ax=exact.axes_)
        >>> constant.axes_[1].get_xlabel()
        'bin of the target (equal counts)'
        >>> [text.get_text() for text in exact.axes_[0].get_legend().get_texts()]
        ['nominal coverage 0.95', 'exact', 'constant']
        >>> plt.close(exact.figure_)
        """
        result = coverage_by_group(
            y_true, y_mean, y_std, by=by, n_bins=n_bins, confidence=confidence
        )
        display = cls(
            result.labels,
            result.coverage,
            result.mean_width,
            result.counts,
            confidence=result.confidence,
            bin_edges=result.bin_edges,
            by=result.by,
            name=name,
        )
        return display.plot(ax=ax, ref_line=ref_line, error_bars=error_bars, **kwargs)
