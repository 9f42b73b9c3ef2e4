"""What ``fit`` chooses on held-out rows: dropout rate, noise model, epochs.

When a parameter is ``"auto"`` (``dropout``, ``noise``, ``max_epochs``),
:func:`_choose` does what the paper's protocol does (Gal & Ghahramani 2016,
Section 5.1), inside ``fit``: it holds out a fraction ``validation_fraction``
of the rows, trains every candidate (each dropout rate of
:data:`_AUTO_RATES` with each noise model) at once as the members of one
batched network (``_members``), each member stopped at its own best epoch on
the held-out rows (the training rate and schedule of ``lr`` and
``lr_schedule`` "auto": :func:`_recipe`), and scores each by the
log-likelihood of its predictive mixture (the paper's eq. (8); for a
homoscedastic candidate with its noise precision fitted on that same
likelihood) on every row no candidate trained on: the held-out rows and
the regressor's fresh rows (below). The best candidate's rate, noise model,
number of epochs (scaled to the chosen model's longer schedule where the
candidates train a shorter one: :func:`_candidate_budget`) and noise
precision go to the estimator's ``_chosen``, from which the chosen model is
then trained; every candidate's score is in ``candidate_scores_``.

A regressor first sets apart another ``validation_fraction`` of the rows,
fresh rows that train nothing and pick no epoch: the chosen model trains on
the rest, its noise level is fitted on them (``_noise``), and on at most the
regressor's ``_refit_training_rows`` training rows it is trained again on
every row with that noise level (``_base._fit_steps``; :func:`_trains_again`).
On the rows that also picked the best epoch, the noise level comes out too
small, and the intervals too narrow (``benchmarks/RESULTS_peers.md``).
Scoring the candidates on them too doubles the rows the choice rests on (on
boston 87 rows, not 41), at the cost of the candidates' passes over them.
"""

import math

import numpy as np
import torch

from ._mc import _make_runner, _Masks
from ._members import _build_members
from ._network import _build_mlp
from ._training import (
    _EarlyStopping,
    _SampleWeighted,
    _training_target,
    _training_threads,
)

#: The dropout rates ``dropout="auto"`` chooses from: the grid of the paper's
#: protocol (DropoutUncertaintyExps).
_AUTO_RATES = (0.005, 0.01, 0.05, 0.1)
#: max_epochs, lr and lr_schedule "auto" (where fit chooses the training
#: length): on at most the estimator's ``_annealed_training_rows`` training
#: rows (the regressor's 1,500), about 2,500 optimiser steps of a cosine
#: annealing from a larger rate, which converges within them, the candidates
#: a shorter cosine of about 800 (``_candidate_budget``); on more rows (whose
#: held-out part picks the best epoch reliably), and for the classifier,
#: about 20,000 steps at Adam's usual rate. Within ``_AUTO_EPOCHS`` epochs.
#: Measured in benchmarks/RESULTS_peers.md.
_AUTO_TRAINING = {
    "annealed": {
        "steps": 2_500,
        "candidate_steps": 800,
        "lr": 1e-2,
        "lr_schedule": "cosine",
    },
    "constant": {"steps": 20_000, "lr": 1e-3, "lr_schedule": "constant"},
}
#: n_members "auto" (where fit chooses the training length): on at most the
#: estimator's ``_ensemble_training_rows`` training rows (the regressor's
#: 20,000, the classifier's 5,000), an ensemble of this many members, whose
#: pooled passes average out the variance of one network; one network on
#: more rows (the fit time).
_AUTO_MEMBERS = 5
_AUTO_EPOCHS = (20, 2000)


def _auto_training(est, n_train=None):
    """``_AUTO_TRAINING``'s entry for candidates trained on ``n_train`` rows;
    the constant rate's without rows to choose on (``partial_fit``, a given
    ``max_epochs``, continued training)."""
    annealed = n_train is not None and n_train <= est._annealed_training_rows
    return _AUTO_TRAINING["annealed" if annealed else "constant"]


