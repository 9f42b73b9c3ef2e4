"""The three panels of the reference report: residuals, predictions, std."""

import numpy as np

from ..metrics._validation import _check_gaussian_inputs
from ._base import _REFERENCE_LINE_STYLE, _get_axes_grid, _predict_to_plot


def _plot_residuals(ax, y_true, residuals, style):
    """Residuals against the true value, with the line of zero residual."""
    scatter = ax.scatter(y_true, residuals, color="tab:blue", **style)
    ax.axhline(0.0, **_REFERENCE_LINE_STYLE)
    ax.set(
        xlabel="true value",
        ylabel="residual (predicted mean - true value)",
        title="Residuals",
    )
    return scatter


def _plot_predictions(ax, y_true, y_mean, y_std, style, std_label):
    """Predicted mean against the true value, coloured by the std, and y = x."""
    from matplotlib.cm import ScalarMappable

    scatter = ax.scatter(y_true, y_mean, c=y_std, cmap="viridis", **style)
    lo = min(y_true.min(), y_mean.min())
    hi = max(y_true.max(), y_mean.max())
    ax.plot([lo, hi], [lo, hi], **_REFERENCE_LINE_STYLE, label="y = x")
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
    """Histogram of the predictive std, with its mean."""
    n_bins = int(min(50, max(10, np.sqrt(len(y_std)))))
    *_, bars = ax.hist(
        y_std, bins=n_bins, color="tab:green", alpha=0.8, edgecolor="white"
    )
    mean_std = float(np.mean(y_std))
    ax.axvline(mean_std, **_REFERENCE_LINE_STYLE, label=f"mean = {mean_std:.3g}")
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
