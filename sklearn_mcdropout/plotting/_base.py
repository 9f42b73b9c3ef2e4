"""Helpers shared by the displays: pyplot on demand, predictions, axes."""

import numpy as np

from ..metrics._validation import _predict_mean_std

_PERFECT_CALIBRATION_GID = "perfect-calibration"
# The dashed black lines of reference: perfect calibration, nominal coverage,
# zero residual, y = x and the mean std.
_REFERENCE_LINE_STYLE = {"color": "k", "linestyle": "--", "linewidth": 1}


def _import_pyplot():
    """Import and return ``matplotlib.pyplot``, with a helpful error if missing."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "plotting needs matplotlib: pip install sklearn-mcdropout[examples]"
        ) from exc
    return plt


def _predict_to_plot(estimator, X, *, proba=False):
    """What ``estimator`` predicts on ``X`` for a display, once matplotlib is found.

    ``(y_mean, y_std)`` of ``predict(X, return_std=True)``, or the class
    probabilities of ``predict_proba(X)`` if ``proba``.
    """
    _import_pyplot()
    return estimator.predict_proba(X) if proba else _predict_mean_std(estimator, X)


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


def _line_with_gid(ax, gid):
    """The first line of ``ax`` with group id ``gid``, or None."""
    return next((line for line in ax.lines if line.get_gid() == gid), None)


def _draw_diagonal(ax):
    """The dashed y = x line of perfect calibration, once per axes."""
    if _line_with_gid(ax, _PERFECT_CALIBRATION_GID) is None:
        ax.plot(
            [0, 1],
            [0, 1],
            **_REFERENCE_LINE_STYLE,
            label="perfect calibration",
            gid=_PERFECT_CALIBRATION_GID,
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
