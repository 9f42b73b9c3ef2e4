"""What fit chooses on held-out rows when parameters are "auto"."""

import pickle

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import norm
from torch import nn

from sklearn_mcdropout import MCDropoutClassifier, MCDropoutRegressor
from sklearn_mcdropout._selection import (
    _AUTO_RATES,
    _candidate_budget,
    _chosen_epochs,
    _epoch_budget,
    _patience,
    _recipe,
)
from sklearn_mcdropout.metrics import gaussian_nll

rng = np.random.default_rng(0)
X = rng.uniform(-2, 2, size=(300, 2))
y = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] + 0.2 * rng.normal(size=300)
# A small, fast choice: the candidates trained for a few epochs.
FAST = dict(hidden_layer_sizes=(16,), max_epochs=15, n_passes=30, random_state=0)


def _rows_of(X_part):
    return {tuple(row) for row in np.asarray(X_part.cpu()).tolist()}


def _best_tau_ratio(est, fresh_rows):
    """The noise precision best for the rows ``fresh_rows`` (of X, as
    float32 tuples) under ``est``'s own mixture, over ``tau_``: 1 where
    ``tau_`` was fitted on them for this network (the paper's eq. (8))."""
    fresh = np.array([tuple(r) in fresh_rows for r in X.astype(np.float32).tolist()])
    passes = est.predict_passes(X[fresh])
    taus = est.tau_ * np.geomspace(0.8, 1.25, 401)
    lls = [
        np.mean(logsumexp(norm.logpdf(y[fresh][:, None], passes, 1 / np.sqrt(t)),
                          axis=1))
        for t in taus
    ]  # fmt: skip
    return taus[int(np.argmax(lls))] / est.tau_


@pytest.fixture(scope="module")
def chosen():
    return MCDropoutRegressor(**FAST).fit(X, y)


