"""Monte Carlo dropout passes with shared masks.

Pass t uses the weights omega_t = {M_i diag(z_i^t)}: one Bernoulli mask z_i^t
per dropout layer, the same for every input row (Gal & Ghahramani 2016,
Section 3).

Where the masks come from: :func:`_draw_keep_masks`, the only place that
draws them. The masks of pass t are drawn on the CPU, call by call in the order the
network applies its dropout layers, from a generator seeded by (seed, t)
alone. So they are the same on every device, for every chunk of rows and
every way of grouping the passes: a row's prediction does not depend on the
rows predicted with it (up to float32 rounding, see :func:`_folded_passes`),
and the first T passes of a longer run are those of a shorter one.
:class:`_Masks` holds them (drawn once, with the fitted model) or draws them
block by block where holding them would take too much memory.

Where the T passes run: ``passes`` of a runner, chosen by
:func:`_make_runner`, which yields the outputs of consecutive blocks of
passes, each of shape (n_block, n_rows, n_outputs); :func:`_mc_moments`,
:func:`_mc_log_likelihoods`, :func:`_mc_samples` and :func:`_mc_class_stats`
stream their statistics over those blocks. A runner over a chain of layers
(:class:`_Chain`) computes each stage, a Linear layer with its activation
and the dropout after it, from the masks of the pass; the members of an
ensemble have their own runner, built on the same chain, in ``_members``.

"Block" here always means a block of passes.
"""

import copy
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._network import _ELEMENTWISE, _concrete_layers, _dropout_layers, _is_dropout

# Rows per chunk times the widest layer: activations of a chunk stay near 32 MB
# on the CPU, 256 MB on a GPU (where bigger products keep the device busy).
_CHUNK_ELEMENTS = 2**23
_GPU_CHUNK_ELEMENTS = 2**26
_ALIGN = 32
# Chains whose pass costs fewer multiply-adds than this run many passes per
# batched product: for small networks the per-pass overhead dominates.
_BATCHED_MAX_MACS = 2**21
# Masks of at most this many units in all (passes x units per pass, one byte
# each) are drawn once and held; larger sets are drawn per block of passes.
_MAX_HELD_MASK_VALUES = 2**22
_PASS_BLOCK = 256
# Terms of the tau grid's log-sum-exp computed at once (float64): 256 KB, in
# the CPU's cache.
_LSE_CHUNK = 2**15
# A mask folds into a layer's weights only for a chunk of at least this many
# rows, and of rows x in x out at least _MIN_PRODUCT: smaller products take
# other kernels (measured with torch's CPU BLAS), and scaling the activations
# costs less there.
_MIN_FOLD_ROWS = 8
_MIN_FOLD_PRODUCT = 512


def _pass_seed(seed, t):
    """Seed of pass t: distinct for every t < 2**32 (odd multiplier mod 2**32)."""
    return (seed * 0x9E3779B1 + t * 0x85EBCA77 + 1) % 2**32


def _draw_keep_masks(plan, seed, start, stop):
    """Keep masks of passes ``start`` to ``stop - 1``, drawn on the CPU.

    ``plan`` lists the (shape, rate) of each dropout call of one forward pass,
    in call order. For the members of an ensemble a call's shape is
    (n_members, units) and its rate a tuple of the members' rates: member m's
    units are kept at member m's rate, from the same uniform draws. Returns,
    per call, a bool tensor of shape (stop - start, *shape), where True keeps
    a unit with probability 1 - rate, or None where every rate is 0 (nothing
    dropped, nothing drawn).
    """
    keeps = [
        None
        if _no_dropout(p)
        else torch.empty((stop - start, *shape), dtype=torch.bool)
        for shape, p in plan
    ]
    rates = [_rate(p, shape) for shape, p in plan]
    gen = torch.Generator()
    for i, t in enumerate(range(start, stop)):
        gen.manual_seed(_pass_seed(seed, t))
        for keep, (shape, _), p in zip(keeps, plan, rates, strict=True):
            if keep is not None:
                keep[i] = torch.rand(shape, generator=gen) >= p
    return keeps


def _no_dropout(p):
    return not any(p) if isinstance(p, tuple) else p == 0


