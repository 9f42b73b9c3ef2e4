"""skorch nets with less per-batch Python work, their mini-batches and schedule."""

import contextlib
import copy
import math

import numpy as np
import torch
from skorch import NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import Callback
from skorch.net import NeuralNet
from torch import nn
from torch.nn import functional as F

_BATCH_HOOKS = ("on_batch_begin", "on_grad_computed", "on_batch_end")
# A training step of fewer multiply-adds than this (weights x batch rows) runs
# on one torch thread: more threads barely help such small products, and
# beside another busy process they slow each step many times over.
_ONE_THREAD_MACS = 2**24


@contextlib.contextmanager
def _training_threads(module, batch_size):
    """Train a small network on one torch thread; the count is restored after."""
    n_weights = sum(p.numel() for p in module.parameters())
    threads = torch.get_num_threads()
    if threads == 1 or n_weights * batch_size >= _ONE_THREAD_MACS:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class _TensorBatches:
    """Iterate over (X, y) mini-batches of a skorch ``Dataset`` of tensors.

    Replaces ``torch.utils.data.DataLoader``: no per-row indexing and no
    collation, one permutation per epoch and a slice per batch. The tensors
    stay on their device (the members of an ensemble have their own,
    ``_members._MemberBatches``).
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None):
        self.X, self.y = dataset.X, dataset.y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return -(-len(self.X) // self.batch_size)

    def __iter__(self):
        X, y = self.X, self.y
        if self.shuffle:
            perm = torch.randperm(len(X), generator=self.generator).to(X.device)
            X, y = X[perm], (None if y is None else y[perm])
        for start in range(0, len(X), self.batch_size):
            stop = start + self.batch_size
            yield X[start:stop], (None if y is None else y[start:stop])


class _LeanEpochs:
    """Mixin for a skorch net: training epochs without unused per-batch hooks.

    Per mini-batch, skorch's ``run_single_epoch`` notifies three batch hooks,
    passes the optimiser a closure and switches every module to training
    mode; on a UCI-sized network that costs about as much as the batch's
    arithmetic. When neither the net nor any callback implements a batch
    hook and the training step is skorch's own, a training epoch here runs
    the same steps in the same order (zero the gradients, forward, loss,
    backward, optimiser step; the batch's loss and size in the history),
    so the fitted weights and history are skorch's. Otherwise it is
    skorch's loop. The optimiser must not need a closure (Adam here).
    """

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if not (training and iterator is not None and self._lean_step(step_fn)):
            out = super().run_single_epoch(
                iterator, training, prefix, step_fn, **fit_params
            )
            # The members' batches record their rows (_members._MemberBatches).
            record_rows = getattr(iterator, "record_batch_rows", None)
            if training and record_rows is not None:
                record_rows(self.history, prefix)
            return out
        self._set_training(True)
        n_batches = 0
        for X_batch, y_batch in iterator:
            self.history.new_batch()
            self._zero_grad_optimizer()
            loss = self.get_loss(
                self.infer(X_batch, **fit_params), y_batch, X=X_batch, training=True
            )
            loss.backward()
            self._step_optimizer(None)
            self.history.record_batch(prefix + "_loss", loss.item())
            self.history.record_batch(prefix + "_batch_size", X_batch.shape[-2])
            n_batches += 1
        self.history.record(prefix + "_batch_count", n_batches)
        return None

    def _lean_step(self, step_fn):
        """Whether a training epoch may skip the per-batch hooks."""
        own = type(self)
        if getattr(step_fn, "__func__", None) is not NeuralNet.train_step or (
            own.train_step_single is not NeuralNet.train_step_single
        ):
            return False
        for hook in _BATCH_HOOKS:
            if getattr(own, hook) is not getattr(NeuralNet, hook):
                return False
            base = getattr(Callback, hook)
            if any(getattr(type(cb), hook) is not base for _, cb in self.callbacks_):
                return False
        return True


class _CosineLR(Callback):
    """Cosine annealing of the learning rate from ``net.lr`` to 0 over training.

    At epoch e (from 0) of E, every parameter group's rate is
    lr (1 + cos(pi e / E)) / 2, SGDR's schedule without restarts
    (Loshchilov & Hutter 2017, eq. (5), eta_min = 0), recorded in the
    history as ``lr``. Only an epoch hook, so training stays lean.
    """

    def __init__(self, n_epochs):
        self.n_epochs = n_epochs

    def on_train_begin(self, net, **kwargs):
        # Epochs count from the start of this fit (a warm start restarts).
        self.first_epoch_ = len(net.history)

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1 - getattr(self, "first_epoch_", 0)
        rate = net.lr * (1 + math.cos(math.pi * epoch / self.n_epochs)) / 2
        for group in net.optimizer_.param_groups:
            group["lr"] = rate
        net.history.record("lr", rate)


class _SampleWeighted(nn.Module):
    """A criterion that also takes targets carrying sample weights.

    Unweighted (``weighted`` False, the default), ``criterion(y_pred, y)``,
    unchanged. Weighted, the target is :meth:`pack`'s: the target and the
    row's weight in its last column, one float tensor, so that a batch is a
    slice of it like any target and training stays lean. The loss is then
    the batch mean of w_i l_i, with l_i the criterion's loss of row i
    (averaged over the targets of a multi-output row). The weights are
    normalised to mean 1 over the training rows (``_normalised_weights``),
    so a batch's loss is an unbiased estimate of the weighted mean loss of
    the training set, sum_i w_i l_i / sum_i w_i, and its gradient the
    weighted gradient. The squared error carries sqrt(w_i) y_i and
    sqrt(w_i), and is the plain squared error of sqrt(w_i) y_pred_i: one
    product more than unweighted.
    """

    def __init__(self, criterion, **params):
        super().__init__()
        self.criterion = criterion(**params)
        self.weighted = False
        self._squared_error = type(self.criterion) is nn.MSELoss and not params
        self._class_index = isinstance(self.criterion, nn.CrossEntropyLoss)

    def pack(self, y, weight):
        """The training target ``y`` carrying ``weight`` in a last column."""
        weight = weight.reshape(-1, 1)
        y = y.reshape(len(y), -1).to(weight.dtype)
        if self._squared_error:
            weight = weight.sqrt()
            y = y * weight
        return torch.cat([y, weight], dim=1)

    def forward(self, y_pred, y_true):
        if self._squared_error:
            # nn.MSELoss's own computation, without a second module call: the
            # lean epochs of small networks feel every microsecond per batch.
            if not self.weighted:
                return F.mse_loss(y_pred, y_true)
            # (sqrt(w) y_pred - sqrt(w) y)^2 = w (y_pred - y)^2
            return F.mse_loss(y_pred * y_true[:, -1:], y_true[:, :-1])
        if not self.weighted:
            return self.criterion(y_pred, y_true)
        target = y_true[:, 0].long() if self._class_index else y_true[:, :-1]
        return (self.row_losses(y_pred, target) * y_true[:, -1]).mean()

    def row_losses(self, y_pred, y_true):
        """The criterion's loss of each row, shape (n,).

        The criterion's own ``reduction="none"``, on the same instance (its
        parameters, such as a learned noise level, are the trained ones).
        """
        reduction, self.criterion.reduction = self.criterion.reduction, "none"
        try:
            loss = self.criterion(y_pred, y_true)
        finally:
            self.criterion.reduction = reduction
        return loss.reshape(len(loss), -1).mean(dim=1)

    def held_out_losses(self, y_pred, y_true):
        """Each row's held-out score, shape (n,): the criterion's own
        ``held_out_losses`` where it has one (the heteroscedastic loss scores
        by the plain likelihood), else its :meth:`row_losses`."""
        held_out_losses = getattr(self.criterion, "held_out_losses", None)
        if held_out_losses is None:
            return self.row_losses(y_pred, y_true)
        loss = held_out_losses(y_pred, y_true)
        return loss.reshape(len(loss), -1).mean(dim=1)


def _normalised_weights(sample_weight, device):
    """Sample weights as a float32 tensor of mean 1.

    None when there are none or all are equal: the plain loss is then the
    weighted one.
    """
    if sample_weight is None or np.all(sample_weight == sample_weight[0]):
        return None
    return torch.as_tensor(sample_weight / np.mean(sample_weight), device=device).to(
        torch.float32
    )


def _training_target(net, y, sample_weight):
    """What the net trains on: ``y``, carrying the weights if there are any."""
    weight = _normalised_weights(sample_weight, y.device)
    net.criterion_.weighted = weight is not None
    return y if weight is None else net.criterion_.pack(y, weight)


class _EarlyStopping(Callback):
    """Stop training when the held-out loss stops improving; keep the best weights.

    After each epoch, the loss of the network (dropout off) on the held-out
    rows, weighted by their sample weights, is recorded as ``valid_loss``.
    As in :class:`~sklearn.neural_network.MLPRegressor`, an epoch whose loss
    is not below the best so far minus ``tol`` counts as no improvement, and
    training stops once more than ``n_iter_no_change`` epochs in a row did
    not improve; the weights of the best epoch are then restored. Only epoch
    hooks, so training stays lean. The held-out data are dropped at the end.
    """

    def __init__(self, X, y, sample_weight, n_iter_no_change, tol):
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol

    def on_train_begin(self, net, **kwargs):
        self.best_loss_, self.best_state_, self.n_no_improvement_ = np.inf, None, 0

    def on_epoch_end(self, net, **kwargs):
        loss = self._held_out_loss(net)
        net.history.record("valid_loss", loss)
        if loss > self.best_loss_ - self.tol:
            self.n_no_improvement_ += 1
        else:
            self.n_no_improvement_ = 0
        if loss < self.best_loss_:
            self.best_loss_ = loss
            self.best_state_ = copy.deepcopy(net.module_.state_dict())
        net.history.record("valid_loss_best", bool(loss == self.best_loss_))
        if self.n_no_improvement_ > self.n_iter_no_change:
            # Said where verbose output goes: the sink of skorch's print_log,
            # which the estimator keeps only when verbose.
            print_log = dict(net.callbacks_).get("print_log")
            if print_log is not None:
                print_log.sink(
                    f"Validation loss did not improve more than tol={self.tol} for "
                    f"{self.n_iter_no_change} consecutive epochs. Stopping."
                )
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        if self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
        self.X = self.y = self.sample_weight = self.best_state_ = None

    def _held_out_loss(self, net):
        return float(self._weighted_mean(self._row_losses(net, "held_out_losses")))

    def _row_losses(self, net, method):
        """The criterion's ``method`` on the held-out rows, dropout off."""
        module = net.module_
        module.eval()
        try:
            with torch.no_grad():
                rows = getattr(net.criterion_, method)(module(self.X), self.y)
        finally:
            module.train()
        return rows.double()

    def _weighted_mean(self, rows):
        """The mean over the held-out rows (the last axis), weighted."""
        if self.sample_weight is None:
            return rows.mean(dim=-1)
        w = self.sample_weight.double()
        return (rows * w).sum(dim=-1) / w.sum()


class _Regularised:
    """Mixin for a skorch net: ``regulariser(module_)`` added to the training loss.

    The Concrete dropout KL term (``_concrete._ConcreteRegulariser``), or
    nothing when ``regulariser`` is None.
    """

    regulariser = None

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training and self.regulariser is not None:
            loss = loss + self.regulariser(self.module_)
        return loss


class _RegressorNet(_Regularised, _LeanEpochs, NeuralNetRegressor):
    """skorch's ``NeuralNetRegressor`` with lean training epochs."""


class _ClassifierNet(_Regularised, _LeanEpochs, NeuralNetClassifier):
    """skorch's ``NeuralNetClassifier`` with lean training epochs."""
