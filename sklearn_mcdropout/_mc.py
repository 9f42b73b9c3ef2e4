"""Monte Carlo dropout passes with shared masks.

Pass t uses the weights omega_t = {M_i diag(z_i^t)}: one Bernoulli mask z_i^t
per dropout layer, the same for every input row (Gal & Ghahramani 2016,
Section 3). Masks are drawn pass by pass, layer by layer, from a private
generator re-seeded for every chunk of rows, so all chunks see the same T masks
and a row's prediction does not depend on the rows predicted with it.
"""

import copy

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._network import _dropout_layers

_ELEMENTWISE = (
    nn.ReLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.Identity,
    nn.GELU,
    nn.ELU,
    nn.LeakyReLU,
    nn.SiLU,
    nn.Softplus,
)

# Rows per chunk times the widest layer: activations of a chunk stay near 32 MB.
_CHUNK_ELEMENTS = 2**23


def _keep_mask(gen, size, p, device):
    """Bernoulli(1 - p) keep mask, or None when nothing is dropped."""
    if p == 0:
        return None
    return torch.rand(size, generator=gen, device=device) >= p


def _scale(keep, p):
    """Inverted-dropout factor 1 / (1 - p) of a layer, 1 where nothing is dropped."""
    return 1.0 if keep is None else 1 / (1 - p)


def _indices(keep):
    return None if keep is None else torch.nonzero(keep, as_tuple=True)[0]


class _ReferenceRunner:
    """Any network: a copy in eval mode whose dropout layers apply the shared mask.

    Only the dropout layers are stochastic; BatchNorm and other mode-dependent
    layers stay in eval mode. The copy keeps the fitted network untouched and
    lets several threads predict at once.
    """

    def __init__(self, module):
        self.module = copy.deepcopy(module).eval()
        for layer in _dropout_layers(self.module):
            layer.register_forward_hook(self._apply_mask)

    def _apply_mask(self, layer, inputs, output):
        x = inputs[0]
        keep = _keep_mask(self._gen, x.shape[1:], layer.p, x.device)
        return output if keep is None else x * keep / (1 - layer.p)

    def passes(self, X, n_passes, gen):
        self._gen = gen
        for _ in range(n_passes):
            yield self.module(X).reshape(-1)


class _ChainRunner:
    """``nn.Sequential`` of Linear, elementwise activation and Dropout layers.

    A mask folds into the weights (W_i = M_i diag(z_i), Section 3 of Gal &
    Ghahramani 2016): a dropped unit's row of its own layer and its column of
    the next layer are skipped, so each pass multiplies only the kept units.
    With no input dropout the first hidden layer A and its product P = A W^T
    with the second layer's weights are the same in every pass; each pass then
    only subtracts the dropped units' share, (P - A_d W_d^T) / (1 - p).
    """

    def __init__(self, blocks, input_p):
        self.blocks = blocks
        self.input_p = input_p

    @classmethod
    def from_module(cls, module):
        """The runner for ``module``, or None if it is not such a chain."""
        if type(module) is not nn.Sequential:
            return None
        layers = list(module)
        input_p = None
        if layers and type(layers[0]) is nn.Dropout:
            input_p = layers.pop(0).p
        blocks = []
        while layers:
            linear = layers.pop(0)
            if type(linear) is not nn.Linear:
                return None
            act = layers.pop(0) if layers and type(layers[0]) in _ELEMENTWISE else None
            p = layers.pop(0).p if layers and type(layers[0]) is nn.Dropout else None
            blocks.append((linear, act, p))
        if not blocks or blocks[-1][2] is not None or blocks[-1][0].out_features != 1:
            return None
        return cls(blocks, input_p)

    def _draw(self, gen, device):
        keep_in = None
        if self.input_p is not None:
            keep_in = _keep_mask(
                gen, self.blocks[0][0].in_features, self.input_p, device
            )
        keeps = [
            None if p is None else _keep_mask(gen, lin.out_features, p, device)
            for lin, _, p in self.blocks
        ]
        return keep_in, keeps

    def _uses_cache(self, n_passes):
        # The cached product costs one full pass; it pays off over a few passes.
        p0 = self.blocks[0][2]
        return (
            self.input_p is None
            and len(self.blocks) >= 2
            and p0 is not None
            and p0 < 0.5
            and n_passes >= 4
        )

    def passes(self, X, n_passes, gen):
        cached = self._uses_cache(n_passes)
        if cached:
            (lin0, act0, _), (lin1, _, _) = self.blocks[:2]
            A0 = _act(act0, F.linear(X, lin0.weight, lin0.bias))
            P = A0 @ lin1.weight.T
        for _ in range(n_passes):
            keep_in, keeps = self._draw(gen, X.device)
            if cached:
                h, start = self._from_cache(A0, P, keeps), 2
                cols, scale = _indices(keeps[1]), _scale(keeps[1], self.blocks[1][2])
            else:
                cols, scale = _indices(keep_in), _scale(keep_in, self.input_p)
                h, start = (X if cols is None else X[:, cols]), 0
            for (lin, act, p), keep in zip(
                self.blocks[start:], keeps[start:], strict=True
            ):
                rows = _indices(keep)
                W = lin.weight if rows is None else lin.weight[rows]
                W = W if cols is None else W[:, cols]
                b = lin.bias if rows is None or lin.bias is None else lin.bias[rows]
                h = _act(act, F.linear(h, W if scale == 1.0 else W * scale, b))
                cols, scale = rows, _scale(keep, p)
            yield h.reshape(-1)

    def _from_cache(self, A0, P, keeps):
        (_, _, p0), (lin1, act1, _) = self.blocks[0], self.blocks[1]
        rows = _indices(keeps[1])
        W1 = lin1.weight if rows is None else lin1.weight[rows]
        Z = P if rows is None else P[:, rows]
        if keeps[0] is not None:
            dropped = torch.nonzero(~keeps[0], as_tuple=True)[0]
            Z = (Z - A0[:, dropped] @ W1[:, dropped].T) / (1 - p0)
        if lin1.bias is not None:
            Z = Z + (lin1.bias if rows is None else lin1.bias[rows])
        return _act(act1, Z)