def test_every_candidate_is_scored_and_the_best_is_kept(chosen):
    scores = chosen.candidate_scores_
    n = 2 * len(_AUTO_RATES)
    assert all(len(values) == n for values in scores.values())
    assert sorted(set(scores["noise"])) == ["heteroscedastic", "homoscedastic"]
    np.testing.assert_array_equal(scores["dropout"][: n // 2], _AUTO_RATES)
    best = np.argmax(scores["held_out_log_likelihood"])
    assert chosen.noise_ == scores["noise"][best]
    assert np.all(chosen.dropout_ == scores["dropout"][best])
    # Fifteen epochs given: every candidate trains them, and so does the refit.
    assert np.all(scores["n_epochs"] == 15)
    assert chosen.n_iter_ == 15
    homoscedastic = scores["noise"] == "homoscedastic"
    assert np.all(scores["tau"][homoscedastic] > 0)
    assert np.all(np.isnan(scores["tau"][~homoscedastic]))
    assert np.all(scores["noise_scale"][~homoscedastic] > 0)
    assert np.all(np.isnan(scores["noise_scale"][homoscedastic]))


def test_the_noise_level_is_fitted_on_fresh_rows(monkeypatch):
    # Three disjoint parts of the rows: the candidates train on one, their
    # epochs are picked on the second, they are scored on the second and the
    # third (every row none trained on), the chosen model trains on the first
    # two, and its noise level is fitted on the third, which nothing trained
    # on: tau_ maximises the likelihood of those rows under the final model's
    # mixture.
    from sklearn_mcdropout import _noise, _selection

    seen = {}

    def spy(module, name, record):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            record(*args)
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    def candidates(est, cands, train, held_out, *rest):
        seen["train"], seen["choose"] = _rows_of(train.X), _rows_of(held_out.X)

    def final(self, train, *rest):
        seen.setdefault("final", []).append(_rows_of(train.X))

    def noise(est, components, X_fresh, *rest):
        seen["fresh"] = _rows_of(X_fresh)

    def scored(self, runner, masks, rows, *rest):
        seen["scored"] = _rows_of(rows.X)

    spy(_selection, "_train_members", candidates)
    spy(MCDropoutRegressor, "_score_candidates", scored)
    spy(MCDropoutRegressor, "_train", final)
    spy(_noise, "_fit_noise_level", noise)
    est = MCDropoutRegressor(**{**FAST, "noise": "homoscedastic"}).fit(X, y)
    assert [len(seen[k]) for k in ("fresh", "choose", "train")] == [30, 27, 243]
    rest, every_row = seen["final"]
    assert rest == seen["train"] | seen["choose"]
    assert not seen["fresh"] & rest
    assert seen["scored"] == seen["choose"] | seen["fresh"]
    assert every_row == seen["fresh"] | rest
    assert len(every_row) == len(X)
    assert est._chosen["fresh_rows"] == 30
    rows = X.astype(np.float32).tolist()
    fresh = np.array([tuple(row) in seen["fresh"] for row in rows])
    # tau_ was fitted on the fresh rows by the model trained on the rest
    # (seeded as the final one; its prior weight decay used the candidate's
    # tau, this one uses tau_, a difference of order 1e-6): check it there.
    model = MCDropoutRegressor(**{**FAST, "noise": "homoscedastic"})
    model.set_params(dropout=est.dropout_[0], max_epochs=est.n_iter_, tau=est.tau_)
    model.fit(X[~fresh], y[~fresh])
    assert abs(np.log(_best_tau_ratio(model, seen["fresh"]))) < 0.01


def test_on_many_rows_the_model_whose_noise_level_was_fitted_is_kept(monkeypatch):
    # Above _refit_training_rows the chosen model trains once, on all rows
    # but the fresh ones, and is kept: its own passes give the fresh rows
    # their best likelihood at tau_. At or below it, it is trained again on
    # every row with that tau_.
    from sklearn_mcdropout import _noise

    seen = {"final": []}
    original_train = MCDropoutRegressor._train
    original_noise = _noise._fit_noise_level

    def train(self, rows, *rest):
        seen["final"].append(len(rows.y))
        return original_train(self, rows, *rest)

    def noise(est, components, X_fresh, *rest):
        seen["fresh"] = _rows_of(X_fresh)
        return original_noise(est, components, X_fresh, *rest)

    monkeypatch.setattr(MCDropoutRegressor, "_train", train)
    monkeypatch.setattr(_noise, "_fit_noise_level", noise)
    params = {**FAST, "noise": "homoscedastic"}

    # The candidates train on 243 rows (30 fresh, 27 to choose on).
    monkeypatch.setattr(MCDropoutRegressor, "_refit_training_rows", 242)
    kept = MCDropoutRegressor(**params).fit(X, y)
    assert seen["final"] == [270]
    assert kept._chosen["train_again"] is False
    assert abs(np.log(_best_tau_ratio(kept, seen["fresh"]))) < 0.01

    seen["final"].clear()
    monkeypatch.setattr(MCDropoutRegressor, "_refit_training_rows", 243)
    again = MCDropoutRegressor(**params).fit(X, y)
    assert seen["final"] == [270, 300]
    assert again._chosen["train_again"] is True
    assert again.tau_ == pytest.approx(kept.tau_)  # the same first training
    assert not np.allclose(again.predict_passes(X), kept.predict_passes(X))


def test_the_choice_is_a_function_of_random_state(chosen):
    again = MCDropoutRegressor(**FAST).fit(X, y)
    for key, values in chosen.candidate_scores_.items():
        np.testing.assert_array_equal(again.candidate_scores_[key], values)
    np.testing.assert_array_equal(again.predict(X[:20]), chosen.predict(X[:20]))
    other = MCDropoutRegressor(**{**FAST, "random_state": 1}).fit(X, y)
    scores = other.candidate_scores_["held_out_log_likelihood"]
    assert not np.array_equal(
        scores, chosen.candidate_scores_["held_out_log_likelihood"]
    )


def test_explicit_values_are_kept_and_nothing_is_chosen():
    est = MCDropoutRegressor(
        **{**FAST, "dropout": 0.05, "noise": "homoscedastic", "tau": 10.0}
    ).fit(X, y)
    assert not hasattr(est, "candidate_scores_")
    assert est.dropout_.tolist() == [0.05]
    assert est.noise_ == "homoscedastic"
    assert est.tau_ == 10.0
    assert est.n_iter_ == 15
    # A numeric tau rules out the heteroscedastic model: the rate alone.
    rate_only = MCDropoutRegressor(**{**FAST, "tau": 10.0}).fit(X, y)
    assert set(rate_only.candidate_scores_["noise"]) == {"homoscedastic"}
    assert rate_only.get_params()["dropout"] == "auto"  # parameters untouched
    # Refitted with everything given, it keeps no stale choice.
    rate_only.set_params(dropout=0.05).fit(X, y)
    assert not hasattr(rate_only, "candidate_scores_")


def test_auto_epochs_stop_each_candidate_at_its_best():
    est = MCDropoutRegressor(
        hidden_layer_sizes=(16,), n_passes=30, noise="homoscedastic",
        max_epochs="auto", random_state=0,
    ).fit(X[:100], y[:100])  # fmt: skip
    epochs = est.candidate_scores_["n_epochs"]
    # The candidates' 81 rows are 2 batches: a cosine of 800 steps for them,
    # of 2,500 for the chosen model, its candidate's best epoch scaled.
    assert _candidate_budget(est, 81) == (400, 1250 / 400)
    assert np.all((epochs >= 1) & (epochs <= 400))
    best = np.argmax(est.candidate_scores_["held_out_log_likelihood"])
    assert est.n_iter_ == _chosen_epochs(epochs[best], 400, 1250 / 400)
    assert len(est.loss_curve_) == est.n_iter_


def test_the_chosen_epochs_scale_with_the_candidates_annealing():
    # e (1 + (scale - 1) (1 - cos(pi e / budget)) / 2)
    assert _chosen_epochs(400, 400, 1250 / 400) == 1250  # annealed: all of it
    assert _chosen_epochs(100, 400, 3.0) == 129  # 100 (1 + 2 (1 - 2^-0.5) / 2)
    assert _chosen_epochs(300, 400, 3.0) == 812  # 300 (1 + 2 (1 + 2^-0.5) / 2)
    assert _chosen_epochs(2, 400, 3.0) == 2  # at the full rate: unscaled
    assert _chosen_epochs(37, 400, 1.0) == 37


def test_only_the_annealed_candidates_train_a_shorter_schedule():
    # A cosine's rate depends on the fraction of it done, a constant rate's
    # best epoch does not: the candidates train the full budget there.
    assert _candidate_budget(MCDropoutRegressor(), 300) == (160, 500 / 160)
    assert _candidate_budget(MCDropoutRegressor(lr=0.5), 300) == (160, 500 / 160)
    constant = MCDropoutRegressor(lr_schedule="constant")
    assert _candidate_budget(constant, 300) == (500, 1.0)
    assert _candidate_budget(MCDropoutRegressor(), 1_501) == (834, 1.0)
    assert _candidate_budget(MCDropoutRegressor(max_epochs=7), 300) == (7, 1.0)
    assert _candidate_budget(MCDropoutClassifier(), 300) == (2000, 1.0)


def test_the_shorter_cosine_is_trained_whole():
    # Its held-out loss can stall at the large early rates and fall again as
    # the rate anneals: no stop there, the best epoch kept; a constant rate's
    # candidates stop after a tenth of the budget without improvement.
    assert _patience(MCDropoutRegressor(), 160, 300) == 160
    assert _patience(MCDropoutRegressor(lr_schedule="constant"), 500, 300) == 50
    assert _patience(MCDropoutRegressor(), 834, 1_501) == 84
    assert _patience(MCDropoutRegressor(max_epochs=7), 7, 300) == 10
    assert _patience(MCDropoutClassifier(), 2000, 300) == 200


def test_epoch_budget_gives_small_data_more_epochs():
    est = MCDropoutRegressor()
    assert _epoch_budget(est, 300) == 500  # 5 batches of 64: 2,500 steps
    assert _epoch_budget(est, 64) == 2000  # one batch: the ceiling
    assert _epoch_budget(est, 1_500) == 105  # 24 batches: 2,500 steps
    assert _epoch_budget(est, 1_501) == 834  # 24 batches: 20,000 steps
    assert _epoch_budget(est, 16_512) == 78  # 259 batches: 20,000 steps
    assert _epoch_budget(est, 10**7) == 20
    assert _epoch_budget(est, 300, partial=True) == 2000  # the constant rate's
    assert _epoch_budget(MCDropoutRegressor(max_epochs=7), 300) == 7


def test_auto_rate_schedule_and_members_follow_the_training_length():
    small = {"lr": 1e-2, "lr_schedule": "cosine", "n_members": 5}
    medium = {"lr": 1e-3, "lr_schedule": "constant", "n_members": 5}
    large = fixed = {"lr": 1e-3, "lr_schedule": "constant", "n_members": 1}
    est = MCDropoutRegressor()
    assert _recipe(est, 1_500) == small
    assert _recipe(est, 1_501) == _recipe(est, 20_000) == medium
    assert _recipe(est, 20_001) == large
    # The classifier's ensemble stops at 5,000 rows.
    classifier = MCDropoutClassifier()
    assert [_recipe(classifier, n)["n_members"] for n in (5_000, 5_001)] == [5, 1]
    assert _recipe(est) == fixed  # partial_fit, a continued fit
    assert _recipe(MCDropoutRegressor(max_epochs=50), 300) == fixed
    # A given value is kept; the "auto" rate goes with its own schedule only.
    assert _recipe(MCDropoutRegressor(lr=0.5), 300) == {
        "lr_schedule": "cosine", "n_members": 5,
    }  # fmt: skip
    assert _recipe(MCDropoutRegressor(lr_schedule="constant"), 300) == {
        "lr": 1e-3, "n_members": 5,
    }  # fmt: skip
    assert _recipe(MCDropoutRegressor(lr_schedule="cosine"), 20_001) == {
        "lr": 1e-3, "n_members": 1,
    }  # fmt: skip
    given = MCDropoutRegressor(lr=0.5, lr_schedule="cosine", n_members=3)
    assert _recipe(given, 300) == {}
    # Members are not stacked for learned rates or a custom network; a list
    # of networks gives its length.
    assert _recipe(MCDropoutRegressor(dropout="concrete"), 300)["n_members"] == 1
    net = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.1), nn.Linear(8, 1))
    assert _recipe(MCDropoutRegressor(module=net), 300)["n_members"] == 1
    assert _recipe(MCDropoutRegressor(module=[net, net]), 20_000)["n_members"] == 2
    # The classifier's "auto" is the constant rate and its budget 20,000
    # steps, on small data too (the annealed budget lost on digits), and
    # five members on the same rows as the regressor's.
    auto = MCDropoutClassifier(lr="auto", lr_schedule="auto")
    assert _recipe(auto, 300) == medium
    assert _recipe(auto, 5_001) == large
    assert _recipe(MCDropoutClassifier(), 300) == {"n_members": 5}
    assert _epoch_budget(MCDropoutClassifier(), 300) == 2000
    assert _epoch_budget(MCDropoutClassifier(), 16_512) == 78