def _epoch_budget(est, n_train, partial=False):
    """Most epochs of the chosen model: ``max_epochs``, or the "auto" budget.

    "auto" gives about the optimiser steps of ``_auto_training`` (the constant
    rate's in ``partial_fit``), so small data sets get many more epochs than
    large ones, within ``_AUTO_EPOCHS``.
    """
    if est.max_epochs != "auto":
        return est.max_epochs
    steps = _auto_training(est, None if partial else n_train)["steps"]
    return _epochs_of(est, steps, n_train)


def _epochs_of(est, steps, n_train):
    """The epochs of about ``steps`` optimiser steps on ``n_train`` rows,
    within ``_AUTO_EPOCHS``."""
    n_batches = math.ceil(n_train / est.batch_size)
    return int(np.clip(math.ceil(steps / n_batches), *_AUTO_EPOCHS))


def _candidate_budget(est, n_train):
    """The candidates' most epochs, and the factor from a candidate's best
    epoch to the chosen model's epochs.

    With the annealed training (``max_epochs="auto"`` and the cosine schedule
    on at most ``_annealed_training_rows`` rows), the candidates train a
    cosine of ``candidate_steps``, which chose about as well as the full
    budget's at a third of its cost (benchmarks/RESULTS_peers.md, "Shorter
    candidates"), and the chosen model the full budget's, its epochs
    scaled by up to the budgets' ratio (``_chosen_epochs``). Otherwise the
    full budget, and the factor 1 (a constant rate's best epoch does not
    move with the budget).
    """
    budget = _epoch_budget(est, n_train)
    if not _short_cosine(est, n_train):
        return budget, 1.0
    steps = _auto_training(est, n_train)["candidate_steps"]
    candidate_budget = _epochs_of(est, steps, n_train)
    return candidate_budget, budget / candidate_budget


def _short_cosine(est, n_train):
    """Whether the candidates train the annealed training's shorter cosine:
    ``max_epochs="auto"``, at most ``_annealed_training_rows`` training
    rows and the cosine schedule (``_candidate_budget``)."""
    auto = _auto_training(est, n_train)
    schedule = _recipe(est, n_train).get("lr_schedule", est.lr_schedule)
    short = est.max_epochs == "auto" and "candidate_steps" in auto
    return short and schedule == "cosine"


def _chosen_epochs(best, budget, scale):
    """The chosen model's epochs, from its candidate's best of ``budget``.

    The best epoch e is scaled by the fraction of the way the candidates'
    cosine had annealed there, (1 - cos(pi e / budget)) / 2 (SGDR's
    schedule, Loshchilov & Hutter 2017, eq. (5)): a candidate best near the
    end of its cosine was held back by the schedule, and the chosen model
    trains the longer one to the same point (``scale``, see
    ``_candidate_budget``); one best at nearly the full rate was held back
    by over-fitting, which takes about the same epochs at that rate, and
    the chosen model trains them.
    """
    annealed = (1 - math.cos(math.pi * best / budget)) / 2
    return max(1, round(best * (1 + (scale - 1) * annealed)))


def _patience(est, budget, n_train):
    """Epochs without improvement before a candidate stops: ``n_iter_no_change``,
    and with ``max_epochs="auto"`` at least a tenth of the budget; the whole
    budget where the candidates train the shorter cosine (``_short_cosine``).

    A cosine's held-out loss can stall at its early, large rates and fall
    again as the rate anneals: a candidate stopped there ends before its
    best epoch. One candidate alone (a given rate and noise model) stopped
    so on boston's splits (benchmarks/RESULTS_peers.md, "One candidate");
    the candidates together train on while any of them improves.
    """
    if est.max_epochs != "auto":
        return est.n_iter_no_change
    if _short_cosine(est, n_train):
        return budget
    return max(est.n_iter_no_change, math.ceil(budget / 10))


def _recipe(est, n_train=None):
    """What ``lr``, ``lr_schedule`` and ``n_members`` "auto" resolve to, for
    ``_chosen``.

    Where fit chooses the training length (``max_epochs="auto"``, the
    candidates trained on ``n_train`` rows), ``_auto_training``'s schedule,
    its rate where the schedule is its own (else the constant one's), and
    ``_auto_members``; otherwise (``n_train`` None) the constant rate's, one
    network. A given value is kept.
    """
    if est.max_epochs != "auto":
        n_train = None
    auto = _auto_training(est, n_train)
    schedule = auto["lr_schedule"] if est.lr_schedule == "auto" else est.lr_schedule
    lr = auto["lr"]
    if schedule != auto["lr_schedule"]:
        lr = _AUTO_TRAINING["constant"]["lr"]
    resolved = {
        "lr": lr,
        "lr_schedule": schedule,
        "n_members": _auto_members(est, n_train),
    }
    return {name: resolved[name] for name in resolved if getattr(est, name) == "auto"}


