"""The lean training epochs give skorch's own fit, and step aside for hooks."""

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import Callback

from conftest import linear_data
from sklearn_mcdropout import MCDropoutClassifier, MCDropoutRegressor
from sklearn_mcdropout._training import _ClassifierNet, _RegressorNet


class _CountBatches(Callback):
    def initialize(self):
        self.begun = self.ended = self.grads = 0
        return self

    def on_batch_begin(self, net, **kwargs):
        self.begun += 1

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.grads += 1

    def on_batch_end(self, net, **kwargs):
        self.ended += 1


def _fit_pair(estimator, skorch_class, X, y):
    """The estimator fitted with its net and with skorch's own class."""
    lean = estimator.fit(X, y)
    plain = estimator.__class__(**estimator.get_params())
    plain._net_class = skorch_class
    return lean, plain.fit(X, y)


@pytest.mark.parametrize(
    ("estimator", "skorch_class"),
    [
        (MCDropoutRegressor((16,), tau=1.0, max_epochs=4, batch_size=16,
                            random_state=0), NeuralNetRegressor),
        (MCDropoutClassifier((16,), max_epochs=4, batch_size=16, random_state=0),
         NeuralNetClassifier),
    ],
)  # fmt: skip
def test_lean_epochs_fit_exactly_as_skorch(estimator, skorch_class):
    X, y = linear_data(70, 3, noise=0.1)
    if isinstance(estimator, MCDropoutClassifier):
        y = (y > 0).astype(int)
    lean, plain = _fit_pair(estimator, skorch_class, X, y)
    assert lean.net_._lean_step(lean.net_.train_step)
    assert type(plain.net_) is skorch_class
    for key in ("train_loss", "train_batch_count"):
        assert lean.net_.history[:, key] == plain.net_.history[:, key]
    assert lean.net_.history[-1, "batches", :, "train_batch_size"] == [16] * 4 + [6]
    lean_state = lean.net_.module_.state_dict()
    for name, value in plain.net_.module_.state_dict().items():
        torch.testing.assert_close(lean_state[name], value, rtol=0, atol=0)
    np.testing.assert_array_equal(lean.predict(X), plain.predict(X))


@pytest.mark.parametrize("net_class", [_RegressorNet, _ClassifierNet])
def test_lean_epochs_call_batch_hooks_of_callbacks(net_class):
    rng = np.random.default_rng(0)
    X = torch.as_tensor(rng.normal(size=(40, 3)), dtype=torch.float32)
    if net_class is _RegressorNet:
        y, n_out = X[:, :1].clone(), 1
    else:
        y, n_out = (X[:, 0] > 0).long(), 2
    counter = _CountBatches()
    net = net_class(
        torch.nn.Linear(3, n_out),
        criterion=torch.nn.MSELoss if n_out == 1 else torch.nn.CrossEntropyLoss,
        max_epochs=3,
        batch_size=10,
        train_split=None,
        callbacks=[counter],
        verbose=0,
    ).fit(X, y)
    assert counter.begun == counter.grads == counter.ended == 3 * 4
    assert net.history[:, "train_batch_count"] == [4, 4, 4]


@pytest.mark.parametrize("estimator_class", [MCDropoutRegressor, MCDropoutClassifier])
def test_cosine_schedule_anneals_each_epoch_as_torch_does(estimator_class):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    est = estimator_class(
        (8,), lr=0.01, lr_schedule="cosine", max_epochs=6, random_state=0
    ).fit(X, y)
    # torch's CosineAnnealingLR (eta_min = 0) over the same epochs.
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)
    expected = []
    for _ in range(6):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(est.net_.history[:, "lr"], expected, rtol=1e-12)
    assert expected[0] == 0.01
    assert 0 < expected[-1] < 0.001
    assert [g["lr"] for g in est.net_.optimizer_.param_groups] == [expected[-1]] * 2
    assert est.net_._lean_step(est.net_.train_step)

    constant = estimator_class((8,), lr=0.01, max_epochs=6, random_state=0).fit(X, y)
    assert "lr" not in constant.net_.history[-1]
    assert [g["lr"] for g in constant.net_.optimizer_.param_groups] == [0.01] * 2
    outputs = "predict_proba" if hasattr(est, "predict_proba") else "predict_passes"
    assert not np.allclose(
        getattr(est, outputs)(X[:5]), getattr(constant, outputs)(X[:5])
    )