def _rate(p, shape):
    """A call's rate: a float, or the members' rates as a column over units."""
    if not isinstance(p, tuple):
        return p
    return torch.tensor(p, dtype=torch.float32).reshape(-1, *(1,) * (len(shape) - 1))


class _Masks:
    """The keep masks of passes 0 to ``n_passes - 1`` drawn from ``seed``.

    With ``n_members`` members, pass t holds one mask per member and layer,
    and the runners yield ``n_components = n_passes * n_members`` outputs,
    pass-major: component t * n_members + m is pass t of member m.
    """

    def __init__(self, plan, seed, n_passes, n_members=1):
        self.plan, self.seed, self.n_passes = plan, seed, n_passes
        self.n_members = n_members
        self.n_components = n_passes * n_members
        n_values = n_passes * sum(math.prod(shape) for shape, _ in plan)
        held = n_values <= _MAX_HELD_MASK_VALUES
        self._held = _draw_keep_masks(plan, seed, 0, n_passes) if held else None

    def pass_blocks(self, step, device):
        """Yield (n_block, masks) for consecutive blocks of at most ``step`` passes."""
        for start in range(0, self.n_passes, step):
            stop = min(start + step, self.n_passes)
            if self._held is None:
                keeps = _draw_keep_masks(self.plan, self.seed, start, stop)
            else:
                keeps = [None if k is None else k[start:stop] for k in self._held]
            yield stop - start, [None if k is None else k.to(device) for k in keeps]


class _ReferenceRunner:
    """Any network: a copy in eval mode whose dropout layers apply the masks.

    Only the dropout layers are stochastic; BatchNorm and other mode-dependent
    layers stay in eval mode. The copy keeps the fitted network untouched and
    lets several threads predict at once.
    """

    def __init__(self, module):
        self.module = copy.deepcopy(module).eval()
        self._keeps = None
        for layer in _dropout_layers(self.module):
            layer.register_forward_hook(self._apply_mask)

    def plan(self, n_features):
        """(shape, rate) of each dropout call, from one forward pass."""
        self._plan = []
        param = next(self.module.parameters(), torch.empty(0))
        X = torch.zeros(1, n_features, device=param.device, dtype=param.dtype)
        with torch.inference_mode():
            self.module(X)
        return self._plan

    def _apply_mask(self, layer, inputs, output):
        x = inputs[0]
        if self._keeps is None:  # recording the plan
            self._plan.append((tuple(x.shape[1:]), float(layer.p)))
            return output
        keep = self._keeps[self._call]
        self._call += 1
        return output if keep is None else x * keep / (1 - layer.p)

    def width(self):
        return _widest(self.module)

    @property
    def dtype(self):
        return next(self.module.parameters()).dtype

    def passes(self, X, masks):
        for n_block, keeps in masks.pass_blocks(_PASS_BLOCK, X.device):
            for t in range(n_block):
                self._keeps, self._call = [_mask_of_pass(k, t) for k in keeps], 0
                yield self.module(X).reshape(1, X.shape[0], -1)
        self._keeps = None


class _Chain:
    """Linear, elementwise activation and dropout layers in sequence.

    ``stages`` holds (linear, activation or None, dropout rate or None) per
    Linear layer, ``input_p`` the rate of a dropout layer before the first.
    For the ``n_members`` members of an ensemble (``_members``), each linear
    layer holds every member's weights and a rate is a tuple of the members'
    rates; ``n_members`` is None for one network.
    """

    def __init__(self, stages, input_p, n_members=None):
        self.stages = stages
        self.input_p = input_p
        self.n_members = n_members
        self.dtype = stages[0][0].weight.dtype

    @classmethod
    def from_module(cls, module):
        """The chain of ``module``, or None if it is not an ``nn.Sequential`` chain."""
        if type(module) is not nn.Sequential:
            return None
        parsed = _parse_chain(module, _is_linear, _dropout_rate)
        return None if parsed is None else cls(*parsed)

    def plan(self, n_features):
        """(shape, rate) of each dropout call: the input's, then each stage's.

        A call's shape is (units,), or (n_members, units) for members.
        """
        lead = () if self.n_members is None else (self.n_members,)
        calls = [] if self.input_p is None else [((*lead, n_features), self.input_p)]
        calls += [
            ((*lead, lin.out_features), p) for lin, _, p in self.stages if p is not None
        ]
        return calls

    def split(self, keeps):
        """The input's mask and one mask (or None) per stage, from the calls."""
        calls = iter(keeps)
        keep_in = None if self.input_p is None else next(calls)
        return keep_in, [None if p is None else next(calls) for _, _, p in self.stages]

    def macs(self):
        """Multiply-adds of one pass of one network (one member), per row."""
        return sum(lin.in_features * lin.out_features for lin, _, _ in self.stages)

    def width(self):
        """The widest layer's units, over all members."""
        widest = max(
            max(lin.in_features, lin.out_features) for lin, _, _ in self.stages
        )
        return widest * (self.n_members or 1)