def _auto_members(est, n_train):
    """``n_members="auto"``: a list of networks' length; ``_AUTO_MEMBERS`` on
    at most ``_ensemble_training_rows`` rows where members can be stacked
    (not learned rates or a custom ``module``); else one network."""
    if isinstance(est.module, list):
        return len(est.module)
    stackable = est.module is None and est.dropout != "concrete"
    small = n_train is not None and n_train <= est._ensemble_training_rows
    return _AUTO_MEMBERS if stackable and small else 1


def _candidates(est):
    """(dropout rate or None, noise model name or None) of each candidate.

    None is a custom ``module``'s own rates or learned rates, and the
    classifier's lack of a noise model.
    """
    if est.module is not None or est.dropout == "concrete":
        rates = [None]
    else:
        rates = _AUTO_RATES if est.dropout == "auto" else [est.dropout]
    return [(p, noise) for noise in est._noise_candidates() for p in rates]


#: What "auto" resolves to in ``partial_fit``, which has no held-out rows to
#: choose on: the reference study's rate and the paper's noise model.
_INCREMENTAL = {"dropout": 0.1, "noise": "homoscedastic"}


def _choose(est, rows, device, seeds, rng, partial=False):
    """Train the candidates on the training rows, score them, keep the best.

    Sets ``est._chosen`` (what the "auto" parameters resolve to, and the
    epochs to train) and ``est.candidate_scores_``; returns the ``_Rows``
    but the fresh ones, and the fresh rows its noise level is fitted on
    (None, and all rows, where no fresh rows are set apart).
    Where nothing is left to choose (one candidate and a given
    ``max_epochs``), ``_chosen`` only resolves the "auto" with one possible
    value, and no rows are held out; ``partial`` (a first ``partial_fit``)
    resolves "auto" to ``_INCREMENTAL`` and the epoch budget.
    """
    est._chosen = _recipe(est)
    est.__dict__.pop("candidate_scores_", None)  # a refit may choose nothing
    if partial:
        for name, value in _INCREMENTAL.items():
            if getattr(est, name, None) == "auto":
                est._chosen[name] = value
        if est.max_epochs == "auto":
            est._chosen["max_epochs"] = _epoch_budget(est, rows.n_train(), True)
        return rows, None
    candidates = _candidates(est)
    if len(candidates) == 1 and est.max_epochs != "auto":
        if getattr(est, "noise", None) == "auto":
            est._chosen["noise"] = candidates[0][1]
        return rows, None
    fresh = None
    if est._fits_on_fresh_rows() and len(rows.y) >= 3:
        rows, fresh = rows.split(est.validation_fraction, rng)
    train, held_out = rows.split(est.validation_fraction, rng)
    est._chosen.update(_recipe(est, train.n_train()))
    budget, scale = _candidate_budget(est, train.n_train())
    stops_early = est.max_epochs == "auto" or est.early_stopping
    patience = _patience(est, budget, train.n_train()) if stops_early else None
    if len(candidates) == 1:  # the estimator's own network, members and all
        net, stopping = _train_one(est, candidates[0], train, held_out, device, seeds,
                                   budget, patience)  # fmt: skip
        n_members = est._resolved("n_members")
    else:  # each candidate a member of one batched network
        net, stopping = _train_members(
            est, candidates, train, held_out, device, seeds, budget, patience
        )
        n_members = len(candidates)
    plan = _make_runner(net.module_).plan(est.n_features_in_)
    masks = _Masks(plan, est._mask_seed, est.n_passes, n_members)
    runner = _make_runner(net.module_)
    scoring = held_out if fresh is None else held_out.join(fresh)
    with _training_threads(net.module_, est.batch_size):
        scored = est._score_candidates(runner, masks, scoring, candidates)
    best = int(np.argmax([score for score, _ in scored]))
    epochs = stopping.best_epochs() if stopping else None
    _record(est, candidates, scored, best, epochs, budget, stopping, scale)
    _say(net, est.candidate_scores_, best, est._chosen["n_epochs"])
    if fresh is not None:
        est._chosen["fresh_rows"] = len(fresh.y)
        est._chosen["train_again"] = _trains_again(est, train.n_train())
    return rows, fresh