def test_the_auto_training_anneals_from_the_larger_rate(chosen):
    # FAST gives max_epochs: constant at 1e-3; "auto" anneals from 1e-2 over
    # the chosen number of epochs (cosine, _training._CosineLR).
    assert chosen.net_.optimizer_.param_groups[0]["lr"] == 1e-3
    assert "lr" not in chosen.net_.history[-1]
    est = MCDropoutRegressor(
        hidden_layer_sizes=(8,), n_passes=10, noise="homoscedastic", dropout=0.1,
        random_state=0,
    ).fit(X[:100], y[:100])  # fmt: skip
    lr = est.net_.history[:, "lr"]
    n = est.n_iter_
    assert len(lr) == n >= 2
    expected = 1e-2 * (1 + np.cos(np.pi * np.arange(n) / n)) / 2
    np.testing.assert_allclose(lr, expected, rtol=1e-9)
    assert est.get_params()["lr"] == est.get_params()["lr_schedule"] == "auto"
    assert est.get_params()["n_members"] == "auto"
    assert est.n_members_ == 5
    assert est.dropout_.shape == (5, 1)


def test_auto_members_are_the_same_fit_as_five_given():
    # n_members="auto" on small data is n_members=5, to the bit; the given 5
    # keeps its meaning where "auto" would be one network.
    params = {"hidden_layer_sizes": (8,), "n_passes": 10, "random_state": 0}
    params |= {"noise": "homoscedastic", "dropout": 0.1}
    auto = MCDropoutRegressor(**params).fit(X[:100], y[:100])
    five = MCDropoutRegressor(n_members=5, **params).fit(X[:100], y[:100])
    assert auto.n_members_ == five.n_members_ == 5
    mean, std = auto.predict(X[:20], return_std=True)
    np.testing.assert_array_equal(mean, five.predict(X[:20]))
    np.testing.assert_array_equal(std, five.predict(X[:20], return_std=True)[1])
    assert auto.predict_passes(X[:3]).shape == (3, 50)
    loaded = pickle.loads(pickle.dumps(auto))  # "auto" stays resolved
    assert loaded.n_members_ == 5
    np.testing.assert_array_equal(loaded.predict(X[:20], return_std=True)[1], std)
    given = MCDropoutRegressor(max_epochs=2, **params)
    assert given.fit(X[:100], y[:100]).n_members_ == 1
    assert given.set_params(n_members=5).fit(X[:100], y[:100]).n_members_ == 5


