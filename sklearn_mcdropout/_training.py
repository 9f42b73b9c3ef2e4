"""skorch nets with less per-batch Python work, their mini-batches and schedule."""

import math

import torch
from skorch import NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import Callback
from skorch.net import NeuralNet
from torch import nn

from ._network import _noise_variance

_BATCH_HOOKS = ("on_batch_begin", "on_grad_computed", "on_batch_end")


class _TensorBatches:
    """Iterate over (X, y) mini-batches of a skorch ``Dataset`` of tensors.

    Replaces ``torch.utils.data.DataLoader``: no per-row indexing and no
    collation, one permutation per epoch and a slice per batch. The tensors
    stay on their device. With a list of M generators (the members of an
    ensemble) each member draws its own permutation from its own generator
    and a batch stacks the members' rows: X of shape (M, batch, features);
    member m's batches are those one network would get from generator m.
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
        if isinstance(self.generator, list):
            yield from self._member_batches(X, y)
            return
        if self.shuffle:
            perm = torch.randperm(len(X), generator=self.generator).to(X.device)
            X, y = X[perm], (None if y is None else y[perm])
        for start in range(0, len(X), self.batch_size):
            stop = start + self.batch_size
            yield X[start:stop], (None if y is None else y[start:stop])

    def _member_batches(self, X, y):
        perms = [torch.randperm(len(X), generator=g) for g in self.generator]
        rows = torch.cat(perms).to(X.device)
        # One gather per epoch: (M, n, ...), member m's rows in its order.
        X = X.index_select(0, rows).view(len(perms), *X.shape)
        y = y.index_select(0, rows).view(len(perms), *y.shape)
        for start in range(0, X.shape[1], self.batch_size):
            stop = start + self.batch_size
            yield X[:, start:stop], y[:, start:stop]


class _MemberLoss(nn.Module):
    """The members' losses summed: sum over m of ``base``(member m's batch).

    Outputs (M, batch, ...) and targets (M, batch, ...) are scored as one
    batch of M x batch rows by a criterion that averages over rows, then
    multiplied by M. So each member's gradient is that of its own loss, and
    Adam's weight decay weighs against it as for one network.
    """

    def __init__(self, base, **kwargs):
        super().__init__()
        self.base = base(**kwargs)

    def forward(self, y_pred, y_true):
        n_members = y_pred.shape[0]
        return n_members * self.base(y_pred.flatten(0, 1), y_true.flatten(0, 1))


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
            return super().run_single_epoch(
                iterator, training, prefix, step_fn, **fit_params
            )
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

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1
        rate = net.lr * (1 + math.cos(math.pi * epoch / self.n_epochs)) / 2
        for group in net.optimizer_.param_groups:
            group["lr"] = rate
        net.history.record("lr", rate)


class _BetaGaussianNLL(nn.Module):
    """Gaussian negative log-likelihood of (mean, raw variance) outputs, beta-NLL.

    Per row, sg(sigma^2)^beta (log sigma^2 + (y - mu)^2 / sigma^2) / 2, with
    sg the stop-gradient (Seitzer et al. 2022, eq. (7)): beta = 0 is the plain
    NLL, whose gradient for the mean shrinks where the predicted variance is
    large, so the mean under-fits there; beta = 1 gives the mean the
    gradient of the squared error. Output column 2j is the mean of target j,
    column 2j + 1 its raw variance.
    """

    def __init__(self, beta=0.5):
        super().__init__()
        self.beta = beta

    def forward(self, y_pred, y_true):
        mean, var = y_pred[:, 0::2], _noise_variance(y_pred[:, 1::2])
        nll = 0.5 * (torch.log(var) + (y_true - mean) ** 2 / var)
        if self.beta:
            nll = nll * var.detach() ** self.beta
        return nll.mean()


class _HomoscedasticNLL(nn.Module):
    """Gaussian negative log-likelihood with one noise variance for every row.

    Per row (log sigma^2 + (y - mu)^2 / sigma^2) / 2, with sigma^2 the given
    ``noise_variance``, or, if None, softplus of a parameter trained with the
    network (the Concrete dropout objective of a homoscedastic model needs
    the likelihood's scale, see ``_concrete._ConcreteRegulariser``).
    """

    def __init__(self, noise_variance=None):
        super().__init__()
        self.noise_variance = noise_variance
        if noise_variance is None:
            self.raw_noise_variance = nn.Parameter(torch.zeros(()))

    def forward(self, y_pred, y_true):
        if self.noise_variance is None:
            var = _noise_variance(self.raw_noise_variance)
        else:
            var = torch.as_tensor(self.noise_variance, dtype=y_pred.dtype)
        return 0.5 * (torch.log(var) + (y_true - y_pred) ** 2 / var).mean()


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