def _trains_again(est, n_train):
    """Whether the chosen model, its noise level fitted on the fresh rows, is
    trained again on every row: where the candidates trained on at most
    ``_refit_training_rows`` rows.

    On few rows the fresh ones add much to the training; on many they add
    little, and the noise level was fitted for the network trained without
    them, not for another one trained again, whose passes spread
    differently: on California (13,000 training rows) the intervals of the
    network trained again covered 0.901 to 0.959 over eight seeds, those of
    the one kept 0.939 to 0.951, at the same NLL
    (benchmarks/RESULTS_peers.md, "Trained again on every row").
    """
    return n_train <= est._refit_training_rows


def _say(net, scores, best, n_epochs):
    """With ``verbose``, each candidate's score, the choice and the chosen
    model's ``n_epochs``, where skorch's print_log writes (it is kept only
    when verbose)."""
    print_log = dict(net.callbacks_).get("print_log")
    if print_log is None:
        return
    lines = ["Held-out log-likelihood of each candidate (the best is chosen):"]
    for c, score in enumerate(scores["held_out_log_likelihood"]):
        rate, noise = scores["dropout"][c], scores["noise"][c]
        what = f"dropout={rate:g}" + ("" if noise is None else f", noise={noise!r}")
        mark = "  <- chosen" if c == best else ""
        epochs = scores["n_epochs"][c]
        lines.append(f"  {what}: {score:.4f} after {epochs} epochs{mark}")
    lines.append(f"The chosen model trains {n_epochs} epochs.")
    print_log.sink("\n".join(lines))


def _record(est, candidates, scored, best, epochs, budget, stopping, scale):
    """``_chosen`` from the best candidate (its epochs by ``_chosen_epochs``);
    ``candidate_scores_`` for all."""
    rate, noise = candidates[best]
    chosen = {}
    if est.dropout == "auto" and rate is not None:
        chosen["dropout"] = rate
    if getattr(est, "noise", None) == "auto":
        chosen["noise"] = noise
    n_epochs = [budget] * len(candidates) if epochs is None else epochs
    chosen["n_epochs"] = _chosen_epochs(n_epochs[best], budget, scale)
    if est.max_epochs == "auto":
        chosen["max_epochs"] = chosen["n_epochs"]
    chosen.update(scored[best][1])
    if stopping is not None:
        chosen["validation_scores"] = stopping.scores_of(best)
    est._chosen.update(chosen)
    est.candidate_scores_ = {
        "dropout": np.array([np.nan if p is None else p for p, _ in candidates]),
        "noise": np.array([n for _, n in candidates], dtype=object),
        "n_epochs": np.array(n_epochs),
        "held_out_log_likelihood": np.array([score for score, _ in scored]),
        **{
            key: _column([values.get(key) for _, values in scored])
            for key in sorted({k for _, values in scored for k in values})
        },
    }


def _column(values):
    """Candidates' values (None where a candidate has none) as one array: NaN
    for None, one row per candidate where a value is per target."""
    width = max(np.size(v) for v in values if v is not None)
    rows = [np.full(width, np.nan) if v is None else np.atleast_1d(v) for v in values]
    return (
        np.array(rows)[:, 0]
        if width == 1 and np.ndim(values[0]) == 0
        else np.array(rows)
    )