def test_tau_fits_the_mixture_so_it_is_no_comb():
    # The held-out likelihood of the mixture of the passes' Gaussians, not of
    # a Gaussian of its moments: the mixture's own NLL stays near the
    # Gaussian NLL of its two moments.
    X_test = rng.uniform(-2, 2, size=(200, 2))
    y_test = np.sin(2 * X_test[:, 0]) + 0.5 * X_test[:, 1] + 0.2 * rng.normal(size=200)
    est = MCDropoutRegressor(
        hidden_layer_sizes=(32,), dropout=0.1, noise="homoscedastic", max_epochs=30,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    passes = est.predict_passes(X_test)
    log_pdf = norm.logpdf(y_test[:, None], passes, np.sqrt(1 / est.tau_))
    mixture_nll = -np.mean(logsumexp(log_pdf, axis=1) - np.log(passes.shape[1]))
    mean, std = est.predict(X_test, return_std=True)
    assert abs(mixture_nll - gaussian_nll(y_test, mean, std)) < 0.05


def test_heteroscedastic_noise_scale_maximises_the_held_out_mixture():
    # The scale of the predicted noise variance a heteroscedastic candidate
    # gets: the grid's best, then a finer grid around it, against a brute
    # force over the stored passes.
    from sklearn_mcdropout._noise import _SCALE_PRECISIONS, _best_precisions

    est = MCDropoutRegressor(
        hidden_layer_sizes=(16,), dropout=0.1, noise="heteroscedastic",
        max_epochs=30, n_passes=40, random_state=0,
    ).fit(X, y)  # fmt: skip
    assert est.noise_scale_ == 1.0  # nothing chosen: the variance as predicted
    X_val, y_val = X[:80], y[:80]
    runner, masks = est._runner_and_masks()
    Xt = est._validate_X_predict(X_val)
    y_s = ((y_val - est._y_train_mean) / est._y_unit()).reshape(-1, 1)
    components = est._noise_model().components
    (tau,), (ll,) = _best_precisions(
        runner, masks, Xt, y_s, None, components, 1, _SCALE_PRECISIONS
    )
    passes, noise_std = est.predict_passes(X_val, return_noise_std=True)
    scales = np.geomspace(1 / 16, 16, 4001)
    lls = [
        np.mean(logsumexp(norm.logpdf(y_val[:, None], passes, noise_std * np.sqrt(c)),
                          axis=1) - np.log(passes.shape[1]))
        for c in scales
    ]  # fmt: skip
    best = scales[int(np.argmax(lls))]
    assert abs(np.log(1 / tau[0]) - np.log(best)) < 0.01
    # The likelihood in standardised units is that in y's plus log(y_unit).
    np.testing.assert_allclose(ll[0], max(lls) + np.log(est._y_unit()), atol=1e-4)


def test_chosen_noise_scale_multiplies_the_predicted_variance():
    est = MCDropoutRegressor(**{**FAST, "noise": "heteroscedastic"}).fit(X, y)
    scores = est.candidate_scores_
    best = np.argmax(scores["held_out_log_likelihood"])
    assert scores["noise"][best] == est.noise_ == "heteroscedastic"
    assert est.noise_scale_ != 1.0  # fitted on the fresh rows
    assert not hasattr(est, "tau_")
    scale = est.noise_scale_
    aleatoric = est.predict_uncertainty(X[:20]).aleatoric_std
    est.noise_scale_ = 1.0  # the network's own variance
    unscaled = est.predict_uncertainty(X[:20]).aleatoric_std
    np.testing.assert_allclose(aleatoric**2, scale * unscaled**2, rtol=1e-6)


def test_partial_fit_has_nothing_to_choose_on():
    est = MCDropoutRegressor(hidden_layer_sizes=(8,), n_passes=10, random_state=0)
    est.partial_fit(X, y)
    assert est.dropout_.tolist() == [0.1]
    assert est.noise_ == "homoscedastic"
    assert est.n_iter_ == 1
    assert not hasattr(est, "candidate_scores_")


def test_custom_module_chooses_its_training_length_alone():
    from torch import nn

    module = nn.Sequential(
        nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 1)
    )
    est = MCDropoutRegressor(module=module, n_passes=20, random_state=0)
    est.fit(X[:100], y[:100])
    assert est.noise_ == "homoscedastic"
    assert est.dropout_.tolist() == [pytest.approx(0.2)]
    # 81 candidates' rows, 2 batches: cosines of 800 and 2,500 steps.
    best = est.candidate_scores_["n_epochs"][0]
    assert est.n_iter_ == _chosen_epochs(best, 400, 1250 / 400)
    assert np.isnan(est.candidate_scores_["dropout"][0])


