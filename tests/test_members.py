"""Ensembles: n_members networks trained as one batched module, passes pooled."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch import nn

from sklearn_mcdropout import MCDropoutClassifier, MCDropoutRegressor
from sklearn_mcdropout._base import _Rows
from sklearn_mcdropout._members import _MemberDropout, _Members

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 3))
Y = np.sin(X[:, 0]) + 0.5 * X[:, 1] + RNG.normal(scale=0.1, size=60)
RATES = (0.1, 0.2, 0.3)


def _chain(p):
    """Input dropout, one hidden layer with dropout: every kind of call."""
    return nn.Sequential(
        nn.Dropout(p), nn.Linear(3, 8), nn.Tanh(), nn.Dropout(p), nn.Linear(8, 1)
    )


def _members_with_own_rates(**params):
    kw = dict(n_members=3, max_epochs=3, n_passes=7, random_state=0)
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the members start from the networks as given
        module = [_chain(p) for p in RATES]
    return MCDropoutRegressor(module=module, **{**kw, **params})


@pytest.fixture(scope="module")
def ensemble():
    return _members_with_own_rates().fit(X, Y)


def _hand_passes(est, rows):
    """Pass t of member m by hand, from its weights and masks: (rows, T, M).

    ``weight[m]`` of a member layer is member m's weight transposed, ``bias[m]``
    its bias as a row.
    """
    module, keeps = est.net_.module_, est._masks._held
    out = np.empty((len(rows), est.n_passes, est.n_members))
    for m in range(est.n_members):
        (W0, b0), (W1, b1) = (
            (
                lin.weight[m].T.detach().double().numpy(),
                lin.bias[m, 0].detach().double().numpy(),
            )
            for lin in (module[1], module[4])
        )
        p = RATES[m]
        for t in range(est.n_passes):
            z_in, z_hidden = (k[t, m].double().numpy() / (1 - p) for k in keeps)
            h = np.tanh((X[rows] * z_in) @ W0.T + b0) * z_hidden
            out[:, t, m] = h @ W1[0] + b1[0]
    return out * est._y_scale + est._y_train_mean


def test_passes_are_each_members_network_with_its_own_masks_and_rate(ensemble):
    rows = np.arange(10)
    passes = ensemble.predict_passes(X[rows])
    assert passes.shape == (10, ensemble.n_passes * 3)
    # Component t * M + m is pass t of member m.
    expected = _hand_passes(ensemble, rows).reshape(10, -1)
    np.testing.assert_allclose(passes, expected, rtol=1e-5, atol=1e-5)


def test_predictive_moments_pool_every_members_passes(ensemble):
    passes = ensemble.predict_passes(X)
    mean, std = ensemble.predict(X, return_std=True)
    np.testing.assert_allclose(mean, passes.mean(axis=1), rtol=1e-10, atol=1e-10)
    pooled = passes.var(axis=1) + 1 / ensemble.tau_
    np.testing.assert_allclose(std, np.sqrt(pooled), rtol=1e-8)
    parts = ensemble.predict_uncertainty(X)
    np.testing.assert_allclose(parts.epistemic_std**2, passes.var(axis=1), rtol=1e-8)
    _, cov = ensemble.predict(X[:5], return_cov=True)
    np.testing.assert_allclose(
        cov, np.cov(passes[:5], ddof=0) + np.eye(5) / ensemble.tau_, atol=1e-8
    )


def test_variance_includes_the_spread_between_members(ensemble):
    passes = ensemble.predict_passes(X).reshape(len(X), ensemble.n_passes, 3)
    member_means = passes.mean(axis=1)
    within = passes.var(axis=1).mean(axis=1)
    # Law of total variance over the equal mixture of the members.
    np.testing.assert_allclose(
        ensemble.predict_uncertainty(X).epistemic_std ** 2,
        within + member_means.var(axis=1),
        rtol=1e-8,
    )
    assert np.all(member_means.var(axis=1) > 0)


def test_members_differ_and_keep_their_rates(ensemble):
    module = ensemble.net_.module_
    assert isinstance(module, _Members)
    W = module[1].weight.detach()  # member m's weight, transposed
    assert not torch.allclose(W[0], W[1])
    assert not torch.allclose(W[1], W[2])
    assert [d.rates for d in (module[0], module[3])] == [RATES, RATES]
    assert [module.member(m)[0].p for m in range(3)] == list(RATES)


W = RNG.uniform(0.2, 3, size=60)
Y2 = np.c_[Y, X[:, 2] ** 2]


def _fit_twice(est, X, y, **fit_params):
    """fit, then one more epoch by partial_fit: continued training too."""
    return est.fit(X, y, **fit_params).partial_fit(X, y, **fit_params)


@pytest.mark.parametrize(
    ("make", "target", "fit_params"),
    [
        pytest.param(MCDropoutRegressor, Y, {}, id="plain"),
        pytest.param(MCDropoutRegressor, Y, {"sample_weight": W}, id="weighted"),
        pytest.param(MCDropoutRegressor, Y2, {"sample_weight": W}, id="two-targets"),
        pytest.param(
            lambda **p: MCDropoutRegressor(noise="heteroscedastic", **p),
            Y2,
            {"sample_weight": W},
            id="heteroscedastic",
        ),
        pytest.param(
            MCDropoutClassifier, (Y > 0).astype(int), {"sample_weight": W},
            id="classifier",
        ),
    ],
)  # fmt: skip
def test_member_zero_trains_as_one_network_with_the_same_seed(make, target, fit_params):
    # Without dropout training has no randomness but the initial weights and
    # the batch order: member 0 gets those of one network with the same seed,
    # and the summed loss gives it that network's gradient (its sample
    # weights, every target's loss, weight decay included) in fit and in the
    # continued training of partial_fit; only the rounding of batched
    # products differs.
    params = dict(
        hidden_layer_sizes=(8,), dropout=0.0, weight_decay=0.1, max_epochs=4,
        batch_size=16, random_state=3,
    )  # fmt: skip
    if make is MCDropoutRegressor:
        params["noise"] = "homoscedastic"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        one = _fit_twice(make(**params), X, target, **fit_params)
        three = _fit_twice(make(n_members=3, **params), X, target, **fit_params)
    member0 = three.net_.module_.member(0)
    for a, b in zip(one.net_.module_.parameters(), member0.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert three.n_iter_ == one.n_iter_ == 5
    if make is MCDropoutRegressor:
        assert np.all(one.tau_ != three.tau_)  # tau_ is fitted to the pooled passes


def test_members_early_stopping_monitors_their_mean_held_out_loss():
    params = dict(
        hidden_layer_sizes=(64,), dropout=0.1, noise="homoscedastic", max_epochs=300,
        early_stopping=True, n_iter_no_change=2, random_state=0,
    )  # fmt: skip
    est = MCDropoutRegressor(n_members=3, **params).fit(X, Y2, sample_weight=W)
    stopping = dict(est.net_.callbacks_)["early_stopping"]
    assert est.n_iter_ < 300
    assert est.best_validation_score_ == max(est.validation_scores_)
    # The kept weights score the best epoch's loss: the members' mean of
    # their weighted held-out losses, recomputed here by hand.
    rows = _Rows(torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(Y2), W)
    _, held_out = est._split_held_out(rows, est._seeds()[3])
    Xh = held_out.X
    yh = (held_out.y.numpy() - est._y_train_mean) / est._y_unit()
    with torch.no_grad():
        out = est.net_.module_.eval()(Xh).double().numpy()  # (M, n, 2)
    losses = ((out - yh) ** 2).mean(axis=2).mean(axis=0)
    w = held_out.sample_weight
    assert stopping.best_state_ is None  # dropped at the end of training
    np.testing.assert_allclose(
        -est.best_validation_score_, np.sum(losses * w) / np.sum(w), rtol=1e-5
    )


def test_one_member_is_one_plain_network():
    est = MCDropoutRegressor((8,), n_members=1, max_epochs=2, random_state=0)
    assert type(est.fit(X, Y).net_.module_) is nn.Sequential
    listed = MCDropoutRegressor(module=[_chain(0.1)], max_epochs=2, random_state=0)
    assert type(listed.fit(X, Y).net_.module_) is nn.Sequential


def test_fits_are_deterministic_and_leave_torch_rng_alone():
    a, b = _members_with_own_rates(), _members_with_own_rates()
    state = torch.random.get_rng_state()
    a.fit(X, Y), b.fit(X, Y)
    assert torch.equal(state, torch.random.get_rng_state())
    np.testing.assert_array_equal(a.predict_passes(X), b.predict_passes(X))
    np.testing.assert_array_equal(a.sample_y(X, 5), b.sample_y(X, 5))


def test_more_passes_extend_fewer(ensemble):
    more = copy.deepcopy(ensemble).set_params(n_passes=12)
    np.testing.assert_array_equal(
        more.predict_passes(X)[:, : 7 * 3], ensemble.predict_passes(X)
    )


def test_sample_y_draws_each_sample_from_one_member(ensemble):
    draws = ensemble.sample_y(X[:4], n_samples=6, random_state=1)
    assert draws.shape == (4, 6)
    rng = np.random.RandomState(1)
    seed = int(rng.randint(np.iinfo(np.int32).max))
    members = rng.randint(3, size=6)
    functions, _ = ensemble._pass_outputs(ensemble._validate_X_predict(X[:4]), 6, seed)
    noise = rng.normal(size=(4, 6)) * np.sqrt(1 / ensemble.tau_)
    np.testing.assert_allclose(
        draws, functions[:, np.arange(6) * 3 + members, 0] + noise
    )


def test_classifier_pools_the_members_softmax():
    labels = np.where(Y > 0.3, "high", np.where(Y < -0.3, "low", "mid"))
    clf = MCDropoutClassifier(
        (8,), n_members=4, max_epochs=3, n_passes=5, random_state=0
    ).fit(X, labels)
    passes = clf.predict_proba_passes(X)
    assert passes.shape == (60, 20, 3)
    np.testing.assert_allclose(clf.predict_proba(X), passes.mean(axis=1), rtol=1e-10)
    votes = np.stack([np.bincount(r, minlength=3) for r in passes.argmax(2)])
    ratio = clf.predict_uncertainty(X).variation_ratio
    np.testing.assert_allclose(ratio, 1 - votes.max(axis=1) / 20)


def test_heteroscedastic_members_pool_their_noise():
    est = MCDropoutRegressor(
        (8,), noise="heteroscedastic", n_members=2, max_epochs=3, n_passes=6,
        random_state=0,
    ).fit(X, Y)  # fmt: skip
    passes, noise_std = est.predict_passes(X, return_noise_std=True)
    parts = est.predict_uncertainty(X)
    np.testing.assert_allclose(parts.aleatoric_std**2, (noise_std**2).mean(axis=1))
    np.testing.assert_allclose(parts.epistemic_std**2, passes.var(axis=1), rtol=1e-8)


def test_no_dropout_members_still_have_an_epistemic_part():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = MCDropoutRegressor(
            (8,), dropout=0.0, n_members=3, max_epochs=2, random_state=0
        ).fit(X, Y)
    assert np.all(est.predict_uncertainty(X).epistemic_std > 0)


class _Chain(nn.Sequential):
    def __init__(self):
        super().__init__(*_chain(0.1))


def test_custom_module_instance_and_class_give_members_their_own_weights():
    given = _chain(0.1)
    est = MCDropoutRegressor(module=given, noise="homoscedastic", n_members=3)
    W = est._build_module(3, 1, torch.device("cpu"), seed=0)[1].weight
    # Member 0 is a copy of the instance as given; the others are re-drawn.
    torch.testing.assert_close(W[0], given[1].weight.T)
    assert not torch.allclose(W[1], W[0])
    assert not torch.allclose(W[2], W[1])
    est = MCDropoutRegressor(module=_Chain, noise="homoscedastic", n_members=2)
    W = est._build_module(3, 1, torch.device("cpu"), seed=0)[1].weight
    assert not torch.allclose(W[0], W[1])


class _NotAChain(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin, self.drop = nn.Linear(3, 1), nn.Dropout(0.1)

    def forward(self, X):
        return self.lin(self.drop(X))


@pytest.mark.parametrize(
    ("module", "match"),
    [
        (_NotAChain, "needs each network to be a torch.nn.Sequential"),
        (nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.1),
                       nn.Linear(4, 1)), "BatchNorm1d"),
        ([_chain(0.1), _chain(0.2)], "n_members=3 torch.nn.Module instances"),
        ([_chain(0.1), _chain(0.1),
          nn.Sequential(nn.Dropout(0.1), nn.Linear(3, 5), nn.Linear(5, 1))],
         "member 2 differs from member 0"),
        (nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.1), nn.ReLU(),
                       nn.Linear(4, 1)), r"layers \[Linear, Dropout, ReLU"),
        (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1),
                       nn.Dropout(0.1)), "ending with a Linear layer"),
    ],
    ids=[
        "not a Sequential", "BatchNorm", "list too short", "other architecture",
        "dropout before the activation", "dropout on the output",
    ],
)  # fmt: skip
def test_modules_that_cannot_be_stacked_are_refused_clearly(module, match):
    est = MCDropoutRegressor(module=module, n_members=3, max_epochs=1)
    with pytest.raises(ValueError, match=match):
        est.fit(X, Y)


def test_members_as_a_list_are_kept_by_pickle_and_refused_by_skops(ensemble, tmp_path):
    sio = pytest.importorskip("skops.io")
    loaded = pickle.loads(pickle.dumps(ensemble))
    np.testing.assert_array_equal(loaded.predict_passes(X), ensemble.predict_passes(X))
    with pytest.raises(TypeError, match=r"list of torch\.nn\.Module instances"):
        sio.dump(ensemble, tmp_path / "model.skops")


def test_fitted_rates_have_one_row_per_member(ensemble):
    np.testing.assert_array_equal(ensemble.dropout_, np.array([RATES, RATES]).T)


def test_concrete_dropout_members_are_refused_clearly():
    est = MCDropoutRegressor((8,), dropout="concrete", n_members=2, max_epochs=1)
    with pytest.raises(ValueError, match="dropout='concrete' cannot go with n_members"):
        est.fit(X, Y)
    # A custom chain of ConcreteDropout layers cannot be stacked either.
    from sklearn_mcdropout import ConcreteDropout

    module = nn.Sequential(
        nn.Linear(3, 8), nn.ReLU(), ConcreteDropout(), nn.Linear(8, 1)
    )
    est = MCDropoutRegressor(module=module, n_members=2, max_epochs=1)
    with pytest.raises(ValueError, match="ConcreteDropout"):
        est.fit(X, Y)


class _CountBatches(Callback):
    """A callback with a batch hook: training runs skorch's own loop."""

    def initialize(self):
        self.n_batches_ = 0
        return self

    def on_batch_end(self, net, **kwargs):
        self.n_batches_ += 1


