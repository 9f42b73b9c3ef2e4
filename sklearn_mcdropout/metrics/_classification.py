"""Uncertainty from the class probabilities of the passes, and their scores."""

import numpy as np
from scipy.special import entr

from ._validation import _check_labelled_proba, _check_n_bins, _check_proba


def _entropy(proba):
    """Entropy in nats over the last axis, 0 log 0 = 0."""
    return entr(proba).sum(axis=-1)


def predictive_entropy(y_proba):
    """Entropy of the predictive class distribution: the total uncertainty.

    ``H[p] = -sum_c p_c log p_c`` (nats) of the predictive distribution; given
    the passes, of their mean. 0 for a certain prediction, ``log(n_classes)``
    for a uniform one.

    Parameters
    ----------
    y_proba : array-like of shape (n_samples, n_classes) or \
            (n_samples, n_passes, n_classes)
        Predictive class probabilities, or the probabilities of each pass
        (``MCDropoutClassifier.predict_proba_passes``), averaged first.

    Returns
    -------
    entropy : ndarray of shape (n_samples,)
        Predictive entropy of each sample, in nats.

    See Also
    --------
    expected_entropy : Its aleatoric part.
    mutual_information : Its epistemic part.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mcdropout.metrics import predictive_entropy
    >>> predictive_entropy([[1.0, 0.0], [0.5, 0.5]]).round(4)
    array([0.    , 0.6931])
    """
    y_proba = _check_proba(y_proba, "y_proba", (2, 3))
    if y_proba.ndim == 3:
        y_proba = y_proba.mean(axis=1)
    return _entropy(y_proba)


def expected_entropy(proba_passes):
    """Mean entropy of the passes: the aleatoric part of the uncertainty.

    ``(1/T) sum_t H[p_t]``: high where every pass is unsure (overlapping
    classes), whatever their agreement.

    Parameters
    ----------
    proba_passes : array-like of shape (n_samples, n_passes, n_classes)
        Class probabilities of each pass.

    Returns
    -------
    entropy : ndarray of shape (n_samples,)
        Expected entropy of each sample, in nats.

    See Also
    --------
    predictive_entropy : The total uncertainty.
    mutual_information : The epistemic part.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mcdropout.metrics import expected_entropy
    >>> passes = [[[1.0, 0.0], [0.0, 1.0]]]  # two confident passes, disagreeing
    >>> expected_entropy(passes)
    array([0.])
    """
    proba_passes = _check_proba(proba_passes, "proba_passes", (3,))
    return _entropy(proba_passes).mean(axis=1)


def mutual_information(proba_passes):
    """Mutual information of prediction and weights: the epistemic part.

    ``predictive_entropy - expected_entropy`` (nats), the BALD acquisition
    score of Houlsby et al. (2011) as used with MC dropout by Gal et al.
    (2017): large where the passes are each confident but disagree, 0 where
    they all agree.

    Parameters
    ----------
    proba_passes : array-like of shape (n_samples, n_passes, n_classes)
        Class probabilities of each pass.

    Returns
    -------
    information : ndarray of shape (n_samples,)
        Mutual information of each sample, in nats, non-negative.

    See Also
    --------
    predictive_entropy : The total uncertainty.
    expected_entropy : The aleatoric part.

    References
    ----------
    .. [1] N. Houlsby, F. Huszár, Z. Ghahramani and M. Lengyel, "Bayesian
       Active Learning for Classification and Preference Learning", 2011.
    .. [2] Y. Gal, R. Islam and Z. Ghahramani, "Deep Bayesian Active
       Learning with Image Data", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mcdropout.metrics import mutual_information
    >>> passes = [[[1.0, 0.0], [0.0, 1.0]]]  # two confident passes, disagreeing
    >>> mutual_information(passes).round(4)
    array([0.6931])
    """
    proba_passes = _check_proba(proba_passes, "proba_passes", (3,))
    total = _entropy(proba_passes.mean(axis=1))
    return np.maximum(total - _entropy(proba_passes).mean(axis=1), 0)


