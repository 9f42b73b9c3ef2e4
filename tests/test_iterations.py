"""Early stopping, warm starts and partial_fit, with MLPRegressor's attributes."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from conftest import linear_data
from sklearn_mcdropout import MCDropoutClassifier, MCDropoutRegressor

ATTRIBUTES = (
    "n_iter_",
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
)


def _chain():
    return torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Dropout(0.1),
        torch.nn.Linear(8, 1),
    )  # fmt: skip


def _overfitting(**params):
    # 40 noisy rows and a wide network with little dropout: the held-out
    # loss falls, then rises as the network learns the noise.
    defaults = dict(
        hidden_layer_sizes=(256, 256),
        dropout=0.01,
        noise="homoscedastic",
        lr=1e-2,
        batch_size=8,
        max_epochs=300,
        n_passes=10,
        early_stopping=True,
        n_iter_no_change=5,
        validation_fraction=0.25,
        random_state=0,
    )
    return MCDropoutRegressor(**{**defaults, **params})


@pytest.fixture(scope="module")
def stopped():
    return _overfitting().fit(*linear_data())


@pytest.mark.parametrize("verbose", [0, 1])
def test_early_stopping_says_why_it_stopped_only_when_verbose(verbose, capsys):
    # Through skorch's print log, where verbose output goes; nothing when quiet.
    est = _overfitting(verbose=verbose).fit(*linear_data())
    assert est.n_iter_ < est.max_epochs
    out = capsys.readouterr().out
    message = "did not improve more than tol=0.0001 for 5 consecutive epochs"
    assert (message in out) == bool(verbose)
    assert (out == "") == (not verbose)


def test_early_stopping_stops_before_max_epochs(stopped):
    assert stopped.n_iter_ < stopped.max_epochs
    assert len(stopped.loss_curve_) == len(stopped.validation_scores_)
    assert len(stopped.loss_curve_) == stopped.n_iter_
    # As MLPRegressor: stop once more than n_iter_no_change epochs in a row
    # did not beat the best score by tol; the best is that many epochs back.
    scores = np.array(stopped.validation_scores_)
    best = int(np.argmax(scores))
    assert stopped.best_validation_score_ == scores[best]
    assert best == stopped.n_iter_ - stopped.n_iter_no_change - 2
    assert np.all(scores[best + 1 :] < scores[best] + stopped.tol)
    assert stopped.best_loss_ is None


def test_early_stopping_keeps_the_best_epochs_weights(stopped):
    # Training is a function of the seeds, and the held-out loss draws no
    # random numbers: the fit that ends at the best epoch has the same
    # weights as the stopped fit restored.
    best_epoch = int(np.argmax(stopped.validation_scores_)) + 1
    short = clone(stopped).set_params(max_epochs=best_epoch).fit(*linear_data())
    assert short.n_iter_ == best_epoch
    for key, value in stopped.net_.module_.state_dict().items():
        torch.testing.assert_close(value, short.net_.module_.state_dict()[key])
    X = linear_data(10, seed=1)[0]
    np.testing.assert_array_equal(stopped.predict(X), short.predict(X))


def test_without_early_stopping_the_attributes_are_mlps():
    X, y = linear_data()
    est = MCDropoutRegressor(hidden_layer_sizes=(8,), max_epochs=4, random_state=0)
    est.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPRegressor(hidden_layer_sizes=(8,), max_iter=4).fit(X, y)
    for name in ATTRIBUTES:
        assert (getattr(est, name) is None) == (getattr(mlp, name) is None), name
    assert est.n_iter_ == 4
    assert est.best_loss_ == min(est.loss_curve_)
    np.testing.assert_allclose(est.loss_curve_, est.net_.history[:, "train_loss"])


def test_with_early_stopping_the_attributes_are_mlps(stopped):
    X, y = linear_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPRegressor(max_iter=4, early_stopping=True).fit(X, y)
    for name in ATTRIBUTES:
        assert (getattr(stopped, name) is None) == (getattr(mlp, name) is None), name


def test_early_stopping_classifier():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = (X[:, 0] + rng.normal(size=60) > 0).astype(int)
    params = dict(
        hidden_layer_sizes=(256,), dropout=0.1, lr=1e-2, batch_size=8, max_epochs=300
    )
    clf = MCDropoutClassifier(
        early_stopping=True, n_iter_no_change=5, random_state=0, **params
    ).fit(X, y)
    assert clf.n_iter_ < 300
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(max_iter=3, early_stopping=True).fit(X, y)
    for name in ATTRIBUTES:
        assert (getattr(clf, name) is None) == (getattr(mlp, name) is None), name


@pytest.mark.parametrize("estimator", [MCDropoutRegressor, MCDropoutClassifier])
def test_partial_fit_refuses_early_stopping(estimator):
    X, y = linear_data()
    extra = {"classes": [0, 1]} if estimator is MCDropoutClassifier else {}
    with pytest.raises(ValueError, match="partial_fit does not support early_stop"):
        estimator(early_stopping=True).partial_fit(X, (y > 0).astype(int), **extra)


@pytest.mark.parametrize("n_members", [1, 2])
@pytest.mark.parametrize("estimator", [MCDropoutRegressor, MCDropoutClassifier])
def test_partial_fit_continues_a_fit_that_stopped_early(estimator, n_members):
    # The active-learning loop: fit with early stopping, then a few more
    # epochs with partial_fit on the grown labelled set.
    X, y = linear_data(60)
    if estimator is MCDropoutClassifier:
        y = (y > 0).astype(int)
    est = estimator(
        hidden_layer_sizes=(16,), max_epochs=5, early_stopping=True,
        n_members=n_members, random_state=0,
    ).fit(X, y)  # fmt: skip
    n_iter = est.n_iter_
    est.set_params(early_stopping=False).partial_fit(X, y)
    assert est.n_iter_ == n_iter + 1
    assert est.validation_scores_ is None
    assert "early_stopping" not in dict(est.net_.callbacks_)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"dropout": "concrete", "n_members": 2}, "cannot go with n_members"),
        ({"module": [torch.nn.Sequential(torch.nn.Linear(3, 1))]}, "Dropout"),
        ({"module": [_chain(), _chain()], "n_members": 3}, "module as a list"),
    ],
    ids=["concrete-members", "no-dropout", "list-length"],
)
def test_a_refused_refit_leaves_the_fitted_model_as_it_was(bad, match):
    # The refit validates and encodes the new data before it refuses the
    # parameters: the attributes of the fit before are restored.
    X, y = linear_data(60)
    est = MCDropoutRegressor(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
    est.fit(X, y)
    before = est.predict(X, return_std=True)
    state = dict(est.__dict__)
    params = est.get_params()
    with pytest.raises(ValueError, match=match):
        est.set_params(**bad).fit(X[:, :3], 100 * y + 50)
    assert est.__dict__.keys() == state.keys()
    assert all(est.__dict__[k] is v for k, v in state.items() if k not in params)
    est.set_params(**params)
    for a, b in zip(est.predict(X, return_std=True), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_warm_start_continues_training():
    X, y = linear_data(200)
    params = dict(hidden_layer_sizes=(32,), max_epochs=10, n_passes=10)
    est = MCDropoutRegressor(warm_start=True, random_state=0, **params).fit(X, y)
    first = list(est.loss_curve_)
    est.fit(X, y)
    assert est.n_iter_ == 20
    assert est.loss_curve_[:10] == first
    # The second fit starts where the first ended, not from a new network.
    assert est.loss_curve_[10] < first[0]
    assert est.loss_curve_[-1] < first[-1]
    cold = MCDropoutRegressor(random_state=0, **params).fit(X, y)
    assert cold.n_iter_ == 10


def test_warm_start_refuses_a_changed_architecture():
    X, y = linear_data()
    est = MCDropoutRegressor(hidden_layer_sizes=(8,), max_epochs=2, warm_start=True)
    est.fit(X, y)
    changes = ({"hidden_layer_sizes": (9,)}, {"dropout": 0.2}, {"activation": "tanh"})
    for change in changes:
        est.set_params(**change)
        with pytest.raises(ValueError, match="build a different network"):
            est.fit(X, y)
        est.set_params(hidden_layer_sizes=(8,), dropout=0.1, activation="relu")
    with pytest.raises(ValueError, match="y has 2 target"):
        est.fit(X, np.c_[y, y])
    with pytest.raises(ValueError, match="X has 4 features"):
        est.fit(X[:, :4], y)


def test_partial_fit_trains_one_epoch_per_call():
    X, y = linear_data(200)
    est = MCDropoutRegressor(hidden_layer_sizes=(32,), n_passes=10, random_state=0)
    for i in range(1, 6):
        est.partial_fit(X, y)
        assert est.n_iter_ == i
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    # The target's scale is the first call's.
    mean = est._y_train_mean
    est.partial_fit(X[:50], y[:50] + 10)
    assert est._y_train_mean == mean


def test_partial_fit_is_deterministic_and_pickles():
    X, y = linear_data(100)

    def run():
        est = MCDropoutRegressor(hidden_layer_sizes=(16,), n_passes=10, random_state=0)
        for _ in range(3):
            est.partial_fit(X, y)
        return est

    a, b = run(), run()
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    loaded = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(loaded.predict(X), a.predict(X))
    loaded.partial_fit(X, y)
    assert loaded.n_iter_ == 4


def test_partial_fit_leaves_the_global_rng_alone():
    X, y = linear_data()
    torch_state = torch.get_rng_state()
    est = MCDropoutClassifier(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(2):
        est.partial_fit(X, (y > 0).astype(int), classes=[0, 1])
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_classifier_partial_fit_classes():
    X, y = linear_data(60)
    labels = np.where(y > 0, "b", "a")
    clf = MCDropoutClassifier(hidden_layer_sizes=(8,), n_passes=10, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, labels)
    # The first call may lack a class that later rows bring.
    clf.partial_fit(X[labels == "a"], labels[labels == "a"], classes=["a", "b", "c"])
    assert clf.classes_.tolist() == ["a", "b", "c"]
    assert clf.predict_proba(X).shape == (60, 3)
    clf.partial_fit(X, labels)
    with pytest.raises(ValueError, match=r"labels \['d'\] that are not in classes_"):
        clf.partial_fit(X[:3], ["a", "b", "d"])
    with pytest.raises(ValueError, match="is not classes_"):
        clf.partial_fit(X, labels, classes=["a", "b"])
    for _ in range(20):
        clf.partial_fit(X, labels)
    assert clf.loss_curve_[-1] < clf.loss_curve_[1]


def test_learned_rates_go_on_training_in_partial_fit():
    # ConcreteDropout rates are weights: a continued fit keeps training them
    # (with the KL term, whose N is the current training set's size).
    X, y = linear_data(100)
    est = MCDropoutRegressor(
        hidden_layer_sizes=(16,), dropout="concrete", tau=10.0, random_state=0
    )
    est.partial_fit(X, y)
    first = est.dropout_.copy()
    for _ in range(5):
        est.partial_fit(X[:80], y[:80])
    assert not np.array_equal(est.dropout_, first)
    assert est.net_.regulariser.n_train == 80  # a numeric tau holds out no rows