def _train_one(est, candidate, train, held_out, device, seeds, budget, patience):
    """The one candidate (a custom network, learned rates or one given rate
    and noise model), trained as the estimator trains it (with its
    ``n_members``), with early stopping on the held-out rows."""
    _, noise = candidate
    if noise is not None:
        est._chosen["noise"] = noise
    stopping = None
    if patience is not None:
        stopping = _OneStopping(held_out, patience, est.tol, device)
    torch_seed, batch_seed = seeds
    with torch.random.fork_rng(devices=_cuda(device)):
        torch.manual_seed(torch_seed)
        module = est._build_module(
            train.X.shape[1], est._n_network_outputs(), device, torch_seed
        )
        est.weight_decay_ = est._weight_decay(module, train.n_train())
        net = est._build_net(
            module, device, batch_seed, stopping=stopping, epochs=budget
        )
        net.initialize()
        est._set_regulariser(net, train.X.shape[1], train.n_train())
        y = _training_target(net, train.y, train.sample_weight)
        with _training_threads(net.module_, est.batch_size):
            net.partial_fit(train.X, y, epochs=budget)
    return net, stopping


def _train_members(est, candidates, train, held_out, device, seeds, budget, patience):
    """The candidates as the members of one batched network, trained at once.

    Every member has the outputs of the candidate that needs the most per
    target (a heteroscedastic one: mean and noise variance); a member reads
    its own (``member_criterion`` of its noise model).
    """
    per_target = max(est._outputs_per_target(noise) for _, noise in candidates)
    n_outputs = per_target * est._n_targets()
    sizes = [int(s) for s in np.atleast_1d(est.hidden_layer_sizes)]
    torch_seed, batch_seed = seeds

    def build(rate):
        network = _build_mlp(train.X.shape[1], sizes, est.activation, rate, n_outputs)
        return network.to(device)

    with torch.random.fork_rng(devices=_cuda(device)):
        torch.manual_seed(torch_seed)
        module = _build_members(build, [p for p, _ in candidates], torch_seed, False)
        criterion = {
            "criterion": _CandidateLoss,
            "criterion__losses": [
                est._member_criterion(noise, per_target) for _, noise in candidates
            ],
        }
        stopping = None
        if patience is not None:
            stopping = _MemberStopping(held_out, patience, est.tol, device)
        est.weight_decay_ = _candidate_weight_decay(est, candidates, train.n_train())
        net = est._build_net(
            module, device, batch_seed, None, criterion, stopping, epochs=budget
        )
        net.initialize()
        y = _training_target(net, train.y, train.sample_weight)
        with _training_threads(net.module_, est.batch_size):
            net.partial_fit(train.X, y, epochs=budget)
    return net, stopping


def _candidate_weight_decay(est, candidates, n_train):
    """The weight decay of the candidates' training: ``weight_decay``, or the
    prior's with tau = 1 in the units of the standardised target (the noise
    precision is not known yet), the mean over the candidates' rates."""
    if est.weight_decay != "auto":
        return float(est.weight_decay)
    rates = [p for p, _ in candidates]
    return float(np.mean([est.length_scale**2 * (1 - p) / n_train for p in rates]))


def _cuda(device):
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


class _CandidateLoss(torch.nn.Module):
    """The sum of the members' own losses, each member a candidate.

    ``losses`` holds (criterion class, parameters) per member; each is wrapped
    for sample weights (``_training._SampleWeighted``), and members sharing a
    criterion are scored together, as ``_members._MemberLoss`` scores all.
    """

    def __init__(self, losses):
        super().__init__()
        groups = {}
        for m, (criterion, params) in enumerate(losses):
            key = (criterion, tuple(sorted(params.items())))
            groups.setdefault(key, []).append(m)
        # The candidates are noise-major (_candidates): a criterion's members
        # are a run, sliced (a view) rather than gathered in every step.
        self.members = [slice(ms[0], ms[-1] + 1) for ms in groups.values()]
        self.criteria = torch.nn.ModuleList(
            _SampleWeighted(criterion, **dict(params)) for criterion, params in groups
        )
        self._weighted = False

    @property
    def weighted(self):
        return self._weighted

    @weighted.setter
    def weighted(self, value):
        self._weighted = value
        for criterion in self.criteria:
            criterion.weighted = value

    def pack(self, y, weight):
        """The target carrying the weights, as every member's criterion reads it."""
        return self.criteria[0].pack(y, weight)

    def forward(self, y_pred, y_true):
        total = 0
        for members, criterion in zip(self.members, self.criteria, strict=True):
            pred, true = y_pred[members], y_true[members]
            total = total + len(pred) * criterion(
                pred.flatten(0, 1), true.flatten(0, 1)
            )
        return total

    def member_held_out_losses(self, y_pred, y_true):
        """Each member's held-out score of each row, (M, n), from outputs
        (M, n, ...) (``_SampleWeighted.held_out_losses``)."""
        losses = torch.empty(y_pred.shape[:2], dtype=y_pred.dtype, device=y_pred.device)
        for members, criterion in zip(self.members, self.criteria, strict=True):
            pred = y_pred[members]
            true = y_true.expand(len(pred), *y_true.shape)
            rows = criterion.held_out_losses(pred.flatten(0, 1), true.flatten(0, 1))
            losses[members] = rows.reshape(len(pred), -1).to(losses.dtype)
        return losses


