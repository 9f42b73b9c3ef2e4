"""Predictive mean and uncertainty bands of a regression on one feature."""

import numpy as np

from ..metrics._validation import _check_1d, _check_consistent_length, _check_std
from ._base import _get_axes, _predict_to_plot


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


_DATA_POINTS_STYLE = {
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
            self.scatter_ = ax.scatter(self.x, self.y, **_DATA_POINTS_STYLE)
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
        x = _check_1d(X, "X")
        X_plot = np.linspace(x.min(), x.max(), 200) if X_plot is None else X_plot
        x_plot = _check_1d(X_plot, "X_plot")
        X_predict = X_plot if np.ndim(X_plot) == 2 else x_plot[:, np.newaxis]
        y_mean, y_std = _predict_to_plot(estimator, X_predict)
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
