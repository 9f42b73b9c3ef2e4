"""sample_weight: against repeated and removed rows, and through metadata routing."""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.metrics import get_scorer
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import sine_data
from sklearn_mcdropout import MCDropoutClassifier, MCDropoutRegressor


def _regressor(**params):
    defaults = dict(
        hidden_layer_sizes=(32,), dropout=0.1, noise="homoscedastic", max_epochs=60,
        n_passes=30, tau=100.0, weight_decay=1e-4, lr=3e-3,
    )  # fmt: skip
    return MCDropoutRegressor(**{**defaults, **params})


def _rms(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_integer_weights_match_repeated_rows_within_the_noise_of_two_seeds():
    # Every x has two rows, sin(2x) + 0.5 of weight 3 and sin(2x) - 0.5 of
    # weight 1: the weighted least-squares fit is sin(2x) + 0.25, the
    # unweighted one sin(2x). Weight 3 and 3 copies of a row give the same
    # loss, target standardisation and weight decay, but not the same
    # training: copies get their own dropout masks and batch slots, and an
    # epoch over them has twice the batches. After 300 epochs both have
    # converged, and what is left is training noise, of the size of what a
    # new seed changes. Tolerance: the weighted fit must be as close to the
    # repeated-rows fit as two repeated-rows fits with seeds 0 and 1 are to
    # each other, with a margin of 1.5 (that spread is itself one draw), and
    # the unweighted fit, which ignores the weights, twice as far.
    x = np.random.default_rng(0).uniform(-2, 2, size=100)
    X = np.r_[x, x].reshape(-1, 1)
    y = np.sin(2 * X[:, 0]) + np.r_[np.full(100, 0.5), np.full(100, -0.5)]
    w = np.r_[np.full(100, 3), np.full(100, 1)]
    X_rep, y_rep = np.repeat(X, w, axis=0), np.repeat(y, w)
    X_test = np.linspace(-1.9, 1.9, 100).reshape(-1, 1)
    params = dict(max_epochs=300, n_passes=30)
    weighted = _regressor(random_state=0, **params).fit(X, y, sample_weight=w)
    repeated = [_regressor(random_state=s, **params).fit(X_rep, y_rep) for s in (0, 1)]
    unweighted = _regressor(random_state=0, **params).fit(X, y)
    pred = weighted.predict(X_test)
    pred_rep = [r.predict(X_test) for r in repeated]
    seed_noise = _rms(pred_rep[0], pred_rep[1])
    assert _rms(pred, pred_rep[0]) <= 1.5 * seed_noise
    assert _rms(unweighted.predict(X_test), pred_rep[0]) > 2 * seed_noise
    # The closed form: the weighted mean of the two rows, sin(2x) + 0.25.
    offset = pred - np.sin(2 * X_test[:, 0])
    assert abs(offset.mean() - 0.25) < 0.05
    np.testing.assert_allclose(weighted._y_train_mean, y_rep.mean())
    np.testing.assert_allclose(weighted._y_scale, y_rep.std())


@pytest.mark.parametrize("estimator", [MCDropoutRegressor, MCDropoutClassifier])
def test_zero_weights_are_removed_rows(estimator):
    # Rows of weight 0 are dropped before anything is drawn: the fit is the
    # fit without them, to the float.
    X, y = sine_data(60, n_features=2, frequency=2)
    if estimator is MCDropoutClassifier:
        y = (y > 0).astype(int)
    w = np.tile([1.0, 0.0, 2.0], 20)
    params = dict(hidden_layer_sizes=(16,), max_epochs=5, n_passes=10, random_state=0)
    kept = w > 0
    with_zeros = estimator(**params).fit(X, y, sample_weight=w)
    removed = estimator(**params).fit(X[kept], y[kept], sample_weight=w[kept])
    method = "predict" if estimator is MCDropoutRegressor else "predict_proba"
    np.testing.assert_array_equal(
        getattr(with_zeros, method)(X), getattr(removed, method)(X)
    )


def test_equal_weights_are_no_weights():
    X, y = sine_data(60, n_features=2, frequency=2)
    params = dict(hidden_layer_sizes=(16,), max_epochs=5, n_passes=10, random_state=0)
    plain = MCDropoutRegressor(**params).fit(X, y)
    ones = MCDropoutRegressor(**params).fit(X, y, sample_weight=np.ones(60))
    np.testing.assert_allclose(ones.predict(X), plain.predict(X), rtol=1e-12)
    assert ones.tau_ == pytest.approx(plain.tau_, rel=1e-9)


def test_weights_enter_the_standardisation_and_tau():
    X, y = sine_data(80, n_features=2, frequency=2)
    w = np.linspace(0.1, 3, 80)
    est = _regressor(max_epochs=3, tau="auto", random_state=0)
    est.fit(X, y, sample_weight=w)
    mean = np.average(y, weights=w)
    np.testing.assert_allclose(est._y_train_mean, mean)
    np.testing.assert_allclose(
        est._y_scale, np.sqrt(np.average((y - mean) ** 2, weights=w))
    )
    # tau_ maximises the weighted held-out likelihood: with other weights on
    # the same held-out rows, another tau_.
    other = clone(est).fit(X, y, sample_weight=w[::-1])
    assert other.tau_ != est.tau_


def test_classifier_weights_shift_the_decision():
    # One class weighted up: its probability rises everywhere.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + rng.normal(scale=1.0, size=200) > 0).astype(int)
    params = dict(hidden_layer_sizes=(16,), max_epochs=30, n_passes=10, random_state=0)
    plain = MCDropoutClassifier(**params).fit(X, y)
    heavy = MCDropoutClassifier(**params).fit(X, y, sample_weight=1 + 4 * y)
    assert heavy.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()


def test_the_callers_weights_are_untouched():
    X, y = sine_data(40, n_features=2, frequency=2)
    w = np.r_[np.zeros(10), np.linspace(1, 2, 30)]
    before = w.copy()
    MCDropoutRegressor(hidden_layer_sizes=(8,), max_epochs=2, random_state=0).fit(
        X, y, sample_weight=w
    )
    np.testing.assert_array_equal(w, before)


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _pipeline(**params):
    est = MCDropoutRegressor(
        hidden_layer_sizes=(16,), max_epochs=4, n_passes=10, random_state=0, **params
    )
    est = est.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
    return make_pipeline(StandardScaler().set_fit_request(sample_weight=False), est)


def test_metadata_routing_through_pipeline(routing):
    X, y = sine_data(60, n_features=2, frequency=2)
    w = np.tile([0.0, 1.0, 3.0], 20)
    pipe = _pipeline().fit(X, y, sample_weight=w)
    Xs = StandardScaler().fit_transform(X)
    direct = clone(pipe[-1]).fit(Xs, y, sample_weight=w)
    np.testing.assert_array_equal(pipe.predict(X), direct.predict(Xs))
    unweighted = clone(pipe[-1]).fit(Xs, y)
    assert not np.array_equal(pipe.predict(X), unweighted.predict(Xs))


def test_metadata_routing_through_grid_search_and_cross_validate(routing):
    X, y = sine_data(60, n_features=2, frequency=2)
    w = np.tile([0.0, 1.0, 3.0], 20)
    cv = KFold(2)
    # An explicit scorer requesting the weights: with scoring=None,
    # scikit-learn 1.6's GridSearchCV and cross_validate ask Pipeline's own
    # score request (unset) instead of routing to the final step.
    scorer = get_scorer("neg_mean_squared_error").set_score_request(sample_weight=True)
    search = GridSearchCV(
        _pipeline(), {"mcdropoutregressor__max_epochs": [2, 4]}, cv=cv, scoring=scorer
    ).fit(X, y, sample_weight=w)
    best = search.best_estimator_
    direct = clone(best).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(best.predict(X), direct.predict(X))
    result = cross_validate(
        _pipeline(),
        X,
        y,
        cv=cv,
        scoring=scorer,
        params={"sample_weight": w},
        return_estimator=True,
    )
    for (train, _), fitted in zip(cv.split(X), result["estimator"], strict=True):
        direct = _pipeline().fit(X[train], y[train], sample_weight=w[train])
        np.testing.assert_array_equal(fitted.predict(X), direct.predict(X))


def test_weights_without_a_request_are_refused_under_routing(routing):
    X, y = sine_data(30, n_features=2, frequency=2)
    pipe = make_pipeline(
        StandardScaler().set_fit_request(sample_weight=False),
        MCDropoutRegressor(hidden_layer_sizes=(8,), max_epochs=1),
    )
    with pytest.raises(ValueError, match="sample_weight"):
        pipe.fit(X, y, sample_weight=np.ones(30))


@pytest.mark.parametrize("estimator", [MCDropoutRegressor, MCDropoutClassifier])
def test_concrete_regulariser_applies_with_weights(estimator):
    # The Concrete dropout KL term is added to the weighted loss of every
    # batch, divided by N = the sum of the weights (the rows they stand for).
    X, y = sine_data(60, n_features=2, frequency=2)
    if estimator is MCDropoutClassifier:
        y = (y > 0).astype(int)
    w = np.linspace(0.5, 3.0, 60)
    est = estimator(
        hidden_layer_sizes=(16,), dropout="concrete", max_epochs=5, random_state=0
    )
    if estimator is MCDropoutRegressor:
        est.set_params(tau=10.0)
    est.fit(X, y, sample_weight=w)
    net = est.net_
    assert net.regulariser.n_train == pytest.approx(w.sum())
    assert net.criterion_.weighted
    Xt = torch.as_tensor(X[:8], dtype=torch.float32)
    target = torch.as_tensor(est._fit_transform_y(y[:8], None, first=False))
    packed = net.criterion_.pack(target, torch.ones(8))
    y_pred = net.module_.eval()(Xt)
    loss = net.get_loss(y_pred, packed, training=True)
    data = net.criterion_(y_pred, packed)
    expected = data + net.regulariser(net.module_)
    torch.testing.assert_close(loss, expected)
    assert float(net.regulariser(net.module_).detach()) != 0.0
    assert not np.allclose(est.dropout_, 0.1)  # the rates were trained