def test_members_train_in_skorchs_loop_too():
    # A batch hook keeps skorch's per-batch loop; the members' step is the same.
    # Its history records the batches' rows (skorch's len(X_batch) is the
    # number of members), so the epoch losses, weighted by them, agree too.
    params = dict(
        hidden_layer_sizes=(8,), dropout=0.1, noise="homoscedastic", n_members=2,
        max_epochs=2, batch_size=16, random_state=0,
    )  # fmt: skip
    lean = MCDropoutRegressor(**params).fit(X, Y)
    counter = _CountBatches()
    hooked = MCDropoutRegressor(callbacks=[counter], **params).fit(X, Y)
    assert hooked.net_.callbacks_[-1][1].n_batches_ == 2 * 4  # 54 rows, batch 16
    np.testing.assert_allclose(
        hooked.predict_passes(X), lean.predict_passes(X), rtol=1e-6, atol=1e-6
    )
    for est in (lean, hooked):
        assert est.net_.history[-1, "batches", :, "train_batch_size"] == [
            16, 16, 16, 6
        ]  # fmt: skip
    np.testing.assert_allclose(hooked.loss_curve_, lean.loss_curve_, rtol=1e-6)


def test_predictions_use_the_fitted_number_of_members(ensemble):
    # n_members, like the network's other parameters, needs a refit; what
    # a fitted model predicts does not change with set_params.
    est = copy.deepcopy(ensemble)
    before = est.sample_y(X[:2], n_samples=4, random_state=0)
    for n_members in (1, 5):
        est.set_params(n_members=n_members)
        np.testing.assert_array_equal(
            est.sample_y(X[:2], n_samples=4, random_state=0), before
        )
        assert est.predict_passes(X[:2]).shape == (2, 7 * 3)


