"""Observation noise models of MCDropoutRegressor: one home for each.

A noise model owns everything that differs between the regressor's
``noise`` options: how many network outputs a target takes and how they
split into the mean and the noise, the training criterion, the aleatoric
variance of each pass (sigma_mt^2 of the predictive mixture, see
``DESIGN.md``), what is fitted after training and which parameter
combinations it refuses. The regressor asks :func:`_noise_model` for the
model of its ``noise`` parameter and calls it; nothing else compares
``noise`` with a name. A new model subclasses :class:`_NoiseModel` and adds
itself to ``_NOISE_MODELS``.

Variances are in units of the standardised target (the network's units)
unless a name says otherwise.
"""

from abc import ABC, abstractmethod

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._mc import _make_runner, _mc_log_likelihoods
from ._network import _AsColumn, _concrete_layers, _dropout_layers

# Smallest noise variance of the heteroscedastic head, in units of the
# standardised target (a noise std of 1e-3 of the target's std).
_NOISE_VARIANCE_FLOOR = 1e-6


def _noise_variance(raw):
    """Noise variance from a raw network output: softplus(raw) + floor > 0."""
    return F.softplus(raw) + _NOISE_VARIANCE_FLOOR


class _NoiseModel(ABC):
    """What a noise model supplies to the regressor.

    The abstract methods are what a model must define; the others have the
    defaults most models want.

    ``est`` is the regressor: its parameters and, after training, its fitted
    target scale (``_y_unit()``) and ``tau_``.
    """

    #: Network outputs per target.
    outputs_per_target = 1

    @abstractmethod
    def components(self, outputs):
        """Each pass's mean and noise variance, from the network's outputs.

        ``outputs`` is a tensor with the network's output columns last. The
        variance is in network units, or None where the model has one noise
        variance for every pass and row (see :meth:`noise_variance`).
        """

    @abstractmethod
    def noise_variance(self, est, variance):
        """The noise variance in the units of y, from :meth:`components`'s
        ``variance`` (or from its mean over the passes)."""

    @abstractmethod
    def criterion_params(self, est, module):
        """The skorch criterion and its parameters, for ``module``."""

    @abstractmethod
    def member_criterion(self, est, outputs_per_target):
        """(criterion class, parameters) of a candidate of this model in a
        network of ``outputs_per_target`` outputs per target (``_selection``)."""

    def check_params(self, est):
        """Refuse parameters that do not go with this model."""
        return None

    @abstractmethod
    def adapt_module(self, module, out_shape, n_outputs):
        """``module``, wrapped if needed so that its output has shape
        (n, ``n_outputs``); a ValueError if its ``out_shape`` for n=2 cannot."""

    def needs_held_out(self, est):
        """Whether rows are held out to fit what :meth:`fit_after_training` fits."""
        return False

    def fit_after_training(self, est, X_held_out, y_held_out, w_held_out):
        """Fit the noise level after training (sets fitted attributes of ``est``)."""
        return None

    @abstractmethod
    def prior_precision(self, est):
        """The model precision tau of the prior's weight decay (network units)."""


class _Homoscedastic(_NoiseModel):
    """One noise precision ``tau_`` per target for every input (the paper's)."""

    def components(self, outputs):
        return outputs, None

    def noise_variance(self, est, variance):
        return 1 / np.asarray(est.tau_)

    def member_criterion(self, est, outputs_per_target):
        if outputs_per_target == 1:
            return nn.MSELoss, {}
        return _MeanColumnsMSE, {"step": outputs_per_target}

    def criterion_params(self, est, module):
        if not _concrete_layers(module):
            return {"criterion": nn.MSELoss}
        # The Concrete objective weighs the likelihood against the KL term,
        # so it needs the likelihood's scale: tau, or a noise level learned
        # with the weights when tau="auto".
        fixed = None if est.tau == "auto" else 1 / self.prior_precision(est)
        return {"criterion": _HomoscedasticNLL, "criterion__noise_variance": fixed}

    def adapt_module(self, module, out_shape, n_outputs):
        if n_outputs == 1 and out_shape == (2,):
            return _AsColumn(module)
        if out_shape != (2, n_outputs):
            vector = " or (n,)" if n_outputs == 1 else ", one column per target"
            raise ValueError(
                "module must map (n, n_features) to an output of shape "
                f"(n, {n_outputs}){vector}, got {out_shape} for n=2."
            )
        return module

    def needs_held_out(self, est):
        return est.tau == "auto" and "tau" not in getattr(est, "_chosen", {})

    def fit_after_training(self, est, X_held_out, y_held_out, w_held_out):
        if est.tau != "auto":
            tau = np.full(est.n_outputs_, float(est.tau))
        elif X_held_out is None:  # fitted on the fresh rows, or while fit chose
            tau = np.atleast_1d(est._chosen["tau"])
        else:
            (tau_scaled,) = _fit_noise_level(
                est, self.components, X_held_out, y_held_out, w_held_out, _PRECISIONS
            )
            tau = tau_scaled / est._y_unit() ** 2
            if "fresh_rows" in est._chosen:  # for the training on every row
                est._chosen["tau"] = tau
        est.tau_ = float(tau[0]) if est.n_outputs_ == 1 else tau

    def prior_precision(self, est):
        # tau="auto": the precision fitted while fit chose, else 1 in the units
        # of the standardised target (before any is fitted).
        if est.tau != "auto":
            return est.tau * est._y_unit() ** 2
        if "tau" in est._chosen:
            return np.asarray(est._chosen["tau"]) * est._y_unit() ** 2
        return 1.0