@pytest.mark.parametrize(
    "params",
    [
        {"dropout": 0.1, "noise": "homoscedastic"},
        {"dropout": 0.1, "noise": "heteroscedastic"},
        # A deep ensemble: three members, one pass each.
        {"dropout": 0.0, "noise": "heteroscedastic", "n_members": 3, "n_passes": 1},
    ],
    ids=["homoscedastic", "heteroscedastic", "deep ensemble"],
)
def test_given_rate_and_noise_choose_the_training_length_alone(params):
    # One candidate, max_epochs="auto": the estimator's own network (all its
    # members) trains with early stopping on the held-out rows, and the refit
    # trains for its best epoch.
    est = MCDropoutRegressor(
        **{"hidden_layer_sizes": (16,), "n_passes": 20, "random_state": 0, **params}
    ).fit(X[:100], y[:100])
    scores = est.candidate_scores_
    assert len(scores["held_out_log_likelihood"]) == 1
    assert scores["noise"][0] == est.noise_ == params["noise"]
    assert scores["dropout"][0] == params["dropout"]
    assert 1 <= scores["n_epochs"][0] <= 400  # 800 steps of 2 batches
    assert len(est._chosen["validation_scores"]) == 400  # all of its cosine
    assert est.n_iter_ == _chosen_epochs(scores["n_epochs"][0], 400, 1250 / 400)
    n_members = params.get("n_members", 5)  # "auto": five on 100 rows
    assert est.n_members_ == n_members
    assert est.predict_passes(X[:5]).shape == (5, est.n_passes * n_members)
    assert est._chosen["fresh_rows"] == 10  # the noise level's (tau_ or scale)
    fitted = "tau_" if params["noise"] == "homoscedastic" else "noise_scale_"
    assert getattr(est, fitted) > 0


