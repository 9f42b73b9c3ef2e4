"""Monte Carlo dropout passes with shared masks.

Pass t uses the weights omega_t = {M_i diag(z_i^t)}: one Bernoulli mask z_i^t
per dropout layer, the same for every input row (Gal & Ghahramani 2016,
Section 3). The masks of pass t are drawn layer by layer from a private
generator seeded by (seed, t) alone, so every chunk of rows, and every way of
grouping the passes, sees the same T masks: a row's prediction does not depend
on the rows predicted with it, and the first T passes of a longer run are
those of a shorter one.
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

# Rows per chunk times the widest layer: activations of a chunk stay near 32 MB
# on the CPU, 256 MB on a GPU (where bigger products keep the device busy).
_CHUNK_ELEMENTS = 2**23
_GPU_CHUNK_ELEMENTS = 2**26
_ALIGN = 32
# Chains whose pass costs fewer multiply-adds than this run many passes per
# batched product: for small networks the per-pass overhead dominates.
_BATCHED_MAX_MACS = 2**21


def _pass_seed(seed, t):
    """Seed of pass t: distinct for every t < 2**32 (odd multiplier mod 2**32)."""
    return (seed * 0x9E3779B1 + t * 0x85EBCA77 + 1) % 2**32


def _keep_mask(gen, size, p, device):
    """Bernoulli(1 - p) keep mask, or None when nothing is dropped."""
    if p == 0:
        return None
    return torch.rand(size, generator=gen, device=device) >= p


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

    def passes(self, X, seeds):
        self._gen = torch.Generator(device=X.device)
        for seed in seeds:
            self._gen.manual_seed(seed)
            yield self.module(X).reshape(X.shape[0], -1)


class _ChainRunner:
    """``nn.Sequential`` of Linear, elementwise activation and Dropout layers.

    A mask folds into the weights (W_i = M_i diag(z_i), Section 3 of Gal &
    Ghahramani 2016): a dropped unit's row of its own layer and its column of
    the next layer are skipped, so each pass multiplies only the kept units.
    With no input dropout the first hidden layer A and its product P = A W^T
    with the second layer's weights are the same in every pass; each pass then
    only subtracts the dropped units' share, (P - A_d W_d^T) / (1 - p).
    """

    def __init__(self, blocks, input_p, cache=True):
        self.blocks = blocks
        self.input_p = input_p
        self.cache = cache

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
        if not blocks or blocks[-1][2] is not None:
            return None
        return cls(blocks, input_p)

    def _macs(self):
        return sum(lin.in_features * lin.out_features for lin, _, _ in self.blocks)

    def _draw(self, gen, device):
        keep_in = None
        if self.input_p is not None:
            size = self.blocks[0][0].in_features
            keep_in = _keep_mask(gen, size, self.input_p, device)
        keeps = [
            None if p is None else _keep_mask(gen, lin.out_features, p, device)
            for lin, _, p in self.blocks
        ]
        return keep_in, keeps

    def _uses_cache(self, n_passes):
        # The cached product costs one full pass; it pays off over a few passes.
        p0 = self.blocks[0][2]
        return (
            self.cache
            and self.input_p is None
            and len(self.blocks) >= 2
            and p0 is not None
            and p0 < 0.5
            and n_passes >= 4
        )

    def passes(self, X, seeds):
        gen = torch.Generator(device=X.device)
        cached = self._uses_cache(len(seeds))
        if cached:
            A0, P = self._cache(X)
        for seed in seeds:
            keep_in, keeps = self._draw(gen.manual_seed(seed), X.device)
            if cached:
                cols, col_scale = _select(keeps[1], self.blocks[1][2])
                h, start = self._from_cache(A0, P, keeps[0], cols), 2
            else:
                cols, col_scale = _select(keep_in, self.input_p)
                h, start = (X if cols is None else X[:, cols]), 0
            for (lin, act, p), keep in zip(
                self.blocks[start:], keeps[start:], strict=True
            ):
                rows, row_scale = _select(keep, p)
                W = _submatrix(lin.weight, rows, cols, col_scale)
                b = lin.bias if rows is None or lin.bias is None else lin.bias[rows]
                h = _act(act, F.linear(h, W, b))
                cols, col_scale = rows, row_scale
            yield h

    def _cache(self, X):
        """First hidden layer A0 and P = (A0 W1^T) / (1 - p0) + b1, all units."""
        (lin0, act0, p0), (lin1, _, _) = self.blocks[:2]
        A0 = _act(act0, F.linear(X, lin0.weight, lin0.bias))
        return A0, F.linear(A0, lin1.weight / (1 - p0), lin1.bias)

    def _from_cache(self, A0, P, keep0, rows):
        """Second hidden layer's units ``rows`` from the cache, given mask 0."""
        (_, _, p0), (lin1, act1, _) = self.blocks[:2]
        Z = P if rows is None else P[:, rows]
        if keep0 is not None:
            W1 = lin1.weight if rows is None else lin1.weight[rows]
            dropped, is_dropped = _select(~keep0, 0.0)
            W_dropped = W1[:, dropped] * (is_dropped / (1 - p0))
            Z = torch.addmm(Z, A0[:, dropped], W_dropped.T, alpha=-1)
        elif rows is None:
            Z = P.clone()  # the activation below works in place
        return _act(act1, Z)


