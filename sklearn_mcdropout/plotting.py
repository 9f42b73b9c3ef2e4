"""Plots of predictive uncertainty for Monte Carlo dropout models.

Every function accepts either precomputed arrays (``y_mean`` and ``y_std``,
or ``y_proba`` for :func:`plot_confidence_diagram`) or a fitted estimator
together with ``X``, in which case the predictions are computed as
``estimator.predict(X, return_std=True)`` (or ``estimator.predict_proba(X)``
for classifiers). The functions return
the matplotlib :class:`~matplotlib.figure.Figure` they drew on and never call
``plt.show()``.

matplotlib is an optional dependency (the ``examples`` extra); it is imported
only when a plotting function is called.
"""

import numbers

import numpy as np

from .metrics._classification import _confidence_bins, expected_calibration_error
from .metrics._regression import _observed_coverage
from .metrics._validation import (
    _check_1d,
    _check_confidences,
    _check_consistent_length,
    _check_gaussian_inputs,
    _check_labelled_proba,
    _check_std,
    _predict_mean_std,
)

__all__ = [
    "plot_1d_regression",
    "plot_confidence_diagram",
    "plot_reliability_diagram",
    "plot_uncertainty_panels",
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


def _resolve_predictions(y_mean, y_std, estimator, X):
    """Return ``(y_mean, y_std)`` from the arrays or from ``estimator.predict``."""
    if estimator is not None:
        if y_mean is not None or y_std is not None:
            raise ValueError(
                "Pass either y_mean and y_std, or estimator and X, not both."
            )
        if X is None:
            raise ValueError("X is required when estimator is given.")
        return _predict_mean_std(estimator, X)
    if X is not None:
        raise ValueError("X is only used together with estimator.")
    if y_mean is None or y_std is None:
        raise ValueError(
            "Pass either y_mean and y_std, or a fitted estimator and X; got neither."
        )
    return y_mean, y_std


def _validate_mean_std(y_mean, y_std, x_plot):
    """Validate predictive mean and std at the inputs ``x_plot``."""
    y_mean = _check_1d(y_mean, "y_mean")
    y_std = _check_std(y_std)
    _check_consistent_length(X_plot=x_plot, y_mean=y_mean, y_std=y_std)
    return y_mean, y_std


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


def _finish_unit_square(ax, xlabel, ylabel, title):
    """Square [0, 1] axes with labels, grid and legend; returns the figure."""
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    return ax.figure


def plot_uncertainty_panels(
    y_true,
    y_mean=None,
    y_std=None,
    *,
    estimator=None,
    X=None,
    fig=None,
    std_label="predictive std",
):
    """Plot residuals, predicted vs true and the distribution of the std.

    Draws three panels side by side:

    - left: residuals ``y_mean - y_true`` against the true value, with a
      horizontal line at zero;
    - centre: predicted mean against the true value, coloured by the
      predictive standard deviation, with the diagonal ``y = x``;
    - right: a histogram of the predictive standard deviation.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True target values.

    y_mean : array-like of shape (n_samples,), default=None
        Predictive means. Must be given together with `y_std` unless
        `estimator` is given.

    y_std : array-like of shape (n_samples,), default=None
        Predictive standard deviations, non-negative.

    estimator : estimator instance, default=None
        Fitted regressor whose ``predict(X, return_std=True)`` returns
        ``(y_mean, y_std)``. Mutually exclusive with `y_mean` and `y_std`.

    X : array-like of shape (n_samples, n_features), default=None
        Input samples passed to `estimator`. Required when `estimator` is
        given.

    fig : matplotlib Figure, default=None
        Figure to draw on. If None, a new figure of size (15, 4.5) with
        constrained layout is created.

    std_label : str, default="predictive std"
        Label of the colour bar and of the histogram's x axis.

    Returns
    -------
    fig : matplotlib Figure
        The figure holding the three panels and the colour bar.

    Raises
    ------
    ValueError
        If both arrays and an estimator are given, or neither, or if the
        arrays differ in length, contain non-finite values or a negative std.

    See Also
    --------
    plot_reliability_diagram : Calibration of the predictive intervals.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_mcdropout.plotting import plot_uncertainty_panels
    >>> rng = np.random.default_rng(0)
    >>> y_true = rng.normal(size=50)
    >>> y_mean = y_true + rng.normal(scale=0.3, size=50)
    >>> y_std = rng.uniform(0.1, 0.5, size=50)
    >>> fig = plot_uncertainty_panels(y_true, y_mean, y_std)
    >>> len(fig.axes)  # three panels and the colour bar
    4
    >>> plt.close(fig)
    """
    y_mean, y_std = _resolve_predictions(y_mean, y_std, estimator, X)
    y_true, y_mean, y_std, _ = _check_gaussian_inputs(y_true, y_mean, y_std)
    plt = _import_pyplot()
    from matplotlib.cm import ScalarMappable

    tight = False
    if fig is None:
        fig = plt.figure(figsize=(15, 4.5), layout="constrained")
    else:
        tight = fig.get_layout_engine() is None
    ax_res, ax_pred, ax_hist = fig.subplots(1, 3)

    n = y_true.shape[0]
    alpha = 0.8 if n <= 500 else 0.4
    size = 12 if n <= 500 else 4

    residuals = y_mean - y_true
    ax_res.scatter(y_true, residuals, s=size, alpha=alpha, color="tab:blue")
    ax_res.axhline(0.0, color="k", linestyle="--", linewidth=1)
    ax_res.set_xlabel("true value")
    ax_res.set_ylabel("residual (predicted mean - true value)")
    ax_res.set_title("Residuals")

    sc = ax_pred.scatter(y_true, y_mean, c=y_std, cmap="viridis", s=size, alpha=alpha)
    lo = min(y_true.min(), y_mean.min())
    hi = max(y_true.max(), y_mean.max())
    ax_pred.plot(
        [lo, hi], [lo, hi], color="k", linestyle="--", linewidth=1, label="y = x"
    )
    ax_pred.set_xlabel("true value")
    ax_pred.set_ylabel("predicted mean")
    ax_pred.set_title("Predicted vs true (colour: std)")
    ax_pred.legend(loc="upper left")
    # An opaque mappable so the colour bar is not washed out by the alpha of
    # the scatter points.
    cbar = fig.colorbar(ScalarMappable(norm=sc.norm, cmap=sc.get_cmap()), ax=ax_pred)
    cbar.set_label(std_label)

    n_bins = int(min(50, max(10, np.sqrt(n))))
    ax_hist.hist(y_std, bins=n_bins, color="tab:green", alpha=0.8, edgecolor="white")
    mean_std = float(y_std.mean())
    ax_hist.axvline(
        mean_std,
        color="k",
        linestyle="--",
        linewidth=1,
        label=f"mean = {mean_std:.3g}",
    )
    ax_hist.set_xlabel(std_label)
    ax_hist.set_ylabel("count")
    ax_hist.set_title("Distribution of predictive uncertainty")
    ax_hist.legend()

    if tight:
        fig.tight_layout()
    return fig


def plot_reliability_diagram(
    y_true,
    y_mean=None,
    y_std=None,
    *,
    estimator=None,
    X=None,
    confidences=None,
    ax=None,
    label=None,
):
    """Plot observed coverage of central intervals vs expected confidence.

    For each confidence level ``c`` the central Gaussian interval
    ``y_mean ± z * y_std`` with ``z = norm.ppf((1 + c) / 2)`` is formed, and
    the fraction of `y_true` inside it is plotted against ``c``. A perfectly
    calibrated model lies on the diagonal; a curve below the diagonal means
    the intervals are too narrow (over-confident).

    Call it several times with the same `ax` and different `label` values to
    compare several predictive standard deviations on one diagram; the
    diagonal is drawn only once.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True target values.

    y_mean : array-like of shape (n_samples,), default=None
        Predictive means. Must be given together with `y_std` unless
        `estimator` is given.

    y_std : array-like of shape (n_samples,), default=None
        Predictive standard deviations, non-negative.

    estimator : estimator instance, default=None
        Fitted regressor whose ``predict(X, return_std=True)`` returns
        ``(y_mean, y_std)``. Mutually exclusive with `y_mean` and `y_std`.

    X : array-like of shape (n_samples, n_features), default=None
        Input samples passed to `estimator`. Required when `estimator` is
        given.

    confidences : array-like of shape (n_levels,), default=None
        Confidence levels, strictly between 0 and 1. Defaults to
        ``np.linspace(0.05, 0.95, 19)``.

    ax : matplotlib Axes, default=None
        Axes to draw on. If None, a new figure and axes are created.

    label : str, default=None
        Legend label of the coverage curve. Defaults to ``"model"``.

    Returns
    -------
    fig : matplotlib Figure
        The figure of `ax` (``ax.figure``).

    Raises
    ------
    ValueError
        If both arrays and an estimator are given, or neither, if the arrays
        are invalid, or if a confidence level is not in (0, 1).

    See Also
    --------
    plot_uncertainty_panels : Residuals, predicted vs true and std histogram.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_mcdropout.plotting import plot_reliability_diagram
    >>> rng = np.random.default_rng(0)
    >>> y_true = rng.normal(size=200)
    >>> y_mean = np.zeros(200)
    >>> fig = plot_reliability_diagram(y_true, y_mean, np.full(200, 0.5),
    ...                                label="too narrow")
    >>> fig = plot_reliability_diagram(y_true, y_mean, np.ones(200),
    ...                                ax=fig.axes[0], label="calibrated")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['perfect calibration', 'too narrow', 'calibrated']
    >>> plt.close(fig)
    """
    y_mean, y_std = _resolve_predictions(y_mean, y_std, estimator, X)
    y_true, y_mean, y_std, _ = _check_gaussian_inputs(y_true, y_mean, y_std)
    confidences = _check_confidences(confidences)
    plt = _import_pyplot()

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5.5), layout="constrained")

    coverage = _observed_coverage(y_true, y_mean, y_std, confidences)

    _draw_diagonal(ax)
    ax.plot(
        confidences,
        coverage,
        marker="o",
        markersize=4,
        label="model" if label is None else label,
    )
    return _finish_unit_square(
        ax, "expected confidence level", "observed coverage", "Reliability diagram"
    )


