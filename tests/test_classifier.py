"""MCDropoutClassifier: the MC predictive, labels, uncertainty and scorers."""

import warnings

import numpy as np
import pytest
import torch
from scipy.special import xlogy
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from conftest import assert_rows_predicted_alike, blobs
from sklearn_mcdropout import MCDropoutClassifier
from sklearn_mcdropout._mc import _pass_seed
from sklearn_mcdropout.metrics import (
    brier_score,
    expected_calibration_error,
    expected_entropy,
    mutual_information,
    neg_brier_score_scorer,
    neg_expected_calibration_error_scorer,
    predictive_entropy,
    variation_ratio,
)


def _clf(**params):
    defaults = dict(hidden_layer_sizes=(32,), max_epochs=40, n_passes=30)
    return MCDropoutClassifier(**{**defaults, "random_state": 0, **params})


@pytest.fixture(scope="module")
def fitted():
    X, y = blobs()
    return _clf().fit(X, y), X, y


def test_proba_is_mean_of_pass_softmaxes(fitted):
    clf, X, _ = fitted
    proba = clf.predict_proba(X)
    passes = clf.predict_proba_passes(X)
    assert passes.shape == (len(X), clf.n_passes, 3)
    np.testing.assert_allclose(passes.sum(axis=2), 1, atol=1e-12)
    np.testing.assert_allclose(proba, passes.mean(axis=1), atol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-12)
    assert not np.allclose(passes[:, 0], passes[:, 1])  # the passes differ
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))
    assert clf.score(*fitted[1:]) > 0.85


def test_pass_softmax_matches_network_with_shared_mask(fitted):
    # Pass t: softmax(W2 diag(z_t) / (1 - p) relu(W1 x + b1) + b2), one mask
    # z_t for all rows, drawn from the generator seeded with (seed, t).
    clf, X, _ = fitted
    lin1, _, drop, lin2 = clf.net_.module_
    passes = clf.predict_proba_passes(X)
    with torch.no_grad():
        hidden = torch.relu(lin1(torch.as_tensor(X, dtype=torch.float32)))
        for t in range(clf.n_passes):
            gen = torch.Generator().manual_seed(_pass_seed(clf._mask_seed, t))
            keep = torch.rand(hidden.shape[1], generator=gen) >= drop.p
            expected = torch.softmax(lin2(hidden * keep / (1 - drop.p)), dim=1)
            np.testing.assert_allclose(passes[:, t], expected.numpy(), atol=1e-6)


def test_row_alone_batch_and_shuffled_agree(fitted):
    clf, X, _ = fitted
    perm = np.random.default_rng(1).permutation(len(X))
    assert_rows_predicted_alike(clf.predict_proba, X, [perm, [3]], atol=1e-7)


def test_uncertainty_matches_metrics_on_the_passes(fitted):
    clf, X, _ = fitted
    unc = clf.predict_uncertainty(X)
    passes = clf.predict_proba_passes(X)
    np.testing.assert_allclose(unc.predictive_entropy, predictive_entropy(passes))
    np.testing.assert_allclose(
        unc.expected_entropy, expected_entropy(passes), atol=1e-12
    )
    np.testing.assert_allclose(
        unc.mutual_information, mutual_information(passes), atol=1e-12
    )
    np.testing.assert_allclose(unc.variation_ratio, variation_ratio(passes))
    # By hand: the entropy of the mean softmax, the mean entropy of the
    # passes' softmaxes, and the mutual information their difference.
    entropy = -xlogy(passes.mean(axis=1), passes.mean(axis=1)).sum(axis=1)
    mean_entropy = -xlogy(passes, passes).sum(axis=2).mean(axis=1)
    np.testing.assert_allclose(unc.predictive_entropy, entropy, atol=1e-12)
    np.testing.assert_allclose(unc.expected_entropy, mean_entropy, atol=1e-12)
    np.testing.assert_allclose(
        unc.mutual_information, entropy - mean_entropy, atol=1e-12
    )
    np.testing.assert_allclose(
        unc.predictive_entropy, unc.expected_entropy + unc.mutual_information
    )
    assert np.all(unc.predictive_entropy <= np.log(3) + 1e-12)
    assert unc.mutual_information.max() > 0


