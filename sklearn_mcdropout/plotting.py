"""Displays of predictive uncertainty for Monte Carlo dropout models.

Each figure is a display object in scikit-learn's visualization API, like
:class:`~sklearn.metrics.PredictionErrorDisplay` and
:class:`~sklearn.calibration.CalibrationDisplay`:

- ``from_estimator(estimator, X, y)`` calls ``estimator.predict(X,
  return_std=True)`` (``predict_proba`` for
  :class:`ConfidenceCalibrationDisplay`), computes what the figure shows and
  draws it;
- ``from_predictions`` does the same from precomputed arrays;
- ``plot`` draws the stored arrays again, on new axes or on the ``ax`` given,
  so that several displays can share one axes.

The computed arrays are attributes of the display; after plotting, ``ax_``
(``axes_``), ``figure_`` and the artists (``line_``, ...) are there to
restyle. Nothing calls ``plt.show()``.

matplotlib is an optional dependency (the ``examples`` extra); it is imported
only when a display draws.
"""

from itertools import pairwise

import numpy as np

from .metrics._classification import _calibration_bins
from .metrics._regression import coverage_by_group, coverage_curve
from .metrics._validation import (
    _check_1d,
    _check_consistent_length,
    _check_gaussian_inputs,
    _check_std,
    _predict_mean_std,
)

__all__ = [
    "ConfidenceCalibrationDisplay",
    "CoverageByGroupDisplay",
    "CoverageCurveDisplay",
    "UncertaintyBandsDisplay",
    "UncertaintyPanelsDisplay",
]

_PERFECT_CALIBRATION_GID = "perfect-calibration"


def _import_pyplot():
    """Import and return ``matplotlib.pyplot``, with a helpful error if missing."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "plotting needs matplotlib: pip install sklearn-mcdropout[examples]"
        ) from exc
    return plt


def _predict_to_plot(estimator, X):
    """``(y_mean, y_std)`` of ``estimator`` on ``X``, once matplotlib is found."""
    _import_pyplot()
    return _predict_mean_std(estimator, X)


def _estimator_name(estimator, name):
    """``name``, or the class name of ``estimator`` if None."""
    return type(estimator).__name__ if name is None else name


def _get_axes(ax, figsize):
    """``ax``, or the axes of a new figure of size ``figsize``."""
    if ax is None:
        _, ax = _import_pyplot().subplots(figsize=figsize, layout="constrained")
    return ax


def _get_axes_grid(ax, nrows, ncols, figsize, **kwargs):
    """``ax`` raveled and checked to be ``nrows * ncols`` axes, or a new figure's."""
    if ax is None:
        figure = _import_pyplot().figure(figsize=figsize, layout="constrained")
        return figure.subplots(nrows, ncols, **kwargs)
    axes = np.ravel(np.asarray(ax, dtype=object))
    if axes.shape != (nrows * ncols,):
        number = {2: "two", 3: "three"}[nrows * ncols]
        raise ValueError(f"ax must be {number} matplotlib Axes, got {axes.size}")
    return axes


def _draw_diagonal(ax):
    """The dashed y = x line of perfect calibration, once per axes."""
    if not any(line.get_gid() == _PERFECT_CALIBRATION_GID for line in ax.lines):
        ax.plot(
            [0, 1],
            [0, 1],
            color="k",
            linestyle="--",
            linewidth=1,
            label="perfect calibration",
            gid=_PERFECT_CALIBRATION_GID,
        )


def _draw_nominal(ax, confidence):
    """The dashed line of the nominal coverage, once per axes and level."""
    gid = f"nominal-coverage-{confidence!r}"
    for line in ax.lines:
        if line.get_gid() == gid:
            return line
    return ax.axhline(
        confidence,
        color="k",
        linestyle="--",
        linewidth=1,
        label=f"nominal coverage {confidence:g}",
        gid=gid,
    )