def _parse_chain(layers, is_linear, dropout_rate):
    """(stages, input rate) of a sequence of layers, or None if it is no chain.

    A chain is an optional input dropout, then stages of a layer for which
    ``is_linear`` holds, an optional elementwise activation and an optional
    dropout (a layer whose ``dropout_rate`` is not None), the last stage
    without dropout.
    """
    layers = list(layers)
    input_p = dropout_rate(layers[0]) if layers else None
    if input_p is not None:
        layers.pop(0)
    stages = []
    while layers:
        linear = layers.pop(0)
        if not is_linear(linear):
            return None
        act = layers.pop(0) if layers and type(layers[0]) in _ELEMENTWISE else None
        p = dropout_rate(layers[0]) if layers else None
        if p is not None:
            layers.pop(0)
        stages.append((linear, act, p))
    if not stages or stages[-1][2] is not None:
        return None
    return stages, input_p


def _is_linear(layer):
    return type(layer) is nn.Linear


def _dropout_rate(layer):
    """The rate of a dropout layer the passes sample, or None for other layers."""
    return layer.p if _is_dropout(layer) else None


class _ChainRunner:
    """A runner over a :class:`_Chain`: the plan, width and dtype are the chain's."""

    def __init__(self, chain):
        self.chain = chain
        self.plan, self.width, self.dtype = chain.plan, chain.width, chain.dtype


class _SparseChainRunner(_ChainRunner):
    """A chain whose passes multiply only the kept units.

    A mask folds into the weights (W_i = M_i diag(z_i), Section 3 of Gal &
    Ghahramani 2016): a dropped unit's row of its own layer and its column of
    the next layer are skipped. With no input dropout the first hidden layer
    A and its product P = A W^T with the second layer's weights are the same
    in every pass; each pass then only subtracts the dropped units' share,
    (P - A_d W_d^T) / (1 - p).
    """

    def __init__(self, chain, cache=True):
        super().__init__(chain)
        self.cache = cache

    def _uses_cache(self, n_passes):
        # The cached product costs one full pass; it pays off over a few passes.
        stages, p0 = self.chain.stages, self.chain.stages[0][2]
        return (
            self.cache
            and self.chain.input_p is None
            and len(stages) >= 2
            and p0 is not None
            and p0 < 0.5
            and n_passes >= 4
        )

    def passes(self, X, masks):
        cached = self._uses_cache(masks.n_passes)
        if cached:
            A0, P = self._cache(X)
            p1 = self.chain.stages[1][2]
        for n_block, keeps in masks.pass_blocks(_PASS_BLOCK, X.device):
            keep_in, stage_keeps = self.chain.split(keeps)
            for t in range(n_block):
                pass_keeps = [_mask_of_pass(k, t) for k in stage_keeps]
                if cached:
                    cols, col_scale = _units_to_compute(pass_keeps[1], p1)
                    h = self._from_cache(A0, P, pass_keeps[0], cols)
                    out = self._forward(h, 2, pass_keeps, cols, col_scale)
                else:
                    cols, col_scale = _units_to_compute(
                        _mask_of_pass(keep_in, t), self.chain.input_p
                    )
                    h = X if cols is None else X[:, cols]
                    out = self._forward(h, 0, pass_keeps, cols, col_scale)
                yield out.unsqueeze(0)

    def _forward(self, h, start, keeps, cols, col_scale):
        """A pass from stage ``start`` on, ``h`` holding the units ``cols`` only."""
        for (lin, act, p), keep in zip(
            self.chain.stages[start:], keeps[start:], strict=True
        ):
            # h holds the units ``cols`` of the previous layer, so this layer
            # uses the columns ``cols`` of W (each times its mask factor) and
            # computes only its own kept units, the rows ``rows`` of W.
            rows, row_scale = _units_to_compute(keep, p)
            W = _submatrix(lin.weight, rows, cols, col_scale)
            b = lin.bias if rows is None or lin.bias is None else lin.bias[rows]
            h = _activate(act, F.linear(h, W, b))
            cols, col_scale = rows, row_scale
        return h

    def _cache(self, X):
        """First hidden layer A0 and P = (A0 W1^T) / (1 - p0) + b1, all units."""
        (lin0, act0, p0), (lin1, _, _) = self.chain.stages[:2]
        A0 = _activate(act0, F.linear(X, lin0.weight, lin0.bias))
        return A0, F.linear(A0, lin1.weight / (1 - p0), lin1.bias)

    def _from_cache(self, A0, P, keep0, rows):
        """The second hidden layer's units ``rows`` from the cache, given mask 0.

        Their pre-activation is (P - A0_d W1_d^T / (1 - p0))[:, rows], where d
        are the units that mask 0 drops.
        """
        (_, _, p0), (lin1, act1, _) = self.chain.stages[:2]
        Z = P if rows is None else P[:, rows]
        if keep0 is not None:
            W1 = lin1.weight if rows is None else lin1.weight[rows]
            dropped, is_dropped = _units_to_compute(~keep0, 0.0)
            W_dropped = W1[:, dropped] * (is_dropped / (1 - p0))
            Z = torch.addmm(Z, A0[:, dropped], W_dropped.T, alpha=-1)
        elif rows is None:
            Z = P.clone()  # the activation below works in place
        return _activate(act1, Z)