@pytest.mark.parametrize(
    "labels",
    [
        np.array([-3, 10, 42]),
        np.array(["cat", "dog", "eel"], dtype=object),
        np.array(["cat", "dog", "eel"]),
        np.array([1.0, 2.0, 7.0]),
    ],
    ids=["non-contiguous int", "object str", "unicode str", "integral float"],
)
def test_labels_of_any_kind_give_the_same_model(fitted, labels):
    clf, X, y = fitted
    relabelled = _clf().fit(X, labels[y])
    np.testing.assert_array_equal(relabelled.classes_, np.sort(labels))
    np.testing.assert_allclose(relabelled.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(relabelled.predict(X), labels[clf.predict(X)])


def test_binary_labels():
    X, y = blobs(n_classes=2)
    labels = np.array(["no", "yes"])[y]
    clf = _clf().fit(X, labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert clf.score(X, labels) > 0.85
    assert np.all(clf.predict_uncertainty(X).predictive_entropy <= np.log(2) + 1e-12)


def test_one_class_and_continuous_targets_are_refused():
    X, _ = blobs(30)
    with pytest.raises(ValueError, match="at least 2 classes"):
        _clf().fit(X, np.zeros(30))
    with pytest.raises(ValueError, match="Unknown label type"):
        _clf().fit(X, np.linspace(0, 1, 30))


def test_custom_module_must_return_one_logit_per_class():
    X, y = blobs(40)
    bad = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 1))
    with pytest.raises(ValueError, match=r"logits of shape \(n, n_classes\)"):
        _clf(module=bad).fit(X, y)
    good = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 3))
    proba = _clf(module=good).fit(X, y).predict_proba(X)
    assert proba.shape == (40, 3)


def test_fit_is_reproducible_and_leaves_global_rng():
    X, y = blobs(60)
    torch.manual_seed(123)
    np.random.seed(5)  # noqa: NPY002 (the legacy global state must stay as is)
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()  # noqa: NPY002
    a = _clf(max_epochs=5).fit(X, y).predict_proba(X)
    b = _clf(max_epochs=5).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == np_state[1].tolist()  # noqa: NPY002


def test_zero_dropout_warns_and_has_no_epistemic_part():
    X, y = blobs(60)
    with pytest.warns(UserWarning, match="mutual information and the variation"):
        clf = _clf(dropout=0.0, max_epochs=5).fit(X, y)
    unc = clf.predict_uncertainty(X)
    np.testing.assert_allclose(unc.mutual_information, 0, atol=1e-12)
    np.testing.assert_array_equal(unc.variation_ratio, 0)


def test_pipeline_grid_search_with_probability_scorers():
    X, y = blobs(120)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), _clf(max_epochs=15, n_passes=10)),
        {"mcdropoutclassifier__dropout": [0.05, 0.3]},
        scoring={
            "nll": "neg_log_loss",
            "brier": neg_brier_score_scorer,
            "ece": neg_expected_calibration_error_scorer,
        },
        refit="nll",
        cv=3,
    ).fit(X, y)
    for key in ("nll", "brier", "ece"):
        assert np.all(search.cv_results_[f"mean_test_{key}"] <= 0)
    proba = search.predict_proba(X)
    assert np.isclose(
        -neg_brier_score_scorer(search.best_estimator_, X, y), brier_score(y, proba)
    )
    assert search.best_estimator_.predict_proba(X).shape == (120, 3)
    assert log_loss(y, proba) < np.log(3)


