"""Monte Carlo dropout regression with predictive uncertainty for scikit-learn."""

from ._regressor import MCDropoutRegressor
from ._version import __version__

__all__ = ["MCDropoutRegressor", "__version__"]