def _reliability_axes(ax, ref_line):
    """Axes of a reliability diagram, with the diagonal if ``ref_line``."""
    ax = _get_axes(ax, figsize=(5.5, 5.5))
    if ref_line:
        _draw_diagonal(ax)
    return ax


def _legend_if_labelled(ax, loc):
    """Draw the legend of ``ax`` if any of its artists has a label."""
    if ax.get_legend_handles_labels()[1]:
        ax.legend(loc=loc)


def _finish_unit_square(ax, xlabel, ylabel):
    """Square [0, 1] axes with labels, grid and, if anything is labelled, legend."""
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal", xlabel=xlabel, ylabel=ylabel)
    ax.grid(True, alpha=0.3)
    _legend_if_labelled(ax, loc="upper left")


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


_GROUP_GID = "coverage-by-group"
_DODGE = 0.12
_ERRORBAR_ONLY = {
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
    """Offset of the next display's points: 0, +d, -d, +2d, ... on ``ax``."""
    k = sum(line.get_gid() == _GROUP_GID for line in ax.lines)
    return _DODGE * ((k + 1) // 2) * (1 if k % 2 else -1), k


def _set_group_ticks(axes, tick_labels, previous):
    """Label the groups' positions; number them if displays disagree."""
    if previous is not None and previous != tick_labels:
        tick_labels = [str(i + 1) for i in range(max(len(previous), len(tick_labels)))]
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
        previous = (
            [text.get_text() for text in width_ax.get_xticklabels()]
            if n_drawn
            else None
        )
        coverage, counts = np.asarray(self.coverage), np.asarray(self.counts)
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
        yerr = None
        if error_bars:
            half = 2 * np.sqrt(self.confidence * (1 - self.confidence) / counts)
            yerr = np.minimum(half, [coverage, 1 - coverage])
        self.coverage_errorbar_ = cover_ax.errorbar(
            x, coverage, yerr=yerr, **{"capsize": 3, **style}
        )
        self.coverage_line_ = self.coverage_errorbar_.lines[0]
        self.coverage_line_.set_gid(_GROUP_GID)
        line_style = {k: v for k, v in style.items() if k not in _ERRORBAR_ONLY}
        line_style.setdefault("color", self.coverage_line_.get_color())
        (self.width_line_,) = width_ax.plot(x, self.mean_width, **line_style)
        _set_group_ticks(
            self.axes_, _group_tick_labels(self.labels, self.bin_edges), previous
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


class ConfidenceCalibrationDisplay:
    """Accuracy against confidence of a classifier: its reliability diagram.

    Predictions are binned by their confidence (the largest class probability)
    into ``n_bins`` equal-width bins of [0, 1]; each non-empty bin's accuracy
    is plotted at its mean confidence, with the share of samples as marker
    area (Guo et al. 2017). A calibrated classifier lies on the diagonal;
    points below it are over-confident. The legend gives the expected
    calibration error, :func:`~sklearn_mcdropout.metrics.expected_calibration_error`.

    Create it with :meth:`from_estimator` or :meth:`from_predictions`. All
    parameters are stored as attributes.

    Parameters
    ----------
    accuracy : ndarray of shape (n_filled_bins,)
        Accuracy of the predictions in each non-empty bin.

    confidence : ndarray of shape (n_filled_bins,)
        Mean confidence of the predictions in each non-empty bin.

    counts : ndarray of shape (n_filled_bins,)
        Number of predictions in each non-empty bin.

    ece : float
        Expected calibration error.

    name : str, default=None
        Legend label of the curve, followed by the ECE.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The curve through the bins.

    scatter_ : matplotlib PathCollection
        The bins' markers, of area growing with their share of samples.

    ax_ : matplotlib Axes
        Axes with the diagram.

    figure_ : matplotlib Figure
        Figure containing the diagram.

    See Also
    --------
    sklearn_mcdropout.metrics.expected_calibration_error : The error shown.
    sklearn.calibration.CalibrationDisplay : The positive class's frequency
        against its probability, for binary classifiers.
    CoverageCurveDisplay : The reliability diagram of a regressor.

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of
       Modern Neural Networks", ICML 2017.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn_mcdropout.plotting import ConfidenceCalibrationDisplay
    >>> y_proba = [[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.4, 0.6]]
    >>> display = ConfidenceCalibrationDisplay.from_predictions(
    ...     [0, 1, 1, 1], y_proba, n_bins=5, name="toy")
    >>> display.confidence.tolist(), display.accuracy.tolist()
    ([0.6, 0.8, 0.9], [1.0, 1.0, 0.5])
    >>> display.line_.get_label()
    'toy (ECE 0.350)'
    >>> plt.close(display.figure_)
    """

    def __init__(self, accuracy, confidence, counts, ece, *, name=None):
        self.accuracy = accuracy
        self.confidence = confidence
        self.counts = counts
        self.ece = ece
        self.name = name

    def plot(self, ax=None, *, name=None, ref_line=True, **kwargs):
        """Plot the accuracy of each confidence bin.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on. If None, a new figure and axes are created.

        name : str, default=None
            Legend label of the curve, followed by the ECE. If None, the
            display's `name`.

        ref_line : bool, default=True
            Whether to draw the diagonal of perfect calibration; it is drawn
            once per axes however many curves share it.

        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : ConfidenceCalibrationDisplay
            The display, with `line_`, `scatter_`, `ax_` and `figure_` set.
        """
        self.ax_ = _reliability_axes(ax, ref_line)
        self.figure_ = self.ax_.figure
        name = self.name if name is None else name
        label = f"{name} (ECE {self.ece:.3f})" if name else f"ECE {self.ece:.3f}"
        (self.line_,) = self.ax_.plot(
            self.confidence, self.accuracy, **{"label": label, **kwargs}
        )
        share = np.asarray(self.counts) / np.sum(self.counts)
        self.scatter_ = self.ax_.scatter(
            self.confidence,
            self.accuracy,
            s=20 + 400 * share,
            color=self.line_.get_color(),
        )
        _finish_unit_square(
            self.ax_, "confidence (largest class probability)", "accuracy"
        )
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        n_bins=10,
        name=None,
        ax=None,
        ref_line=True,
        **kwargs,
    ):
        """Plot the reliability diagram of a fitted classifier on data.

        Parameters
        ----------
        estimator : estimator instance
            Fitted classifier, or pipeline, with ``predict_proba`` and
            ``classes_``.

        X : array-like of shape (n_samples, n_features)
            Input samples.

        y : array-like of shape (n_samples,)
            True labels.

        n_bins : int, default=10
            Number of confidence bins.

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
        display : ConfidenceCalibrationDisplay
            The display, with the computed values and the artists.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklearn_mcdropout.plotting import ConfidenceCalibrationDisplay
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = LogisticRegression(max_iter=1000).fit(X, y)
        >>> display = ConfidenceCalibrationDisplay.from_estimator(clf, X, y)
        >>> display.line_.get_label()
        'LogisticRegression (ECE ...)'
        >>> int(display.counts.sum())
        150
        >>> plt.close(display.figure_)
        """
        _import_pyplot()
        return cls.from_predictions(
            y,
            estimator.predict_proba(X),
            labels=estimator.classes_,
            n_bins=n_bins,
            name=_estimator_name(estimator, name),
            ax=ax,
            ref_line=ref_line,
            **kwargs,
        )

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_proba,
        *,
        labels=None,
        n_bins=10,
        name=None,
        ax=None,
        ref_line=True,
        **kwargs,
    ):
        """Plot the reliability diagram of predicted class probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.

        y_proba : array-like of shape (n_samples, n_classes)
            Predicted class probabilities, one column per label of `labels`.

        labels : array-like of shape (n_classes,), default=None
            The sorted labels of the columns (``estimator.classes_``). If
            None, the labels in `y_true`, which must then all occur.

        n_bins : int, default=10
            Number of confidence bins.

        name : str, default=None
            Legend label of the curve, followed by the ECE.

        ax : matplotlib Axes, default=None
            Axes to draw on. If None, a new figure and axes are created.

        ref_line : bool, default=True
            Whether to draw the diagonal of perfect calibration.

        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : ConfidenceCalibrationDisplay
            The display, with the computed values and the artists.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from sklearn_mcdropout.plotting import ConfidenceCalibrationDisplay
        >>> y_proba = [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]]
        >>> display = ConfidenceCalibrationDisplay.from_predictions(
        ...     ["a", "a", "a", "b"], y_proba, n_bins=5)
        >>> display.counts.tolist(), round(display.ece, 3)
        ([1.0, 2.0, 1.0], 0.25)
        >>> plt.close(display.figure_)
        """
        accuracy, confidence, counts, ece = _calibration_bins(
            y_true, y_proba, n_bins, labels
        )
        filled = counts > 0
        display = cls(
            accuracy[filled], confidence[filled], counts[filled], ece, name=name
        )
        return display.plot(ax=ax, ref_line=ref_line, **kwargs)


def _plot_residuals(ax, y_true, residuals, style):
    scatter = ax.scatter(y_true, residuals, color="tab:blue", **style)
    ax.axhline(0.0, color="k", linestyle="--", linewidth=1)
    ax.set(
        xlabel="true value",
        ylabel="residual (predicted mean - true value)",
        title="Residuals",
    )
    return scatter


def _plot_predictions(ax, y_true, y_mean, y_std, style, std_label):
    from matplotlib.cm import ScalarMappable

    scatter = ax.scatter(y_true, y_mean, c=y_std, cmap="viridis", **style)
    lo = min(y_true.min(), y_mean.min())
    hi = max(y_true.max(), y_mean.max())
    ax.plot([lo, hi], [lo, hi], color="k", linestyle="--", linewidth=1, label="y = x")
    ax.set(
        xlabel="true value",
        ylabel="predicted mean",
        title="Predicted vs true (colour: std)",
    )
    ax.legend(loc="upper left")
    # An opaque mappable: the colour bar is not washed out by the points' alpha.
    mappable = ScalarMappable(norm=scatter.norm, cmap=scatter.get_cmap())
    colorbar = ax.figure.colorbar(mappable, ax=ax)
    colorbar.set_label(std_label)
    return scatter, colorbar


def _plot_std_histogram(ax, y_std, std_label):
    n_bins = int(min(50, max(10, np.sqrt(len(y_std)))))
    *_, bars = ax.hist(
        y_std, bins=n_bins, color="tab:green", alpha=0.8, edgecolor="white"
    )
    mean_std = float(np.mean(y_std))
    ax.axvline(
        mean_std, color="k", linestyle="--", linewidth=1, label=f"mean = {mean_std:.3g}"
    )
    ax.set(
        xlabel=std_label, ylabel="count", title="Distribution of predictive uncertainty"
    )
    ax.legend()
    return bars


class UncertaintyPanelsDisplay:
    """Residuals, predicted against true, and the distribution of the std.

    Three panels side by side, the figure of the reference report:

    - residuals ``y_mean - y_true`` against the true value, with a horizontal
      line at zero;
    - predicted mean against the true value, coloured by the predictive
      standard deviation, with the diagonal ``y = x`` and a colour bar;
    - a histogram of the predictive standard deviation, with its mean.

    Create it with :meth:`from_estimator` or :meth:`from_predictions`. All
    parameters are stored as attributes.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
        True target values.

    y_mean : ndarray of shape (n_samples,)
        Predictive means.

    y_std : ndarray of shape (n_samples,)
        Predictive standard deviations.

    Attributes
    ----------
    residuals_scatter_ : matplotlib PathCollection
        The residuals.

    predictions_scatter_ : matplotlib PathCollection
        The predicted means, coloured by the std.

    colorbar_ : matplotlib Colorbar
        The colour bar of the std.

    hist_ : matplotlib BarContainer
        The bars of the std histogram.

    axes_ : ndarray of shape (3,) of matplotlib Axes
        The residual, prediction and histogram axes.

    figure_ : matplotlib Figure
        Figure containing the panels.

    See Also
    --------
    CoverageCurveDisplay : Calibration of the predictive intervals.
    sklearn.metrics.PredictionErrorDisplay : Residuals of point predictions.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_mcdropout.plotting import UncertaintyPanelsDisplay
    >>> rng = np.random.default_rng(0)
    >>> y_true = rng.normal(size=50)
    >>> y_mean = y_true + rng.normal(scale=0.3, size=50)
    >>> y_std = rng.uniform(0.1, 0.5, size=50)
    >>> display = UncertaintyPanelsDisplay(y_true, y_mean, y_std).plot()
    >>> len(display.figure_.axes)  # three panels and the colour bar
    4
    >>> plt.close(display.figure_)
    """

    def __init__(self, y_true, y_mean, y_std):
        self.y_true = y_true
        self.y_mean = y_mean
        self.y_std = y_std

    def plot(self, ax=None, *, std_label="predictive std"):
        """Plot the three panels.

        Parameters
        ----------
        ax : array-like of three matplotlib Axes, default=None
            Axes of the residual, prediction and histogram panels. If None, a
            new figure of size (15, 4.5) with constrained layout is created.

        std_label : str, default="predictive std"
            Label of the colour bar and of the histogram's x axis.

        Returns
        -------
        display : UncertaintyPanelsDisplay
            The display, with `axes_`, `figure_` and the artists set.
        """
        y_true, y_mean, y_std = map(np.asarray, (self.y_true, self.y_mean, self.y_std))
        self.axes_ = _get_axes_grid(ax, 1, 3, figsize=(15, 4.5))
        self.figure_ = self.axes_[0].figure
        small = len(y_true) <= 500
        style = {"s": 12 if small else 4, "alpha": 0.8 if small else 0.4}
        self.residuals_scatter_ = _plot_residuals(
            self.axes_[0], y_true, y_mean - y_true, style
        )
        self.predictions_scatter_, self.colorbar_ = _plot_predictions(
            self.axes_[1], y_true, y_mean, y_std, style, std_label
        )
        self.hist_ = _plot_std_histogram(self.axes_[2], y_std, std_label)
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y, *, ax=None, std_label="predictive std"):
        """Plot the three panels of a fitted regressor on data.

        Parameters
        ----------
        estimator : estimator instance
            Fitted regressor, or pipeline, whose ``predict(X,
            return_std=True)`` returns ``(y_mean, y_std)``.

        X : array-like of shape (n_samples, n_features)
            Input samples.

        y : array-like of shape (n_samples,)
            True target values.

        ax : array-like of three matplotlib Axes, default=None
            Axes of the three panels. If None, a new figure is created.

        std_label : str, default="predictive std"
            Label of the colour bar and of the histogram's x axis.

        Returns
        -------
        display : UncertaintyPanelsDisplay
            The display, with the arrays and the artists.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from sklearn.linear_model import BayesianRidge
        >>> from sklearn_mcdropout.plotting import UncertaintyPanelsDisplay
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(100, 2))
        >>> y = X @ [1.0, -2.0] + rng.normal(size=100)
        >>> reg = BayesianRidge().fit(X, y)
        >>> display = UncertaintyPanelsDisplay.from_estimator(reg, X, y)
        >>> display.axes_[0].get_title(), display.y_std.shape
        ('Residuals', (100,))
        >>> plt.close(display.figure_)
        """
        y_mean, y_std = _predict_to_plot(estimator, X)
        return cls.from_predictions(y, y_mean, y_std, ax=ax, std_label=std_label)

    @classmethod
    def from_predictions(
        cls, y_true, y_mean, y_std, *, ax=None, std_label="predictive std"
    ):
        """Plot the three panels of Gaussian predictions.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True target values.

        y_mean : array-like of shape (n_samples,)
            Predictive means.

        y_std : array-like of shape (n_samples,)
            Predictive standard deviations, all strictly positive.

        ax : array-like of three matplotlib Axes, default=None
            Axes of the three panels. If None, a new figure is created.

        std_label : str, default="predictive std"
            Label of the colour bar and of the histogram's x axis.

        Returns
        -------
        display : UncertaintyPanelsDisplay
            The display, with the arrays and the artists.

        Examples
        --------
        On axes of one's own, here the top row of a 2 x 3 grid:

        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from sklearn_mcdropout.plotting import UncertaintyPanelsDisplay
        >>> rng = np.random.default_rng(0)
        >>> y_true = rng.normal(size=50)
        >>> y_mean = y_true + rng.normal(scale=0.3, size=50)
        >>> fig, axes = plt.subplots(2, 3)
        >>> display = UncertaintyPanelsDisplay.from_predictions(
        ...     y_true, y_mean, np.full(50, 0.3), ax=axes[0])
        >>> display.figure_ is fig, display.y_std.shape
        (True, (50,))
        >>> plt.close(fig)
        """
        y_true, y_mean, y_std, _ = _check_gaussian_inputs(y_true, y_mean, y_std)
        return cls(y_true, y_mean, y_std).plot(ax=ax, std_label=std_label)