def test_scorer_labels_columns_with_classes_when_a_class_is_missing(fitted):
    clf, X, y = fitted
    only_two = y != 2
    proba = clf.predict_proba(X[only_two])
    expected = brier_score(y[only_two], proba, labels=clf.classes_)
    assert neg_brier_score_scorer(clf, X[only_two], y[only_two]) == -expected
    with pytest.raises(ValueError, match="pass labels="):
        brier_score(y[only_two], proba)


def test_uncertainty_metrics_against_hand_computation():
    # Two samples, three passes, two classes.
    passes = np.array(
        [
            [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]],
            [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]],
        ]
    )

    def h(p):
        return -sum(q * np.log(q) for q in p if q > 0)

    mean0 = [0.6, 0.4]
    expected0 = (h([0.9, 0.1]) + h([0.6, 0.4]) + h([0.3, 0.7])) / 3
    np.testing.assert_allclose(predictive_entropy(passes), [h(mean0), np.log(2)])
    np.testing.assert_allclose(expected_entropy(passes), [expected0, np.log(2)])
    np.testing.assert_allclose(
        mutual_information(passes), [h(mean0) - expected0, 0], atol=1e-15
    )
    # Votes: class 0, 0, 1 -> 1 - 2/3; ties vote for the first class.
    np.testing.assert_allclose(variation_ratio(passes), [1 / 3, 0])
    np.testing.assert_allclose(predictive_entropy([[1.0, 0.0]]), [0.0])


def test_brier_and_calibration_error_against_hand_computation():
    y_true = np.array(["a", "b", "b", "c"])
    y_proba = np.array(
        [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6]]
    )
    rows = [
        0.3**2 + 0.2**2 + 0.1**2,
        0.1**2 + 0.2**2 + 0.1**2,
        0.5**2 + 0.6**2 + 0.1**2,
        0.2**2 + 0.2**2 + 0.4**2,
    ]
    assert np.isclose(brier_score(y_true, y_proba), np.mean(rows))
    # 2 bins: (0, 0.5] holds the third row (conf 0.5, wrong: acc 0); (0.5, 1]
    # the others (conf 0.7, 0.8, 0.6, all right: acc 1).
    expected = 0.25 * abs(0 - 0.5) + 0.75 * abs(1 - (0.7 + 0.8 + 0.6) / 3)
    assert np.isclose(expected_calibration_error(y_true, y_proba, n_bins=2), expected)
    perfect = np.eye(3)[[0, 1, 1, 2]]
    assert expected_calibration_error(y_true, perfect) == 0
    assert brier_score(y_true, perfect) == 0


@pytest.mark.parametrize(
    ("func", "args", "match"),
    [
        (predictive_entropy, ([0.5, 0.5],), "must have shape"),
        (expected_entropy, ([[0.5, 0.5]],), "must have shape"),
        (mutual_information, ([[[0.7, 0.7]]],), "must sum to 1"),
        (variation_ratio, ([[[1.2, -0.2]]],), r"probabilities in \[0, 1\]"),
        (brier_score, ([0, 1], [[0.5, 0.5]]), "inconsistent numbers of samples"),
        (brier_score, ([0, 5], [[0.5, 0.5], [0.5, 0.5]], [0, 1]), "not in labels"),
        (brier_score, ([0, 1], [[0.5, 0.5], [0.5, 0.5]], [1, 0]), "sorted"),
    ],
)
def test_classification_metrics_refuse_bad_input(func, args, match):
    if func is brier_score and len(args) == 3:
        args, kwargs = args[:2], {"labels": args[2]}
    else:
        kwargs = {}
    with pytest.raises(ValueError, match=match):
        func(*args, **kwargs)


def test_calibration_error_refuses_bad_bins():
    with pytest.raises(ValueError, match="n_bins must be a positive integer"):
        expected_calibration_error([0, 1], [[0.5, 0.5], [0.5, 0.5]], n_bins=0)


def test_predict_does_not_warn(fitted):
    clf, X, _ = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.predict(X)
        clf.predict_uncertainty(X)