class _Heteroscedastic(_NoiseModel):
    """A noise variance per input: a second network output per target.

    Output 2j is the mean of target j, output 2j + 1 its raw noise variance,
    made positive by :func:`_noise_variance` (Kendall & Gal 2017).
    """

    outputs_per_target = 2

    def components(self, outputs):
        return outputs[..., 0::2], _noise_variance(outputs[..., 1::2])

    def noise_variance(self, est, variance):
        return variance * (est._y_unit() ** 2 * getattr(est, "noise_scale_", 1.0))

    def fit_after_training(self, est, X_held_out, y_held_out, w_held_out):
        # On the fresh rows where fit chose (_selection); else the scale fitted
        # while it chose, or the variance as the network predicts it.
        if X_held_out is not None and "fresh_rows" in est._chosen:
            (taus,) = _fit_noise_level(
                est, self.components, X_held_out, y_held_out, w_held_out,
                _SCALE_PRECISIONS,
            )  # fmt: skip
            scale = est._chosen["noise_scale"] = 1 / taus  # for every row's training
        else:
            scale = np.atleast_1d(est._chosen.get("noise_scale", 1.0))
            scale = np.broadcast_to(scale, (est.n_outputs_,)).astype(float)
        est.noise_scale_ = float(scale[0]) if est.n_outputs_ == 1 else scale

    def criterion_params(self, est, module):
        return {"criterion": _BetaGaussianNLL, "criterion__beta": est.nll_beta}

    def member_criterion(self, est, outputs_per_target):
        return _BetaGaussianNLL, {"beta": est.nll_beta}

    def check_params(self, est):
        if est.tau != "auto":
            raise ValueError(
                "noise='heteroscedastic' learns the noise level of each input, "
                f"and a fixed model precision cannot go with it: got tau={est.tau!r}; "
                "use tau='auto' (the default)."
            )

    def adapt_module(self, module, out_shape, n_outputs):
        if out_shape != (2, n_outputs):
            raise ValueError(
                "With noise='heteroscedastic', module must map (n, n_features) "
                f"to an output of shape (n, {n_outputs}): per target, the "
                "mean and the raw noise variance (made positive by "
                f"softplus); got {out_shape} for n=2."
            )
        return module

    def prior_precision(self, est):
        # The loss is the likelihood itself, whose precision the network
        # predicts: tau = 1 (as in Gal et al.'s Concrete dropout code, whose
        # weight regulariser is l^2 / N).
        return 1.0


_NOISE_MODELS = {
    "homoscedastic": _Homoscedastic(),
    "heteroscedastic": _Heteroscedastic(),
}


def _noise_model(name):
    """The noise model of the regressor's ``noise`` parameter."""
    return _NOISE_MODELS[name]


def _prior_weight_decay(est, module, n_train):
    """Adam's weight decay 2 lambda from the paper's prior, for ``module``.

    lambda = l^2 (1 - p) / (2 N tau) of the authors' code, with tau in the
    units of the standardised target (the mean over targets), p the mean
    rate of the network's dropout layers and N the training set's size.
    """
    dropout = np.mean([layer.p for layer in _dropout_layers(module)])
    tau = float(np.mean(est._noise_model().prior_precision(est)))
    return est.length_scale**2 * (1 - dropout) / (n_train * tau)


# The grid of noise precisions tau_s (units of the standardised target) whose
# held-out mixture likelihood is compared: noise variances 1e-6 to 1e2, then a
# finer grid around the best (a likelihood within about 1e-4 of the optimum).
_PRECISIONS = np.geomspace(1e-2, 1e6, 161)
_FINE_STEPS = 21
# A heteroscedastic model's: the inverse scales 1/16 to 16 of its predicted
# noise variance.
_SCALE_PRECISIONS = np.geomspace(1 / 16, 16, 49)


def _best_precisions(
    runner, masks, X, y, sample_weight, components, n_groups, grid=_PRECISIONS
):
    """The noise precision maximising each group's held-out mixture likelihood.

    The likelihood is that of the mixture of the passes' Gaussians N(mu_t,
    1 / tau) (the paper's eq. (8), what ``sample_y`` draws from), not of a
    Gaussian of its moments, so the mixture is never a comb of narrow
    components; where ``components`` predicts each pass's noise variance
    sigma_t^2, of N(mu_t, sigma_t^2 / tau), and tau (from ``grid``, e.g.
    :data:`_SCALE_PRECISIONS`) is the inverse of a scale of that variance.
    ``y`` (n, n_targets) in the units of the standardised target, the rows
    weighted by ``sample_weight``. Returns, per group, tau per target, and
    the mean held-out log-likelihood per target at it.
    """
    y = np.asarray(y.cpu() if torch.is_tensor(y) else y, dtype=np.float64)
    y = y.reshape(len(y), -1)

    def best(grid):
        _, ll = _mc_log_likelihoods(runner, masks, X, y, components, grid, n_groups)
        mean_ll = np.average(ll, axis=0, weights=sample_weight)  # (J, G, K)
        k = mean_ll.argmax(axis=-1)
        score = np.take_along_axis(mean_ll, k[..., None], axis=-1)[..., 0]
        return grid[k].T, score.T  # (G, J) each

    tau, _ = best(grid)
    # Then a finer grid around each group's and target's best.
    ratio = grid[1] / grid[0]
    return best(np.unique(np.concatenate([
        np.geomspace(t / ratio, t * ratio, _FINE_STEPS) for t in np.ravel(tau)
    ])))  # fmt: skip