def _select(keep, p):
    """Units to compute for a mask, and the factor of each in the next layer.

    The kept units, padded with dropped ones up to a multiple of ``_ALIGN``
    (matrix products run much faster on aligned sizes), and per unit the
    inverted-dropout factor 1 / (1 - p), 0 for padding.
    """
    if keep is None:
        return None, None
    n_kept = int(keep.sum())
    size = min(keep.numel(), -(-n_kept // _ALIGN) * _ALIGN)
    dropped = (~keep).to(torch.uint8)  # sorting bool is not supported everywhere
    units = torch.argsort(dropped, stable=True)[:size].sort().values
    return units, keep[units] / (1 - p)


def _submatrix(weight, rows, cols, col_scale):
    W = weight if rows is None else weight[rows]
    return W if cols is None else W[:, cols] * col_scale.to(W.dtype)


def _act(act, z):
    """Apply an elementwise activation; ReLU in place on the fresh product."""
    if act is None:
        return z
    return z.clamp_min_(0) if type(act) is nn.ReLU else act(z)


class _BatchedChainRunner(_ChainRunner):
    """A small chain: many passes per batched product, masks applied densely.

    Pass t multiplies by diag(z_t) / (1 - p) after each dropout layer; a block
    of passes is one batched matrix product per layer over (pass, row) pairs.
    """

    def passes(self, X, seeds):
        gen = torch.Generator(device=X.device)
        first = None
        if self.input_p is None:  # the first layer is the same in every pass
            lin, act, _ = self.blocks[0]
            first = _act(act, F.linear(X, lin.weight, lin.bias))
        budget = _chunk_elements(X.device)
        step = max(1, budget // (X.shape[0] * self._width()))
        for start in range(0, len(seeds), step):
            block = seeds[start : start + step]
            draws = [self._draw(gen.manual_seed(seed), X.device) for seed in block]
            yield from self._block(X, first, draws)

    def _width(self):
        return max(max(lin.in_features, lin.out_features) for lin, _, _ in self.blocks)

    def _block(self, X, first, draws):
        n_passes = len(draws)
        if first is None:
            h = X.expand(n_passes, *X.shape)
            h = h * _stacked([d[0] for d in draws], self.input_p, X)
            blocks = enumerate(self.blocks)
        else:
            h = first.expand(n_passes, *first.shape)
            blocks = enumerate(self.blocks[1:], start=1)
            p0 = self.blocks[0][2]
            if p0 is not None:
                h = h * _stacked([d[1][0] for d in draws], p0, X)
        for i, (lin, act, p) in blocks:
            h = _act(act, F.linear(h, lin.weight, lin.bias))
            if p is not None:
                h = h * _stacked([d[1][i] for d in draws], p, X)
        return h


def _stacked(keeps, p, X):
    """Per-pass inverted-dropout factors, shape (passes, 1, units)."""
    if keeps[0] is None:
        return 1.0
    return (torch.stack(keeps) / (1 - p)).unsqueeze(1).to(X.dtype)


def _make_runner(module, fast=True, dtype=torch.float32, device=None):
    """The fastest runner for ``module`` on ``device``, computing in ``dtype``.

    In float32 it is exact. In a reduced precision the passes run on a copy of
    the network in that dtype (products accumulate in float32 on hardware
    with native bfloat16 units), without the first-layer cache, whose
    subtraction of the dropped units' share would lose digits. On a GPU every
    chain runs batched: selecting kept units costs host synchronisations that
    outweigh the arithmetic they save there.
    """
    if dtype != torch.float32:
        module = copy.deepcopy(module).to(dtype)
    runner = _ChainRunner.from_module(module) if fast else None
    if runner is None:
        return _ReferenceRunner(module)
    on_gpu = device is not None and torch.device(device).type == "cuda"
    if on_gpu or runner._macs() <= _BATCHED_MAX_MACS:
        return _BatchedChainRunner(runner.blocks, runner.input_p)
    runner.cache = dtype == torch.float32
    return runner


def _chunk_elements(device):
    return _GPU_CHUNK_ELEMENTS if device.type == "cuda" else _CHUNK_ELEMENTS


def _chunks(X, module):
    """Yield (rows, X_chunk) in chunks that keep activations bounded."""
    widths = [m.weight.shape[0] for m in module.modules() if isinstance(m, nn.Linear)]
    step = max(64, _chunk_elements(X.device) // max(widths, default=1024))
    for start in range(0, X.shape[0], step):
        rows = slice(start, min(start + step, X.shape[0]))
        yield rows, X[rows]


def _mc_chunks(module, X, n_passes, seed, fast=True, dtype=torch.float32):
    """Yield (rows, passes) per chunk of rows of ``X``.

    ``passes`` iterates over the ``n_passes`` outputs for the chunk, each of
    shape (n_chunk, n_outputs), the masks of pass t shared by every chunk.
    """
    runner = _make_runner(module, fast, dtype, X.device)
    seeds = [_pass_seed(seed, t) for t in range(n_passes)]
    for rows, Xc in _chunks(X.to(dtype), module):
        yield rows, runner.passes(Xc, seeds)


@torch.inference_mode()
def _mc_moments(module, X, n_passes, seed, fast=True, dtype=torch.float32):
    """Mean and variance (ddof=0) over ``n_passes`` passes of a 1-output network.

    Streams over passes (sums shifted by the first pass, in float64), so memory
    does not grow with ``n_passes``.
    """
    mean = np.empty(X.shape[0])
    var = np.empty(X.shape[0])
    for rows, passes in _mc_chunks(module, X, n_passes, seed, fast, dtype):
        shift = s1 = s2 = None
        for y in passes:
            y = y.reshape(-1).double()
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
def _mc_samples(module, X, n_passes, seed, fast=True, dtype=torch.float32):
    """The ``n_passes`` outputs, shape (n_samples, n_passes, n_outputs), float64."""
    out = None
    for rows, passes in _mc_chunks(module, X, n_passes, seed, fast, dtype):
        for t, y in enumerate(passes):
            if out is None:
                out = np.empty((X.shape[0], n_passes, y.shape[1]))
            out[rows, t] = y.double().cpu().numpy()
    return out


@torch.inference_mode()
def _mc_class_stats(module, X, n_passes, seed, fast=True, dtype=torch.float32):
    """Streamed class statistics over ``n_passes`` passes of a logit network.

    Returns the mean over the passes of the softmax probabilities, shape
    (n_samples, n_classes), the mean over the passes of their entropy (nats),
    shape (n_samples,), and how often each class is a pass's argmax, shape
    (n_samples, n_classes). Memory does not grow with ``n_passes``.
    """
    proba = entropy = votes = None
    for rows, passes in _mc_chunks(module, X, n_passes, seed, fast, dtype):
        s_proba = s_entropy = s_votes = None
        for logits in passes:
            p = torch.softmax(logits.double(), dim=1)
            h = -torch.special.xlogy(p, p).sum(dim=1)
            vote = F.one_hot(p.argmax(dim=1), p.shape[1])
            if s_proba is None:
                s_proba, s_entropy, s_votes = p, h, vote
                continue
            s_proba += p
            s_entropy += h
            s_votes += vote
        if proba is None:
            n_classes = s_proba.shape[1]
            proba = np.empty((X.shape[0], n_classes))
            entropy = np.empty(X.shape[0])
            votes = np.empty((X.shape[0], n_classes), dtype=np.int64)
        proba[rows] = (s_proba / n_passes).cpu().numpy()
        entropy[rows] = (s_entropy / n_passes).cpu().numpy()
        votes[rows] = s_votes.cpu().numpy()
    return proba, entropy, votes