def _mask_of_pass(keep, t):
    """Pass t's mask from a block's masks (None stays None)."""
    return None if keep is None else keep[t]


def _units_to_compute(keep, p):
    """Units to compute for a mask, and the factor of each in the next layer.

    The kept units, padded with dropped ones up to a multiple of ``_ALIGN``
    (matrix products run much faster on aligned sizes), and per unit the
    inverted-dropout factor z / (1 - p): 1 / (1 - p) if kept, 0 for padding.
    """
    if keep is None:
        return None, None
    n_kept = int(keep.sum())
    size = min(keep.numel(), -(-n_kept // _ALIGN) * _ALIGN)
    dropped = (~keep).to(torch.uint8)  # sorting bool is not supported everywhere
    # A stable sort puts the kept units first, in order; the first ``size``
    # are the kept ones and the padding, re-sorted into the layer's order.
    units = torch.argsort(dropped, stable=True)[:size].sort().values
    return units, keep[units] / (1 - p)


def _submatrix(weight, rows, cols, col_scale):
    """W[rows][:, cols] diag(col_scale): the block of M_i diag(z_i) computed."""
    W = weight if rows is None else weight[rows]
    return W if cols is None else W[:, cols] * col_scale.to(W.dtype)


def _activate(act, z):
    """Apply an elementwise activation; ReLU in place on the fresh product."""
    if act is None:
        return z
    return z.clamp_min_(0) if type(act) is nn.ReLU else act(z)


class _BatchedChainRunner(_ChainRunner):
    """A small chain: many passes per batched product, masks folded in.

    A block of passes is one batched matrix product per layer over the
    passes, see :func:`_folded_passes`.
    """

    def passes(self, X, masks):
        layers = [(lin.weight.T, lin.bias, act, p) for lin, act, p in self.chain.stages]
        step = _passes_per_block(X, self.width(), self.chain.macs())
        for n_block, keeps in masks.pass_blocks(step, X.device):
            keep_in, stage_keeps = self.chain.split(keeps)
            factors = _layer_factors(
                keep_in, self.chain.input_p, stage_keeps, layers, X.dtype
            )
            yield _folded_passes(X, layers, factors, n_block)


def _folds_mask_into_weights(n_rows, n_in, n_out):
    """Whether a layer's mask is folded into its weights for ``n_rows`` rows."""
    return n_rows >= max(n_out, _MIN_FOLD_ROWS) and (
        n_rows * n_in * n_out >= _MIN_FOLD_PRODUCT
    )


def _passes_per_block(X, width, macs):
    """Passes per block: a pass holds the rows' activations, (rows, width), and
    its folded weights, ``macs`` values; a block stays within the chunk."""
    return max(1, _chunk_elements(X.device) // (X.shape[0] * width + macs))


def _layer_factors(keep_in, input_p, stage_keeps, layers, dtype):
    """The inverted-dropout factors z_t / (1 - p) entering each layer.

    Layer 0 takes the input's mask, layer i the mask of the dropout after
    layer i - 1; a dropout after the last layer scales the output. Per
    layer (and the output), a (passes, units) tensor, or None where no
    dropout comes before it.
    """
    keeps = [keep_in, *stage_keeps]
    rates = [input_p] + [p for *_, p in layers]
    return [
        None if keep is None else (keep / (1 - p)).to(dtype)
        for keep, p in zip(keeps, rates, strict=True)
    ]


def _folded_passes(X, layers, factors, n_block):
    """A block of passes of one network: shape (n_block, n_rows, outputs).

    ``layers`` holds (W, b, activation, rate) per Linear layer, W of shape
    (in, out); ``factors`` the factors of :func:`_layer_factors`. A mask
    folds into the weights of the layer it feeds: pass t multiplies its
    input by diag(z_t) W / (1 - p), the weights omega_t = {M_i diag(z_i^t)}
    of Gal & Ghahramani (2016, Section 3), so that a block of passes is one
    batched product per layer and the activations are touched once. Where
    scaling a pass's weights (in x out values) would cost more than scaling
    its activations (rows x in), as for a few rows, the activations are
    scaled instead and the layer is one product over (pass, row) pairs: the
    same pass up to float32 rounding. Until the first mask, the rows'
    activations are computed once for every pass.
    """
    h, shared, n_rows = X, True, X.shape[0]
    for (W, b, act, _), f in zip(layers, factors[:-1], strict=True):
        if f is None:
            h = F.linear(h, W.T, b)
        else:
            if shared:
                h = h.expand(n_block, *h.shape)
                shared = False
            if _folds_mask_into_weights(n_rows, *W.shape):
                Wt = W * f.unsqueeze(2)
                h = torch.bmm(h, Wt) if b is None else torch.baddbmm(b, h, Wt)
            else:
                h = F.linear(h * f.unsqueeze(1), W.T, b)
        h = _activate(act, h)
    if shared:
        h = h.expand(n_block, *h.shape)
    return h if factors[-1] is None else h * factors[-1].unsqueeze(1)


def _make_runner(module, dtype=torch.float32, device=None):
    """The fastest runner for ``module`` on ``device``, computing in ``dtype``.

    In float32 it is exact. In a reduced precision the passes run on a copy of
    the network in that dtype (products accumulate in float32 on hardware
    with native bfloat16 units), without the first-layer cache, whose
    subtraction of the dropped units' share would lose digits. On a GPU every
    chain runs batched: selecting kept units costs host synchronisations that
    outweigh the arithmetic they save there.
    """
    if dtype != torch.float32:
        module = _cast(module, dtype)
    own_runner = getattr(module, "_mc_runner", None)  # the members' (_members)
    if own_runner is not None:
        return own_runner()
    chain = _Chain.from_module(module)
    if chain is None:
        return _ReferenceRunner(module)
    on_gpu = device is not None and torch.device(device).type == "cuda"
    if on_gpu or chain.macs() <= _BATCHED_MAX_MACS:
        return _BatchedChainRunner(chain)
    return _SparseChainRunner(chain, cache=dtype == torch.float32)


def _cast(module, dtype):
    """A copy of ``module`` in ``dtype``, its learned dropout rates unrounded."""
    cast = copy.deepcopy(module).to(dtype)
    pairs = zip(_concrete_layers(cast), _concrete_layers(module), strict=True)
    for layer, fitted in pairs:
        layer.p_logit = nn.Parameter(fitted.p_logit.detach().clone())
    return cast


def _chunk_elements(device):
    return _GPU_CHUNK_ELEMENTS if device.type == "cuda" else _CHUNK_ELEMENTS


def _widest(module):
    widths = [m.weight.shape[0] for m in module.modules() if isinstance(m, nn.Linear)]
    return max(widths, default=1024)


#: The passes' matrix products take rows in multiples of this (see _mc_chunks).
_ROW_BLOCK = 128


def _mc_chunks(runner, X, masks):
    """Yield (rows, pass_outputs) per chunk of rows of ``X``.

    ``pass_outputs`` iterates over the outputs of the chunk's passes, in blocks of
    shape (n_block, n_chunk, n_outputs), the masks of pass t shared by every
    chunk. A chunk is a multiple of ``_ROW_BLOCK`` rows, the last one padded
    with zero rows: the CPU's float32 matrix products of fewer rows (or of
    other counts) take other kernels, whose rounding differs, so that a row's
    prediction would depend, in its last bits, on how many rows come with it
    (measured: subsets of 1 to 650 rows predicted to the bit as within 700,
    with 128 and 1024 units, one and two threads). Members of layers wider
    than 128 units still fold their masks into the weights only for as many
    rows as units (:func:`_folds_mask_into_weights`): there a row's passes
    agree across such counts up to float32 rounding. Predicting a few rows
    costs as much as predicting 128.
    """
    n_blocks = _chunk_elements(X.device) // runner.width() // _ROW_BLOCK
    step = _ROW_BLOCK * max(1, n_blocks)
    X = X.to(runner.dtype)
    for start in range(0, X.shape[0], step):
        rows = slice(start, min(start + step, X.shape[0]))
        n_rows = rows.stop - rows.start
        n_pad = -n_rows % _ROW_BLOCK
        if not n_pad:
            yield rows, runner.passes(X[rows], masks)
        else:
            padded = torch.cat([X[rows], X.new_zeros(n_pad, X.shape[1])])
            yield rows, (out[:, :n_rows] for out in runner.passes(padded, masks))


@torch.inference_mode()
def _mc_moments(runner, masks, X, components=None):
    """Moments over the passes: the mixture of Gaussians of the passes.

    ``components(outputs)`` reads a block of network outputs as each pass's
    means mu_tj and noise variances sigma_tj^2 (or None where there are none),
    as a noise model's ``components`` does; without it every output is a
    target's mean. Per target j, returns the mean over the passes of mu_tj,
    their variance (ddof=0; the epistemic part) and the mean over the passes
    of sigma_tj^2 (the aleatoric part; None where there are none), each of
    shape (n_samples, n_targets). Streams over the passes (sums of mu
    shifted by the first pass, in float64), so memory does not grow with the
    number of passes.
    """
    n_passes = masks.n_components
    mean = var = noise = None
    for rows, pass_outputs in _mc_chunks(runner, X, masks):
        shift = s1 = s2 = s_noise = None
        for y in pass_outputs:
            mu, sigma2 = (y, None) if components is None else components(y.double())
            mu = mu.double()
            if shift is None:
                shift = mu[0]
                s1, s2 = torch.zeros_like(shift), torch.zeros_like(shift)
            d = mu - shift
            s1 += d.sum(dim=0)
            s2 += (d * d).sum(dim=0)
            if sigma2 is not None:
                s_noise = sigma2.sum(dim=0) + (0 if s_noise is None else s_noise)
        if mean is None:
            mean, var = np.empty((2, X.shape[0], shift.shape[1]))
            noise = None if s_noise is None else np.empty_like(mean)
        m = s1 / n_passes
        mean[rows] = (shift + m).cpu().numpy()
        var[rows] = (s2 / n_passes - m * m).clamp_min(0).cpu().numpy()
        if noise is not None:
            noise[rows] = (s_noise / n_passes).cpu().numpy()
    return mean, var, noise


@torch.inference_mode()
def _mc_log_likelihoods(runner, masks, X, y, components, precisions, n_groups=1):
    """Log-likelihood of ``y`` under the mixture of the passes, streamed.

    The predictive density of a row is the equal mixture of the Gaussians
    N(mu_c, sigma_c^2) of its components c (passes of every member), whose
    log is the paper's MC log-likelihood (Gal & Ghahramani 2016, eq. (8)):
    log (1/C) sum_c N(y; mu_c, sigma_c^2). ``components(outputs)`` reads a
    block of outputs as mu and sigma^2 in the units of ``y`` (sigma^2 None
    where every component has the noise variance 1 / tau, scored then for
    every tau of ``precisions``, shape (K,); with sigma^2, each component's
    variance is sigma_c^2 / tau for every tau of ``precisions``: a grid of
    scales of a predicted noise variance, ``[1.0]`` for the variance as
    predicted). With ``n_groups`` > 1 the
    members form that many equal groups (members g * M / G to (g + 1) * M /
    G - 1), each scored as its own mixture.

    ``y`` has shape (n_samples, n_targets); returns the groups' predictive
    means, (n_samples, n_targets, n_groups), and the log-likelihoods,
    (n_samples, n_targets, n_groups, K). A running
    log-sum-exp over blocks of passes and chunks of rows: memory does not
    grow with the number of passes, nothing is stored per pass.
    """
    per_group = masks.n_members // n_groups
    n_per_group = masks.n_components // n_groups
    mean = loglik = None
    for rows, pass_outputs in _mc_chunks(runner, X, masks):
        y_rows = torch.as_tensor(y[rows], dtype=torch.float64, device=X.device)
        s_mu, lse = None, None
        for out in pass_outputs:
            mu, var = components(out.double())
            # (passes, members, rows, targets) -> (passes x members of a
            # group, groups, rows, targets): component t * M + m is member m's.
            shape = (-1, n_groups, per_group, *mu.shape[1:])
            mu = mu.reshape(shape).transpose(1, 2).flatten(0, 1)
            if var is not None:
                var = var.reshape(shape).transpose(1, 2).flatten(0, 1)
            if lse is None:
                lse = _LogSumExp(precisions, var is None, X.device)
                s_mu = torch.zeros_like(mu[0])
            lse.add((y_rows - mu).square(), var)
            s_mu += mu.sum(dim=0)
        if mean is None:
            mean = np.empty((X.shape[0], s_mu.shape[2], n_groups))
            loglik = np.empty((*mean.shape, len(precisions)))
        ll = lse.log() - math.log(n_per_group) - 0.5 * math.log(2 * math.pi)
        mean[rows] = (s_mu / n_per_group).permute(1, 2, 0).cpu().numpy()
        loglik[rows] = ll.permute(1, 2, 0, 3).cpu().numpy()
    return mean, loglik


class _LogSumExp:
    """Running log sum_c N(y; mu_c, sigma_c^2) (times sqrt(2 pi)) per entry.

    ``add(d, var)`` takes a block of components, d = (y - mu_c)^2 and
    sigma_c^2 of shape (n_block, *entries), each scored with the variance
    sigma_c^2 / tau for each tau of the grid, a last axis of the result
    (with ``var`` None, sigma_c^2 = 1). With ``var``, a running maximum of
    the log-densities per tau. Without, the reference of the log-sum-exp
    is the nearest component, d_0 = min_c d_c (its density is the largest
    for every tau): per tau one
    multiply, exp and sum over the block, each term at most exp(0) = 1, in
    float64; the sums are rescaled only where a block brings a nearer
    component, which becomes rare as the passes accumulate.
    """

    def __init__(self, precisions, grid, device):
        self.log_tau = torch.as_tensor(
            np.log(precisions), dtype=torch.float64, device=device
        )
        self.half_tau = [-0.5 * float(t) for t in np.asarray(precisions)]
        self.grid = grid
        # With the grid, one tensor each; else a running maximum and sum per tau.
        n = len(self.half_tau)
        self.top, self.total = (None, None) if grid else ([None] * n, [None] * n)

    def add(self, d, var):
        if not self.grid:
            z, log_var = d / var, var.log()
            for k, half_tau in enumerate(self.half_tau):
                # log N(y; mu_c, sigma_c^2 / tau) + log(2 pi) / 2
                log_pdf = z * half_tau - 0.5 * (log_var - self.log_tau[k])
                self._add_mixture(k, log_pdf)
            return
        block_min = d.amin(dim=0)
        if self.top is None:
            self.top = block_min
            self.total = d.new_zeros((len(self.half_tau), *block_min.shape))
        else:
            nearer = block_min < self.top
            if nearer.any():
                idx = nearer.nonzero(as_tuple=True)
                shift = (self.top[idx] - block_min[idx]).unsqueeze(0)
                self.total[(slice(None), *idx)] *= torch.exp(
                    shift * self.log_tau.exp().mul(-0.5).unsqueeze(1)
                )
                self.top = torch.minimum(self.top, block_min)
        spread = d - self.top
        # Chunks of entries whose terms stay in the CPU's cache, per tau.
        n_entries = spread[0].numel()
        step = max(1, _LSE_CHUNK // spread.shape[0])
        spread, total = spread.reshape(len(spread), -1), self.total.flatten(1)
        for start in range(0, n_entries, step):
            part = spread[:, start : start + step]
            terms = torch.empty_like(part)
            for k, half_tau in enumerate(self.half_tau):
                torch.mul(part, half_tau, out=terms).exp_()
                total[k, start : start + step] += terms.sum(dim=0)

    def _add_mixture(self, k, log_pdf):
        block_top = log_pdf.amax(dim=0)
        if self.top[k] is None:
            self.top[k], self.total[k] = block_top, torch.zeros_like(block_top)
        new_top = torch.maximum(self.top[k], block_top)
        self.total[k] *= (self.top[k] - new_top).exp()
        self.total[k] += (log_pdf - new_top).exp().sum(dim=0)
        self.top[k] = new_top

    def log(self):
        """The log-sums, entries then the grid's axis."""
        if not self.grid:
            pairs = zip(self.top, self.total, strict=True)
            return torch.stack([top + total.log() for top, total in pairs], dim=-1)
        log_total = self.total.log() - 0.5 * self.top * self.log_tau.exp().view(
            -1, *[1] * self.top.ndim
        )
        log_total += 0.5 * self.log_tau.view(-1, *[1] * self.top.ndim)
        return log_total.movedim(0, -1)


@torch.inference_mode()
def _mc_samples(runner, masks, X):
    """The outputs of every pass, shape (n_samples, n_passes, n_outputs), float64."""
    out = None
    for rows, pass_outputs in _mc_chunks(runner, X, masks):
        t = 0
        for y in pass_outputs:
            if out is None:
                out = np.empty((X.shape[0], masks.n_components, y.shape[2]))
            out[rows, t : t + y.shape[0]] = y.double().cpu().numpy().transpose(1, 0, 2)
            t += y.shape[0]
    return out


@torch.inference_mode()
def _mc_group_proba(runner, masks, X, n_groups):
    """Mean softmax probabilities of each equal group of members, streamed.

    Shape (n_samples, n_groups, n_classes); members g * M / G to (g + 1) *
    M / G - 1 form group g (see :func:`_mc_log_likelihoods`).
    """
    per_group = masks.n_members // n_groups
    proba = None
    for rows, pass_outputs in _mc_chunks(runner, X, masks):
        total = 0
        for logits in pass_outputs:
            p = torch.softmax(logits.double(), dim=2)
            p = p.reshape(-1, n_groups, per_group, *p.shape[1:]).sum(dim=(0, 2))
            total = total + p
        if proba is None:
            proba = np.empty((X.shape[0], n_groups, total.shape[2]))
        proba[rows] = (
            (total / (masks.n_components // n_groups)).permute(1, 0, 2).cpu().numpy()
        )
    return proba


@torch.inference_mode()
def _mc_class_stats(runner, masks, X):
    """Streamed class statistics over the passes of a logit network.

    Returns the mean over the passes of the softmax probabilities, shape
    (n_samples, n_classes), the mean over the passes of their entropy (nats),
    shape (n_samples,), and how often each class is a pass's argmax, shape
    (n_samples, n_classes). Memory does not grow with the number of passes.
    """
    n_passes = masks.n_components
    proba = entropy = votes = None
    for rows, pass_outputs in _mc_chunks(runner, X, masks):
        s_proba = s_entropy = s_votes = 0
        for logits in pass_outputs:
            p = torch.softmax(logits.double(), dim=2)
            s_proba = s_proba + p.sum(dim=0)
            s_entropy = s_entropy - torch.special.xlogy(p, p).sum(dim=(0, 2))
            s_votes = s_votes + F.one_hot(p.argmax(dim=2), p.shape[2]).sum(dim=0)
        if proba is None:
            n_classes = s_proba.shape[1]
            proba = np.empty((X.shape[0], n_classes))
            entropy = np.empty(X.shape[0])
            votes = np.empty((X.shape[0], n_classes), dtype=np.int64)
        proba[rows] = (s_proba / n_passes).cpu().numpy()
        entropy[rows] = (s_entropy / n_passes).cpu().numpy()
        votes[rows] = s_votes.cpu().numpy()
    return proba, entropy, votes