@pytest.mark.parametrize("rates", [(0.1, 0.1, 0.1), (0.0, 0.2, 0.5)])
def test_member_dropout_keeps_each_unit_at_its_members_rate(rates):
    # Training masks: member m keeps a unit with probability 1 - p_m and
    # scales it by 1 / (1 - p_m), so a unit's mean over masks is its input.
    layer = _Members([_MemberDropout(rates)], 3).train()
    h = torch.ones(3, 400, 250)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        out = layer(h)
    for m, p in enumerate(rates):
        kept = out[m] != 0
        np.testing.assert_allclose(out[m][kept].numpy(), 1 / (1 - p), rtol=1e-6)
        # 100,000 draws: the kept fraction within 5 binomial standard errors.
        se = np.sqrt(max(p * (1 - p), 1e-12) / kept.numel())
        assert abs(kept.float().mean().item() - (1 - p)) < 5 * se + 1e-12
    assert torch.equal(layer.eval()(h), h)


def test_member_dropout_keeps_every_unit_of_a_rate_zero_member(monkeypatch):
    # The largest float32 uniform below 1 plus 1 rounds to 2: a member of rate
    # 0 must still keep its units with factor 1, not 2.
    largest = 1 - 2.0**-24
    monkeypatch.setattr(torch, "rand_like", lambda h: torch.full_like(h, largest))
    layer = _Members([_MemberDropout((0.0, 0.5))], 2).train()
    out = layer(torch.ones(2, 3, 4))
    assert torch.equal(out[0], torch.ones(3, 4))
    assert torch.equal(out[1], torch.full((3, 4), 2.0))