def _check_n_std(n_std):
    """Sorted distinct multiples of the std, each positive, from one or several."""
    n_std = _check_1d(np.atleast_1d(n_std), "n_std")
    if np.any(n_std <= 0):
        raise ValueError(f"n_std must be positive, got {n_std.tolist()}")
    return np.unique(n_std)


def _plot_bands(ax, x, y_mean, y_std, n_std):
    """A band ``y_mean ± k * y_std`` per ``k``, darker for smaller ``k``."""
    alphas = np.linspace(0.45, 0.15, len(n_std)) if len(n_std) > 1 else [0.35]
    # Widest first, so that the legend lists the bands from outside in.
    bands = [
        ax.fill_between(
            x,
            y_mean - k * y_std,
            y_mean + k * y_std,
            color="tab:blue",
            alpha=alpha,
            linewidth=0,
            label=f"mean ± {k:g} std",
        )
        for k, alpha in zip(n_std[::-1], alphas[::-1], strict=True)
    ]
    return bands[::-1]


_DATA_STYLE = {
    "s": 15,
    "color": "tab:red",
    "edgecolor": "k",
    "linewidth": 0.5,
    "zorder": 3,
    "label": "training data",
}


class UncertaintyBandsDisplay:
    """Predictive mean and uncertainty bands of a regression on one feature.

    Draws the predictive mean as a line, a shaded band ``mean ± k * std`` for
    each multiple ``k`` (darker for smaller ``k``), the data as points and,
    optionally, the true function as a dashed line.

    Create it with :meth:`from_estimator` or :meth:`from_predictions`. All
    parameters are stored as attributes.

    Parameters
    ----------
    x_plot : ndarray of shape (n_plot,)
        Inputs at which the prediction is drawn; need not be sorted.

    y_mean : ndarray of shape (n_plot,)
        Predictive means at `x_plot`.

    y_std : ndarray of shape (n_plot,)
        Predictive standard deviations at `x_plot`.

    x : ndarray of shape (n_samples,), default=None
        Inputs of the data drawn as points, typically the training data.

    y : ndarray of shape (n_samples,), default=None
        Targets of the data drawn as points.

    y_true_plot : ndarray of shape (n_plot,), default=None
        True function at `x_plot`, drawn as a dashed line if given.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The predictive mean.

    bands_ : list of matplotlib PolyCollection
        The bands, one per multiple of the std, from the narrowest.

    scatter_ : matplotlib PathCollection or None
        The data points; None if there are none.

    true_line_ : matplotlib Line2D or None
        The true function; None if not given.

    ax_ : matplotlib Axes
        Axes with the plot.

    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    UncertaintyPanelsDisplay : Residuals and std on any number of features.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_mcdropout.plotting import UncertaintyBandsDisplay
    >>> x_plot = np.linspace(-4, 4, 100)
    >>> y_mean, y_std = np.sin(x_plot), 0.1 + 0.05 * np.abs(x_plot)
    >>> display = UncertaintyBandsDisplay(x_plot, y_mean, y_std).plot(n_std=2)
    >>> [band.get_label() for band in display.bands_]
    ['mean ± 2 std']
    >>> plt.close(display.figure_)
    """

    def __init__(self, x_plot, y_mean, y_std, *, x=None, y=None, y_true_plot=None):
        self.x_plot = x_plot
        self.y_mean = y_mean
        self.y_std = y_std
        self.x = x
        self.y = y
        self.y_true_plot = y_true_plot

    def plot(self, ax=None, *, n_std=(1, 2)):
        """Plot the mean, the bands, the data and the true function.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on. If None, a new figure and axes are created.

        n_std : float or array-like of float, default=(1, 2)
            Multiples of the standard deviation for the bands, each positive.

        Returns
        -------
        display : UncertaintyBandsDisplay
            The display, with `line_`, `bands_`, `scatter_`, `true_line_`,
            `ax_` and `figure_` set.
        """
        n_std = _check_n_std(n_std)
        self.ax_ = ax = _get_axes(ax, figsize=(8, 5))
        self.figure_ = ax.figure
        order = np.argsort(self.x_plot, kind="stable")
        x, mean = np.asarray(self.x_plot)[order], np.asarray(self.y_mean)[order]
        std = np.asarray(self.y_std)[order]
        self.bands_ = _plot_bands(ax, x, mean, std, n_std)
        (self.line_,) = ax.plot(
            x, mean, color="tab:blue", linewidth=2, label="predictive mean"
        )
        self.true_line_ = self.scatter_ = None
        if self.y_true_plot is not None:
            (self.true_line_,) = ax.plot(
                x, np.asarray(self.y_true_plot)[order], "k--", label="true function"
            )
        if self.x is not None:
            self.scatter_ = ax.scatter(self.x, self.y, **_DATA_STYLE)
        ax.set(xlabel="x", ylabel="y")
        ax.legend(loc="best")
        return self

    @classmethod
    def from_estimator(
        cls, estimator, X, y, *, X_plot=None, y_true_plot=None, n_std=(1, 2), ax=None
    ):
        """Plot the predictions of a fitted regressor on one feature.

        Parameters
        ----------
        estimator : estimator instance
            Fitted regressor, or pipeline, of one feature, whose ``predict(X,
            return_std=True)`` returns ``(y_mean, y_std)``.

        X : array-like of shape (n_samples,) or (n_samples, 1)
            Inputs of the data drawn as points, typically the training data.

        y : array-like of shape (n_samples,)
            Targets of the data drawn as points.

        X_plot : array-like of shape (n_plot,) or (n_plot, 1), default=None
            Inputs at which the prediction is drawn. If None, 200 evenly
            spaced points spanning `X`. A 1d `X_plot` is passed to the
            estimator as one column.

        y_true_plot : array-like of shape (n_plot,), default=None
            True function at `X_plot`, drawn as a dashed line if given.

        n_std : float or array-like of float, default=(1, 2)
            Multiples of the standard deviation for the bands, each positive.

        ax : matplotlib Axes, default=None
            Axes to draw on. If None, a new figure and axes are created.

        Returns
        -------
        display : UncertaintyBandsDisplay
            The display, with the arrays and the artists.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from sklearn.gaussian_process import GaussianProcessRegressor
        >>> from sklearn_mcdropout.plotting import UncertaintyBandsDisplay
        >>> rng = np.random.default_rng(0)
        >>> X = rng.uniform(-3, 3, size=(20, 1))
        >>> y = np.sin(X[:, 0])
        >>> gpr = GaussianProcessRegressor(alpha=1e-2).fit(X, y)
        >>> display = UncertaintyBandsDisplay.from_estimator(
        ...     gpr, X, y, X_plot=np.linspace(-5, 5, 50))
        >>> display.x_plot.shape, len(display.bands_)
        ((50,), 2)
        >>> plt.close(display.figure_)
        """
        _import_pyplot()
        x = _check_1d(X, "X")
        X_plot = np.linspace(x.min(), x.max(), 200) if X_plot is None else X_plot
        x_plot = _check_1d(X_plot, "X_plot")
        X_predict = X_plot if np.ndim(X_plot) == 2 else x_plot[:, np.newaxis]
        y_mean, y_std = _predict_mean_std(estimator, X_predict)
        return cls.from_predictions(
            X, y, x_plot, y_mean, y_std, y_true_plot=y_true_plot, n_std=n_std, ax=ax
        )

    @classmethod
    def from_predictions(
        cls, X, y, X_plot, y_mean, y_std, *, y_true_plot=None, n_std=(1, 2), ax=None
    ):
        """Plot precomputed predictions on one feature.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1)
            Inputs of the data drawn as points, typically the training data.

        y : array-like of shape (n_samples,)
            Targets of the data drawn as points.

        X_plot : array-like of shape (n_plot,) or (n_plot, 1)
            Inputs at which the prediction is drawn; need not be sorted.

        y_mean : array-like of shape (n_plot,)
            Predictive means at `X_plot`.

        y_std : array-like of shape (n_plot,)
            Predictive standard deviations at `X_plot`, all strictly positive.

        y_true_plot : array-like of shape (n_plot,), default=None
            True function at `X_plot`, drawn as a dashed line if given.

        n_std : float or array-like of float, default=(1, 2)
            Multiples of the standard deviation for the bands, each positive.

        ax : matplotlib Axes, default=None
            Axes to draw on. If None, a new figure and axes are created.

        Returns
        -------
        display : UncertaintyBandsDisplay
            The display, with the arrays and the artists.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import numpy as np
        >>> from sklearn_mcdropout.plotting import UncertaintyBandsDisplay
        >>> rng = np.random.default_rng(0)
        >>> X = rng.uniform(-3, 3, size=(30, 1))
        >>> y = np.sin(X[:, 0]) + rng.normal(scale=0.1, size=30)
        >>> X_plot = np.linspace(-4, 4, 100)
        >>> y_mean, y_std = np.sin(X_plot), 0.1 + 0.05 * np.abs(X_plot)
        >>> display = UncertaintyBandsDisplay.from_predictions(
        ...     X, y, X_plot, y_mean, y_std, y_true_plot=np.sin(X_plot))
        >>> [band.get_label() for band in display.bands_]
        ['mean ± 1 std', 'mean ± 2 std']
        >>> plt.close(display.figure_)
        """
        x, y = _check_1d(X, "X"), _check_1d(y, "y")
        _check_consistent_length(X=x, y=y)
        x_plot, y_mean = _check_1d(X_plot, "X_plot"), _check_1d(y_mean, "y_mean")
        y_std = _check_std(y_std)
        if y_true_plot is not None:
            y_true_plot = _check_1d(y_true_plot, "y_true_plot")
        _check_consistent_length(
            X_plot=x_plot, y_mean=y_mean, y_std=y_std, y_true_plot=y_true_plot
        )
        display = cls(x_plot, y_mean, y_std, x=x, y=y, y_true_plot=y_true_plot)
        return display.plot(ax=ax, n_std=n_std)
