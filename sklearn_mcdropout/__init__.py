"""Monte Carlo dropout networks with predictive uncertainty for scikit-learn."""

import importlib

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

# Public objects of the optional extras, imported on first access so that the
# package imports without them: ``from sklearn_mcdropout import
# MCDropoutProbaRegressor`` needs skpro (the skpro extra).
_LAZY = {"MCDropoutProbaRegressor": "._skpro"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_LAZY})