def test_classifier_with_a_given_rate_chooses_its_training_length_alone():
    labels = (y[:100] > 0).astype(int)
    est = MCDropoutClassifier(
        hidden_layer_sizes=(8,), dropout=0.1, n_members=2, n_passes=10,
        random_state=0,
    ).fit(X[:100], labels)  # fmt: skip
    assert len(est.candidate_scores_["held_out_log_likelihood"]) == 1
    assert est.n_iter_ == est.candidate_scores_["n_epochs"][0]
    assert est.predict_proba_passes(X[:3]).shape == (3, 20, 2)


def test_classifier_chooses_its_rate_by_held_out_log_loss():
    labels = (y > 0).astype(int)
    clf = MCDropoutClassifier(**FAST).fit(X, labels)
    scores = clf.candidate_scores_
    assert len(scores["dropout"]) == len(_AUTO_RATES)
    assert np.all(scores["held_out_log_likelihood"] < 0)  # minus a log loss
    best = np.argmax(scores["held_out_log_likelihood"])
    assert clf.dropout_[0] == scores["dropout"][best]


def test_verbose_says_what_was_chosen_and_why(capsys):
    MCDropoutRegressor(**{**FAST, "max_epochs": 2, "verbose": 1}).fit(X, y)
    out = capsys.readouterr().out
    assert "Held-out log-likelihood of each candidate" in out
    assert out.count("<- chosen") == 1
    assert "The chosen model trains 2 epochs." in out