def plot_confidence_diagram(
    y_true,
    y_proba=None,
    *,
    estimator=None,
    X=None,
    labels=None,
    n_bins=10,
    ax=None,
    label=None,
):
    """Plot a classifier's accuracy against its confidence, per confidence bin.

    The reliability diagram of classification (Guo et al. 2017): predictions
    are binned by their confidence (the largest class probability) into
    ``n_bins`` equal-width bins; each bin's accuracy is plotted at its mean
    confidence, with the share of samples as marker area. A calibrated
    classifier lies on the diagonal; points below it are over-confident. The
    legend gives the expected calibration error.

    Call it several times with the same `ax` and different `label` values to
    compare classifiers; the diagonal is drawn only once.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.

    y_proba : array-like of shape (n_samples, n_classes), default=None
        Predicted class probabilities, one column per label of `labels`.
        Required unless `estimator` is given.

    estimator : estimator instance, default=None
        Fitted classifier with ``predict_proba`` and ``classes_``. Mutually
        exclusive with `y_proba`.

    X : array-like of shape (n_samples, n_features), default=None
        Input samples passed to `estimator`. Required when `estimator` is
        given.

    labels : array-like of shape (n_classes,), default=None
        The sorted labels of the columns of `y_proba`; the estimator's
        ``classes_`` when `estimator` is given, else the labels of `y_true`.

    n_bins : int, default=10
        Number of confidence bins.

    ax : matplotlib Axes, default=None
        Axes to draw on. If None, a new figure and axes are created.

    label : str, default=None
        Legend label of the curve. Defaults to ``"model"``.

    Returns
    -------
    fig : matplotlib Figure
        The figure of `ax` (``ax.figure``).

    See Also
    --------
    sklearn_mcdropout.metrics.expected_calibration_error : The error shown.
    sklearn.calibration.CalibrationDisplay : The positive class's frequency
        against its probability, for binary classifiers.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_mcdropout.plotting import plot_confidence_diagram
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=1000).fit(X, y)
    >>> fig = plot_confidence_diagram(y, estimator=clf, X=X, label="logistic")
    >>> fig.axes[0].get_xlabel()
    'confidence (largest class probability)'
    >>> plt.close(fig)
    """
    if estimator is not None:
        if y_proba is not None:
            raise ValueError("Pass either y_proba, or estimator and X, not both.")
        if X is None:
            raise ValueError("X is required when estimator is given.")
        y_proba = estimator.predict_proba(X)
        labels = estimator.classes_ if labels is None else labels
    elif X is not None:
        raise ValueError("X is only used together with estimator.")
    elif y_proba is None:
        raise ValueError(
            "Pass either y_proba, or a fitted estimator and X; got neither."
        )
    ece = expected_calibration_error(y_true, y_proba, n_bins=n_bins, labels=labels)
    index, y_proba = _check_labelled_proba(y_true, y_proba, labels)
    accuracy, confidence, counts = _confidence_bins(index, y_proba, n_bins)
    filled = counts > 0
    plt = _import_pyplot()

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5.5), layout="constrained")
    _draw_diagonal(ax)
    (line,) = ax.plot(
        confidence[filled],
        accuracy[filled],
        label=f"{'model' if label is None else label} (ECE {ece:.3f})",
    )
    share = counts[filled] / counts.sum()
    ax.scatter(
        confidence[filled], accuracy[filled], s=20 + 400 * share, color=line.get_color()
    )
    return _finish_unit_square(
        ax,
        "confidence (largest class probability)",
        "accuracy",
        "Confidence reliability diagram",
    )