def _fit_noise_level(est, components, X, y, sample_weight, grid):
    """The fitted network's best precision on the rows ``X``, ``y`` (see
    :func:`_best_precisions`), per target, in standardised units."""
    runner = _make_runner(est.net_.module_)
    components = _on_target_scale(components, est)
    taus, _ = _best_precisions(
        runner, est._masks, X, y, sample_weight, components, 1, grid
    )
    return taus


def _on_target_scale(components, est):
    """``components`` with the means on the standardised target's scale.

    A target with no variance is predicted with a zero scale (``_y_scale``):
    its means are then the target's mean whatever the network outputs.
    """
    gain = torch.as_tensor(est._y_scale / est._y_unit(), dtype=torch.float64)

    def scaled(outputs):
        mu, var = components(outputs)
        return mu * gain.to(mu.device), var

    return scaled


def _gaussian_nll(y, mean, var):
    """The Gaussian negative log-likelihood of ``y`` less log(2 pi) / 2,
    (log sigma^2 + (y - mu)^2 / sigma^2) / 2, elementwise."""
    return 0.5 * (torch.log(var) + (y - mean) ** 2 / var)


class _MeanColumnsMSE(nn.Module):
    """The squared error of the means of a network giving ``step`` outputs per
    target (a homoscedastic candidate beside heteroscedastic ones)."""

    def __init__(self, step=2, reduction="mean"):
        super().__init__()
        self.step = step
        self.reduction = reduction

    def forward(self, y_pred, y_true):
        error = (y_pred[..., 0 :: self.step] - y_true) ** 2
        return error.mean() if self.reduction == "mean" else error


class _BetaGaussianNLL(nn.Module):
    """Gaussian negative log-likelihood of (mean, raw variance) outputs, beta-NLL.

    Per row, sg(sigma^2)^beta (log sigma^2 + (y - mu)^2 / sigma^2) / 2, with
    sg the stop-gradient (Seitzer et al. 2022, eq. (7)): beta = 0 is the plain
    NLL, whose gradient for the mean shrinks where the predicted variance is
    large, so the mean under-fits there; beta = 1 gives the mean the
    gradient of the squared error. The outputs are read as
    :meth:`_Heteroscedastic.components` reads them.
    """

    def __init__(self, beta=0.5, reduction="mean"):
        super().__init__()
        self.beta = beta
        self.reduction = reduction

    def forward(self, y_pred, y_true):
        mean, var = _NOISE_MODELS["heteroscedastic"].components(y_pred)
        nll = _gaussian_nll(y_true, mean, var)
        if self.beta:
            nll = nll * var.detach() ** self.beta
        return nll.mean() if self.reduction == "mean" else nll

    def held_out_losses(self, y_pred, y_true):
        """The plain Gaussian NLL of each row and target (beta = 0), by which
        held-out rows are scored (early stopping, the candidates' epochs).

        The beta weight shapes the training gradient; as a score it is not
        proper: for a calibrated row, (y - mu)^2 = sigma^2, the weighted loss
        sigma (log sigma^2 + 1) / 2 (beta = 1/2) is smallest at sigma^2 =
        e^-3, and grows as a better model's noise variance falls below it.
        """
        return _gaussian_nll(
            y_true, *_NOISE_MODELS["heteroscedastic"].components(y_pred)
        )


class _HomoscedasticNLL(nn.Module):
    """Gaussian negative log-likelihood with one noise variance for every row.

    Per row (log sigma^2 + (y - mu)^2 / sigma^2) / 2, with sigma^2 the given
    ``noise_variance``, or, if None, softplus of a parameter trained with the
    network (the Concrete dropout objective of a homoscedastic model needs
    the likelihood's scale, see ``_concrete._ConcreteRegulariser``).
    """

    def __init__(self, noise_variance=None, reduction="mean"):
        super().__init__()
        self.noise_variance = noise_variance
        self.reduction = reduction
        if noise_variance is None:
            self.raw_noise_variance = nn.Parameter(torch.zeros(()))

    def forward(self, y_pred, y_true):
        if self.noise_variance is None:
            var = _noise_variance(self.raw_noise_variance)
        else:
            var = torch.as_tensor(self.noise_variance, dtype=y_pred.dtype)
        nll = _gaussian_nll(y_true, y_pred, var)
        return nll.mean() if self.reduction == "mean" else nll
