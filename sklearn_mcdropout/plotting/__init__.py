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

from ._bands import UncertaintyBandsDisplay
from ._calibration import ConfidenceCalibrationDisplay
from ._coverage import CoverageByGroupDisplay, CoverageCurveDisplay
from ._panels import UncertaintyPanelsDisplay

__all__ = [
    "ConfidenceCalibrationDisplay",
    "CoverageByGroupDisplay",
    "CoverageCurveDisplay",
    "UncertaintyBandsDisplay",
    "UncertaintyPanelsDisplay",
]
