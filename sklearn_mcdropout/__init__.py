"""Monte Carlo dropout networks with predictive uncertainty for scikit-learn."""

from ._base import MAX_ABS_INPUT, MAX_STORED_PASS_VALUES
from ._classifier import MCDropoutClassifier
from ._concrete import ConcreteDropout
from ._dask import predict_partitions
from ._datasets import load_california_housing
from ._regressor import MAX_COV_SAMPLES, MCDropoutRegressor
from ._version import __version__

__all__ = [
    "MAX_ABS_INPUT",
    "MAX_COV_SAMPLES",
    "MAX_STORED_PASS_VALUES",
    "ConcreteDropout",
    "MCDropoutClassifier",
    "MCDropoutRegressor",
    "__version__",
    "load_california_housing",
    "predict_partitions",
]