def _act(act, z):
    return z if act is None else act(z)


def _make_runner(module, fast=True):
    """The fastest exact runner for ``module``."""
    runner = _ChainRunner.from_module(module) if fast else None
    return runner if runner is not None else _ReferenceRunner(module)


def _chunk_rows(module):
    widths = [m.weight.shape[0] for m in module.modules() if isinstance(m, nn.Linear)]
    return max(64, _CHUNK_ELEMENTS // max(widths, default=1024))


def _chunks(X, module, seed, device):
    """Yield (rows, X_chunk, generator) with the generator re-seeded per chunk."""
    gen = torch.Generator(device=device)
    step = _chunk_rows(module)
    for start in range(0, X.shape[0], step):
        gen.manual_seed(seed)
        stop = min(start + step, X.shape[0])
        yield slice(start, stop), X[start:stop], gen


@torch.inference_mode()
def _mc_moments(module, X, n_passes, seed, fast=True):
    """Mean and variance (ddof=0) over ``n_passes`` shared-mask passes.

    Streams over passes (sums shifted by the first pass, in float64), so memory
    does not grow with ``n_passes``.
    """
    runner = _make_runner(module, fast)
    mean = np.empty(X.shape[0])
    var = np.empty(X.shape[0])
    for rows, Xc, gen in _chunks(X, module, seed, X.device):
        shift = s1 = s2 = None
        for y in runner.passes(Xc, n_passes, gen):
            y = y.double()
            if shift is None:
                shift, s1, s2 = y, torch.zeros_like(y), torch.zeros_like(y)
                continue
            d = y - shift
            s1 += d
            s2 += d * d
        m = s1 / n_passes
        mean[rows] = (shift + m).cpu().numpy()
        var[rows] = (s2 / n_passes - m * m).clamp_min(0).cpu().numpy()
    return mean, var


@torch.inference_mode()
def _mc_samples(module, X, n_passes, seed, fast=True):
    """The ``n_passes`` pass outputs, shape (n_samples, n_passes), float64."""
    runner = _make_runner(module, fast)
    out = np.empty((X.shape[0], n_passes))
    for rows, Xc, gen in _chunks(X, module, seed, X.device):
        for t, y in enumerate(runner.passes(Xc, n_passes, gen)):
            out[rows, t] = y.double().cpu().numpy()
    return out