def variation_ratio(proba_passes):
    """Fraction of passes that do not vote for the most voted class.

    Each pass votes for its most probable class; the variation ratio is
    ``1 - (votes of the modal class) / n_passes`` (Freeman 1965; Gal 2016,
    Section 3.3.1): 0 when all passes agree.

    Parameters
    ----------
    proba_passes : array-like of shape (n_samples, n_passes, n_classes)
        Class probabilities of each pass.

    Returns
    -------
    ratio : ndarray of shape (n_samples,)
        Variation ratio of each sample, in [0, 1 - 1 / n_classes].

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mcdropout.metrics import variation_ratio
    >>> passes = [[[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.7, 0.3]]]
    >>> variation_ratio(passes)
    array([0.25])
    """
    proba_passes = _check_proba(proba_passes, "proba_passes", (3,))
    n_classes = proba_passes.shape[2]
    votes = np.eye(n_classes)[proba_passes.argmax(axis=2)].sum(axis=1)
    return 1 - votes.max(axis=1) / proba_passes.shape[1]


def brier_score(y_true, y_proba, *, labels=None):
    """Multi-class Brier score: mean squared error of the class probabilities.

    ``(1/n) sum_i sum_c (p_ic - 1[y_i = c])**2`` (Brier 1950), a proper
    scoring rule between 0 (certain and right) and 2 (certain and wrong). For
    two classes it is twice scikit-learn's
    :func:`~sklearn.metrics.brier_score_loss`, which scores the positive
    class only.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.

    y_proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities, one column per label of ``labels``.

    labels : array-like of shape (n_classes,), default=None
        The sorted labels of the columns (``estimator.classes_``). If None,
        the labels in ``y_true``, which must then all occur.

    Returns
    -------
    score : float
        The Brier score; lower is better.

    See Also
    --------
    sklearn.metrics.log_loss : The negative log-likelihood, another proper
        scoring rule.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import brier_score
    >>> round(brier_score(["a", "b"], [[0.8, 0.2], [0.5, 0.5]]), 3)
    0.29
    """
    index, y_proba = _check_labelled_proba(y_true, y_proba, labels)
    one_hot = np.eye(y_proba.shape[1])[index]
    return float(np.mean(np.sum((y_proba - one_hot) ** 2, axis=1)))


def expected_calibration_error(y_true, y_proba, *, n_bins=15, labels=None):
    """Expected calibration error of the most probable class.

    Predictions are binned by their confidence (the largest probability)
    into ``n_bins`` equal-width bins of [0, 1]; the error is the mean, over
    bins weighted by their share of samples, of ``|accuracy - mean
    confidence|`` (Naeini et al. 2015; Guo et al. 2017). 0 for a
    calibrated classifier. It is not a proper score: refit searches on
    :func:`~sklearn.metrics.log_loss` or :func:`brier_score`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.

    y_proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities, one column per label of ``labels``.

    n_bins : int, default=15
        Number of confidence bins.

    labels : array-like of shape (n_classes,), default=None
        The sorted labels of the columns (``estimator.classes_``). If None,
        the labels in ``y_true``, which must then all occur.

    Returns
    -------
    error : float
        Expected calibration error, in [0, 1].

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of
       Modern Neural Networks", ICML 2017.

    Examples
    --------
    >>> from sklearn_mcdropout.metrics import expected_calibration_error
    >>> y_proba = [[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.4, 0.6]]
    >>> round(expected_calibration_error([0, 1, 1, 1], y_proba, n_bins=5), 3)
    0.35
    """
    return _calibration_bins(y_true, y_proba, n_bins, labels)[3]


def _calibration_bins(y_true, y_proba, n_bins, labels):
    """Per confidence bin accuracy, mean confidence (NaN if empty), count; ECE."""
    n_bins = _check_n_bins(n_bins)
    index, y_proba = _check_labelled_proba(y_true, y_proba, labels)
    accuracy, confidence, counts = _confidence_bins(index, y_proba, n_bins)
    weights = counts / counts.sum()
    gaps = np.abs(np.nan_to_num(accuracy) - np.nan_to_num(confidence))
    return accuracy, confidence, counts, float(np.sum(weights * gaps))


def _confidence_bins(index, y_proba, n_bins):
    """Per confidence bin: accuracy, mean confidence (NaN if empty), count."""
    confidence = y_proba.max(axis=1)
    correct = y_proba.argmax(axis=1) == index
    # Bin b holds confidences in (edge_b, edge_b+1]; 0 joins bin 0.
    edges = np.linspace(0, 1, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], confidence, side="left")
    counts = np.bincount(bins, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore"):
        accuracy = np.bincount(bins, weights=correct, minlength=n_bins) / counts
        mean_conf = np.bincount(bins, weights=confidence, minlength=n_bins) / counts
    return accuracy, mean_conf, counts
