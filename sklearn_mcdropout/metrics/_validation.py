"""Input checks shared by :mod:`sklearn_mcdropout.metrics` and ``plotting``.

One check per concept, and every error names the argument.
"""

import numbers

import numpy as np
from sklearn.utils.validation import check_array

_DEFAULT_CONFIDENCES = np.linspace(0.05, 0.95, 19)


def _check_1d(values, name, *, dtype=np.float64):
    """Return ``values`` as a finite, non-empty 1d array; a column is raveled.

    Numbers by default; labels with ``dtype=None``. Shape (n,) or (n, 1).
    """
    arr = check_array(
        values,
        ensure_2d=False,
        allow_nd=True,
        dtype=dtype,
        ensure_min_samples=0,
        input_name=name,
    )
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1d, of shape (n_samples,) or (n_samples, 1); "
            f"got shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must not be empty, got 0 samples")
    return arr


def _check_consistent_length(**arrays):
    """Raise unless the named arrays (None skipped) have the same length."""
    lengths = {name: len(arr) for name, arr in arrays.items() if arr is not None}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} {n}" for name, n in lengths.items())
        raise ValueError(f"inconsistent numbers of samples: {listed}")


def _check_std(y_std, name="y_std"):
    """Predictive standard deviations: 1d, finite and strictly positive."""
    y_std = _check_1d(y_std, name)
    if np.any(y_std <= 0):
        raise ValueError(f"{name} must be positive")
    return y_std


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return None
    sample_weight = _check_1d(sample_weight, "sample_weight")
    if sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {sample_weight.shape[0]} samples, expected {n_samples}"
        )
    if np.any(sample_weight < 0):
        raise ValueError("sample_weight must be non-negative")
    if not sample_weight.sum() > 0:
        raise ValueError("sample_weight must have a positive sum")
    return sample_weight


def _check_gaussian_inputs(y_true, y_mean, y_std, sample_weight=None):
    """Validate ``(y_true, y_mean, y_std[, sample_weight])``, all 1d float64."""
    y_true = _check_1d(y_true, "y_true")
    y_mean = _check_1d(y_mean, "y_mean")
    y_std = _check_std(y_std)
    _check_consistent_length(y_true=y_true, y_mean=y_mean, y_std=y_std)
    sample_weight = _check_sample_weight(sample_weight, y_true.shape[0])
    return y_true, y_mean, y_std, sample_weight


def _check_gaussian_targets(y_true, y_mean, y_std, sample_weight=None):
    """As :func:`_check_gaussian_inputs`, also of shape (n_samples, n_targets).

    1d inputs are checked as there; 2d ones (a regressor's several targets)
    must all have the same shape.
    """
    if all(np.ndim(a) < 2 or np.shape(a)[1] == 1 for a in (y_true, y_mean, y_std)):
        return _check_gaussian_inputs(y_true, y_mean, y_std, sample_weight)
    arrays = {
        name: check_array(
            values, ensure_2d=False, allow_nd=True, dtype=np.float64, input_name=name
        )
        for name, values in (("y_true", y_true), ("y_mean", y_mean), ("y_std", y_std))
    }
    shapes = {name: arr.shape for name, arr in arrays.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(
            "y_true, y_mean and y_std of several targets must have one shape "
            f"(n_samples, n_targets); got {listed}"
        )
    if np.any(arrays["y_std"] <= 0):
        raise ValueError("y_std must be positive")
    n_samples = shapes["y_true"][0]
    sample_weight = _check_sample_weight(sample_weight, n_samples)
    return (*arrays.values(), sample_weight)


def _check_confidences(confidences, name="confidences"):
    """Confidence levels as a 1d float64 copy, each in the open interval (0, 1).

    None gives the default grid ``np.linspace(0.05, 0.95, 19)``.
    """
    if confidences is None:
        return _DEFAULT_CONFIDENCES.copy()
    levels = _check_1d(confidences, name).copy()
    if np.any((levels <= 0) | (levels >= 1)):
        raise ValueError(f"{name} must be in (0, 1), got {levels.tolist()}")
    return levels


def _check_confidence(confidence):
    """One confidence level, a real number in (0, 1), as a float."""
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return float(_check_confidences([confidence], "confidence")[0])


def _check_tau(tau):
    if (
        isinstance(tau, bool)
        or not isinstance(tau, numbers.Real)
        or not np.isfinite(tau)
        or tau <= 0
    ):
        raise ValueError(f"tau must be a positive finite scalar, got {tau!r}")
    return float(tau)


def _check_n_bins(n_bins):
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral):
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    if n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    return int(n_bins)


def _check_proba(proba, name, ndims):
    """Float64 probabilities of one of the ``ndims``; rows must sum to 1."""
    proba = check_array(
        proba, ensure_2d=False, allow_nd=True, dtype=np.float64, input_name=name
    )
    if proba.ndim not in ndims:
        shapes = " or ".join(
            {2: "(n_samples, n_classes)", 3: "(n_samples, n_passes, n_classes)"}[d]
            for d in ndims
        )
        raise ValueError(f"{name} must have shape {shapes}, got shape {proba.shape}")
    if np.any(proba < 0) or np.any(proba > 1):
        raise ValueError(f"{name} must hold probabilities in [0, 1]")
    if not np.allclose(proba.sum(axis=-1), 1, rtol=0, atol=1e-6):
        raise ValueError(f"the probabilities of {name} must sum to 1 over classes")
    return proba


def _check_labelled_proba(y_true, y_proba, labels):
    """Column index of each y_true in y_proba, and y_proba as float64."""
    y_proba = _check_proba(y_proba, "y_proba", (2,))
    y_true = _check_1d(y_true, "y_true", dtype=None)
    _check_consistent_length(y_true=y_true, y_proba=y_proba)
    labels = np.unique(y_true) if labels is None else np.asarray(labels)
    if labels.ndim != 1 or len(labels) != y_proba.shape[1]:
        raise ValueError(
            f"y_proba has {y_proba.shape[1]} columns but there are "
            f"{len(labels)} labels {labels.tolist()!r}; pass labels= in the "
            "order of the columns (e.g. estimator.classes_)."
        )
    if np.any(labels[1:] <= labels[:-1]):
        raise ValueError("labels must be sorted and unique, as classes_ is")
    index = np.searchsorted(labels, y_true).clip(max=len(labels) - 1)
    unknown = labels[index] != y_true
    if np.any(unknown):
        raise ValueError(
            f"y_true has labels not in labels: {np.unique(y_true[unknown]).tolist()}"
        )
    return index, y_proba


def _predict_mean_std(estimator, X):
    """``estimator.predict(X, return_std=True)``, checked to be a pair."""
    prediction = estimator.predict(X, return_std=True)
    if not (isinstance(prediction, tuple) and len(prediction) == 2):
        raise ValueError(
            "estimator.predict(X, return_std=True) must return a (y_mean, y_std) tuple"
        )
    return prediction
