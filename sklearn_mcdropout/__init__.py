"""Monte Carlo dropout networks with predictive uncertainty for scikit-learn."""

from ._classifier import MCDropoutClassifier
from ._dask import predict_partitions
from ._datasets import load_california_housing
from ._regressor import MCDropoutRegressor
from ._version import __version__

__all__ = [
    "MCDropoutClassifier",
    "MCDropoutRegressor",
    "__version__",
    "load_california_housing",
    "predict_partitions",
]