class _Recording(_EarlyStopping):
    """Early stopping on the held-out ``_Rows`` that keeps every epoch's
    held-out losses (``history_``: floats, or a tensor per epoch, one loss
    per member)."""

    def __init__(self, held_out, n_iter_no_change, tol, device):
        w = held_out.sample_weight
        w = None if w is None else torch.as_tensor(w, device=device)
        super().__init__(held_out.X, held_out.y, w, n_iter_no_change, tol)
        self.history_ = []

    def scores_of(self, m):
        """Member (candidate) m's held-out scores, minus its loss, by epoch."""
        return [-float(np.atleast_1d(loss)[m]) for loss in self.history_]


class _MemberStopping(_Recording):
    """Early stopping of each member on its own held-out loss.

    As :class:`~._training._EarlyStopping`, per member: after each epoch the
    held-out loss of every member (dropout off, weighted by the rows' sample
    weights), the best epoch's weights of each member kept; training stops
    once no member has improved by ``tol`` for more than ``n_iter_no_change``
    epochs. ``best_epochs`` and ``scores_of`` give what ``_choose`` records.
    """

    def on_train_begin(self, net, **kwargs):
        params = dict(net.module_.named_parameters())
        n_members = next(iter(params.values())).shape[0]
        self.best_loss_ = torch.full((n_members,), math.inf, dtype=torch.float64)
        self.best_epoch_ = torch.zeros(n_members, dtype=torch.long)
        self.n_no_improvement_ = torch.zeros(n_members, dtype=torch.long)
        self.best_state_ = {k: v.detach().clone() for k, v in params.items()}

    def on_epoch_end(self, net, **kwargs):
        losses = self._member_losses(net)
        self.history_.append(losses)
        net.history.record("valid_loss", float(losses.mean()))
        improved = losses < self.best_loss_ - self.tol
        self.n_no_improvement_ = torch.where(improved, 0, self.n_no_improvement_ + 1)
        better = losses < self.best_loss_
        self.best_loss_ = torch.where(better, losses, self.best_loss_)
        self.best_epoch_[better] = len(self.history_)
        with torch.no_grad():
            for name, param in net.module_.named_parameters():
                rows = better.to(param.device)
                self.best_state_[name][rows] = param[rows]
        if bool((self.n_no_improvement_ > self.n_iter_no_change).all()):
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        with torch.no_grad():
            for name, param in net.module_.named_parameters():
                param.copy_(self.best_state_[name])
        self.X = self.y = self.sample_weight = self.best_state_ = None

    def _member_losses(self, net):
        rows = self._row_losses(net, "member_held_out_losses")
        return self._weighted_mean(rows).cpu()

    def best_epochs(self):
        """Each member's best epoch (from 1): the epochs its refit trains."""
        return [max(1, int(e)) for e in self.best_epoch_]


class _OneStopping(_Recording):
    """The estimator's early stopping of one network, with what ``_choose``
    records: the best epoch and the held-out scores of every epoch."""

    def on_epoch_end(self, net, **kwargs):
        best = self.best_loss_
        try:
            super().on_epoch_end(net, **kwargs)
        finally:
            loss = net.history[-1, "valid_loss"]
            self.history_.append(loss)
            if loss < best:
                self.best_epoch_ = len(self.history_)

    def best_epochs(self):
        return [max(1, getattr(self, "best_epoch_", len(self.history_)))]
