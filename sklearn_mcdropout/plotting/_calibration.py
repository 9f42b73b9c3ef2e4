"""Reliability diagram of a classifier's confidence."""

import numpy as np

from ..metrics._classification import _calibration_bins
from ._base import (
    _estimator_name,
    _finish_unit_square,
    _predict_to_plot,
    _reliability_axes,
)


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
        return cls.from_predictions(
            y,
            _predict_to_plot(estimator, X, proba=True),
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