def plot_1d_regression(
    X_train,
    y_train,
    X_plot,
    y_mean=None,
    y_std=None,
    *,
    estimator=None,
    n_std=(1, 2),
    ax=None,
    y_true_plot=None,
):
    """Plot a 1-D regression with predictive mean and uncertainty bands.

    Draws the predictive mean over `X_plot` as a line, a shaded band of
    ``mean ± k * std`` for each ``k`` in `n_std` (darker for smaller ``k``),
    the training points as a scatter and, optionally, the true function.

    Parameters
    ----------
    X_train : array-like of shape (n_train,) or (n_train, 1)
        Training inputs (a single feature).

    y_train : array-like of shape (n_train,)
        Training targets.

    X_plot : array-like of shape (n_plot,) or (n_plot, 1)
        Inputs at which the prediction is drawn (a single feature). Need not
        be sorted.

    y_mean : array-like of shape (n_plot,), default=None
        Predictive means at `X_plot`. Must be given together with `y_std`
        unless `estimator` is given.

    y_std : array-like of shape (n_plot,), default=None
        Predictive standard deviations at `X_plot`, non-negative.

    estimator : estimator instance, default=None
        Fitted regressor; if given, ``estimator.predict(X_plot,
        return_std=True)`` provides `y_mean` and `y_std` (a 1-D `X_plot` is
        reshaped to one column first). Mutually exclusive with `y_mean` and
        `y_std`.

    n_std : float or sequence of float, default=(1, 2)
        Multiples of the standard deviation for the shaded bands; each must
        be positive.

    ax : matplotlib Axes, default=None
        Axes to draw on. If None, a new figure and axes are created.

    y_true_plot : array-like of shape (n_plot,), default=None
        True function values at `X_plot`, drawn as a dashed line if given.

    Returns
    -------
    fig : matplotlib Figure
        The figure of the axes drawn on.

    Raises
    ------
    ValueError
        If an input has more than one feature, if both arrays and an
        estimator are given, or neither, or if the arrays are invalid.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn_mcdropout.plotting import plot_1d_regression
    >>> rng = np.random.default_rng(0)
    >>> X_train = rng.uniform(-3, 3, size=(30, 1))
    >>> y_train = np.sin(X_train[:, 0]) + rng.normal(scale=0.1, size=30)
    >>> X_plot = np.linspace(-4, 4, 100)
    >>> y_mean, y_std = np.sin(X_plot), 0.1 + 0.05 * np.abs(X_plot)
    >>> fig = plot_1d_regression(X_train, y_train, X_plot, y_mean, y_std,
    ...                          y_true_plot=np.sin(X_plot))
    >>> len(fig.axes[0].collections)  # two bands and the training points
    3
    >>> plt.close(fig)
    """
    x_train = _check_1d(X_train, "X_train")
    y_train = _check_1d(y_train, "y_train")
    _check_consistent_length(X_train=x_train, y_train=y_train)
    x_plot = _check_1d(X_plot, "X_plot")

    X_for_estimator = None
    if estimator is not None:
        X_for_estimator = X_plot if np.ndim(X_plot) == 2 else x_plot.reshape(-1, 1)
    y_mean, y_std = _resolve_predictions(y_mean, y_std, estimator, X_for_estimator)
    y_mean, y_std = _validate_mean_std(y_mean, y_std, x_plot)
    if y_true_plot is not None:
        y_true_plot = _check_1d(y_true_plot, "y_true_plot")
        _check_consistent_length(X_plot=x_plot, y_true_plot=y_true_plot)

    if isinstance(n_std, numbers.Real):
        n_std = (n_std,)
    n_std = [float(k) for k in n_std]
    if any(not np.isfinite(k) or k <= 0 for k in n_std):
        raise ValueError(f"n_std values must be positive and finite, got {n_std}.")

    plt = _import_pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5), layout="constrained")

    order = np.argsort(x_plot, kind="stable")
    x_sorted, mean_sorted, std_sorted = x_plot[order], y_mean[order], y_std[order]

    ks = sorted(set(n_std))
    # Darker (more opaque) for the smallest multiple, lighter for the largest.
    alphas = np.linspace(0.45, 0.15, len(ks)) if len(ks) > 1 else [0.35]
    color = "tab:blue"
    for k, alpha in sorted(zip(ks, alphas, strict=True), reverse=True):
        ax.fill_between(
            x_sorted,
            mean_sorted - k * std_sorted,
            mean_sorted + k * std_sorted,
            color=color,
            alpha=alpha,
            linewidth=0,
            label=f"mean ± {k:g} std",
        )
    ax.plot(x_sorted, mean_sorted, color=color, linewidth=2, label="predictive mean")
    if y_true_plot is not None:
        ax.plot(
            x_sorted,
            y_true_plot[order],
            color="k",
            linestyle="--",
            linewidth=1.5,
            label="true function",
        )
    ax.scatter(
        x_train,
        y_train,
        s=15,
        color="tab:red",
        edgecolor="k",
        linewidth=0.5,
        zorder=3,
        label="training data",
    )
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Predictive mean and uncertainty bands")
    ax.legend(loc="best")
    return ax.figure