class _EpochWeights(Callback):
    """Keeps a copy of the first weight matrix after every epoch."""

    def initialize(self):
        self.weights = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.weights.append(next(net.module_.parameters()).detach().clone())


class _StopAfter(Callback):
    def __init__(self, n_epochs):
        self.n_epochs = n_epochs

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.n_epochs:
            raise KeyboardInterrupt


def _xy(estimator_class, n=60):
    X, y = linear_data(n, 3, noise=0.1, seed=1)
    if estimator_class is MCDropoutClassifier:
        y = (y > 0).astype(int)
    return X, y


def _outputs(est, X):
    if isinstance(est, MCDropoutClassifier):
        return est.predict_proba(X)
    return est.predict_passes(X)


@pytest.mark.parametrize("estimator_class", [MCDropoutRegressor, MCDropoutClassifier])
def test_callbacks_see_every_epoch_and_leave_training_unchanged(estimator_class):
    X, y = _xy(estimator_class)
    params = {"max_epochs": 5, "batch_size": 16, "random_state": 0}
    if estimator_class is MCDropoutRegressor:
        params["tau"] = 1.0
    epochs, batches = _EpochWeights(), _CountBatches()
    callbacks = [epochs, ("batches", batches)]
    est = estimator_class((8,), callbacks=callbacks, **params).fit(X, y)
    plain = estimator_class((8,), **params).fit(X, y)

    assert dict(est.net_.callbacks_)["batches"] is batches
    assert batches.begun == batches.grads == batches.ended == 5 * 4
    assert len(epochs.weights) == 5
    # The last copy is the fitted layer, and the fit is that of no callbacks.
    torch.testing.assert_close(
        epochs.weights[-1], next(est.net_.module_.parameters()), rtol=0, atol=0
    )
    assert not torch.equal(epochs.weights[0], epochs.weights[-1])
    np.testing.assert_array_equal(_outputs(est, X), _outputs(plain, X))
    assert plain.net_._lean_step(plain.net_.train_step)
    assert not est.net_._lean_step(est.net_.train_step)


@pytest.mark.parametrize("estimator_class", [MCDropoutRegressor, MCDropoutClassifier])
def test_callback_raising_keyboard_interrupt_ends_training(estimator_class):
    X, y = _xy(estimator_class)
    params = {"batch_size": 16, "random_state": 0}
    if estimator_class is MCDropoutRegressor:
        params["tau"] = 1.0
    stopped = estimator_class(
        (8,), max_epochs=10, callbacks=[_StopAfter(3)], **params
    ).fit(X, y)
    short = estimator_class((8,), max_epochs=3, **params).fit(X, y)
    assert len(stopped.net_.history) == 3
    np.testing.assert_array_equal(_outputs(stopped, X), _outputs(short, X))


@pytest.mark.parametrize(
    "callbacks", [["print"], [("name", 3)], [_EpochWeights], [("a", "b", "c")]]
)
def test_callbacks_that_are_not_skorch_callbacks_are_refused(callbacks):
    X, y = _xy(MCDropoutRegressor, n=20)
    est = MCDropoutRegressor((4,), max_epochs=1, tau=1.0, callbacks=callbacks)
    with pytest.raises(ValueError, match="callbacks must hold skorch Callback"):
        est.fit(X, y)


@pytest.mark.parametrize(
    ("hidden", "threads"), [((16,), 1), ((1024, 1024), 2)], ids=["small", "large"]
)
def test_fit_runs_a_small_network_on_one_torch_thread(monkeypatch, hidden, threads):
    """Training, the candidates' scores and the noise level's passes of a
    network under ``_ONE_THREAD_MACS`` (weights x batch) run on one torch
    thread; a larger one keeps the caller's threads, restored after fit."""
    seen = {}

    def recording(name, method):
        def wrapper(*args, **kwargs):
            seen.setdefault(name, set()).add(torch.get_num_threads())
            return method(*args, **kwargs)

        return wrapper

    for cls, name in [
        (_RegressorNet, "partial_fit"),
        (MCDropoutRegressor, "_score_candidates"),
        (MCDropoutRegressor, "_fit_after_training"),
    ]:
        monkeypatch.setattr(cls, name, recording(name, getattr(cls, name)))
    X, y = linear_data(n=200)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        est = MCDropoutRegressor(hidden, max_epochs=2, batch_size=64, random_state=0)
        est.fit(X, y)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert seen == {
        "partial_fit": {threads},
        "_score_candidates": {threads},
        "_fit_after_training": {threads},
    }
