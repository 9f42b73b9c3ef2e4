"""Ensembles of MC dropout networks trained and run as one module.

Everything ``n_members > 1`` needs lives here: the batched layers
(:class:`_MemberLinear`, :class:`_MemberDropout`) and the module stacking the
members (:class:`_Members`, built by :func:`_build_members`), their seeds and
batch order (:class:`_MemberBatches`), their summed loss
(:class:`_MemberLoss`) and their prediction passes
(:class:`_MemberChainRunner`, on the engine's :class:`~._mc._Chain`). The
estimators call the functions below for any network, one or members; only
this module tells them apart.
"""

import copy

import numpy as np
import torch
from torch import nn

from ._mc import (
    _Chain,
    _ChainRunner,
    _folded_passes,
    _is_linear,
    _layer_factors,
    _parse_chain,
    _passes_per_block,
)
from ._network import _dropout_layers
from ._training import _TensorBatches


class _MemberLinear(nn.Module):
    """M linear layers of one shape as one: ``weight`` (M, in, out), ``bias``
    (M, 1, out).

    Maps (M, n, in) to (M, n, out), member m by its own weights: one batched
    matrix product for all members. ``weight[m]`` is member m's weight
    transposed, the layout of the product's gradient, so that autograd
    accumulates it without a copy; ``bias[m]`` is member m's bias as a row,
    the shape the product broadcasts, so that no view of it enters the graph.
    """

    def __init__(self, linears):
        super().__init__()
        self.in_features = linears[0].in_features
        self.out_features = linears[0].out_features
        weight = torch.stack([lin.weight.detach().T for lin in linears])
        self.weight = nn.Parameter(weight.contiguous())
        has_bias = linears[0].bias is not None
        bias = (
            torch.stack([lin.bias.detach() for lin in linears]).unsqueeze(1)
            if has_bias
            else None
        )
        self.bias = None if bias is None else nn.Parameter(bias)

    def forward(self, h):
        if self.bias is None:
            return torch.bmm(h, self.weight)
        return torch.baddbmm(self.bias, h, self.weight)


class _MemberDropout(nn.Module):
    """Inverted dropout on (M, n, units), member m at its own rate ``rates[m]``."""

    def __init__(self, rates):
        super().__init__()
        self.rates = tuple(float(p) for p in rates)
        self._clamp = min(self.rates) < 2.0**-23
        # One rate for all members: a scalar, else a (M, 1, 1) column.
        self._one_rate = self.rates[0] if len(set(self.rates)) == 1 else None
        p = torch.tensor(self.rates, dtype=torch.float32).reshape(-1, 1, 1)
        self.register_buffer("_p", p, persistent=False)

    def forward(self, h):
        if not self.training or not any(self.rates):
            return h
        # z = floor(u + 1 - p) with u ~ U[0, 1) is 1 with probability 1 - p:
        # the Bernoulli mask in two in-place operations on the uniforms, in
        # about two thirds of F.dropout's time on CPU (whose bernoulli_ draws
        # element by element). Where 1 - p rounds to 1 in float32 (p = 0),
        # u + 1 rounds to 2 for the largest uniform below 1: clamped.
        p = self._p if self._one_rate is None else self._one_rate
        keep = torch.rand_like(h).add_(1 - p).floor_()
        if self._clamp:
            keep.clamp_max_(1)
        return h * keep.div_(1 - p)


class _Members(nn.Sequential):
    """M networks of one chain architecture trained and run as one module.

    Built by :func:`_stack_members` from M ``nn.Sequential`` chains of Linear,
    elementwise activation and Dropout layers: each Linear becomes a
    :class:`_MemberLinear`, each Dropout a :class:`_MemberDropout`. Maps
    (n, features), shared by the members, or (M, n, features), a batch of
    rows per member, to (M, n, outputs).
    """

    def __init__(self, layers, n_members):
        super().__init__(*layers)
        self.n_members = n_members

    def forward(self, X):
        if X.dim() == 2:
            X = X.expand(self.n_members, *X.shape)
        return super().forward(X)

    def member(self, m):
        """Member ``m`` as a plain ``nn.Sequential`` (a copy of its weights)."""
        layers = []
        for layer in self:
            if isinstance(layer, _MemberLinear):
                lin = nn.Linear(
                    layer.in_features, layer.out_features, bias=layer.bias is not None
                )
                with torch.no_grad():
                    lin.weight.copy_(layer.weight[m].T)
                    if layer.bias is not None:
                        lin.bias.copy_(layer.bias[m, 0])
                layers.append(lin.to(layer.weight.device, layer.weight.dtype))
            elif isinstance(layer, _MemberDropout):
                layers.append(nn.Dropout(layer.rates[m]))
            else:
                layers.append(copy.deepcopy(layer))
        return nn.Sequential(*layers)

    def _mc_runner(self):
        """The prediction runner of the members (see ``_mc._make_runner``)."""
        stages, input_p = _parse_chain(self, _is_member_linear, _member_rates)
        return _MemberChainRunner(_Chain(stages, input_p, self.n_members))


def _is_member_linear(layer):
    return isinstance(layer, _MemberLinear)


def _member_rates(layer):
    return layer.rates if isinstance(layer, _MemberDropout) else None


class _MemberChainRunner(_ChainRunner):
    """The members of an ensemble: every member's passes in batched products.

    Member m runs a block of its passes as one network does
    (:func:`~._mc._folded_passes`), with its own weights and its own rate:
    pass t of member m multiplies by diag(z_mt) / (1 - p_m) after each
    dropout layer. Outputs are pass-major (component t * M + m), see
    :class:`~._mc._Masks`.
    """

    def passes(self, X, masks):
        chain, M = self.chain, self.chain.n_members
        step = _passes_per_block(X, chain.width() // M, chain.macs())
        member_layers = [self._member_layers(m) for m in range(M)]
        for n_block, keeps in masks.pass_blocks(step, X.device):
            keep_in, stage_keeps = chain.split(keeps)
            out = []
            for m, layers in enumerate(member_layers):
                factors = _layer_factors(
                    _mask_of_member(keep_in, m),
                    None if chain.input_p is None else chain.input_p[m],
                    [_mask_of_member(k, m) for k in stage_keeps],
                    layers,
                    X.dtype,
                )
                out.append(_folded_passes(X, layers, factors, n_block))
            yield torch.stack(out, dim=1).flatten(0, 1)

    def _member_layers(self, m):
        """Member m's (W, b, activation, rate) per layer, W of shape (in, out)."""
        return [
            (
                lin.weight[m],
                None if lin.bias is None else lin.bias[m, 0],
                act,
                None if p is None else p[m],
            )
            for lin, act, p in self.chain.stages
        ]


def _mask_of_member(keep, m):
    """Member m's masks from a block's (passes, members, units) masks."""
    return None if keep is None else keep[:, m]


class _MemberBatches(_TensorBatches):
    """Mini-batches of the members: each its own permutation of the rows.

    ``generator`` is a list of M generators, member m drawing its order from
    generator m; a batch stacks the members' rows, X of shape (M, batch,
    features), so member m's batches are those one network would get from
    generator m.
    """

    def __iter__(self):
        X, y = self.X, self.y
        perms = [torch.randperm(len(X), generator=g) for g in self.generator]
        rows = torch.cat(perms).to(X.device)
        # One gather per epoch: (M, n, ...), member m's rows in its order.
        X = X.index_select(0, rows).view(len(perms), *X.shape)
        y = y.index_select(0, rows).view(len(perms), *y.shape)
        for start in range(0, X.shape[1], self.batch_size):
            stop = start + self.batch_size
            yield X[:, start:stop], y[:, start:stop]

    def record_batch_rows(self, history, prefix):
        """Correct the batch sizes skorch's own loop records: rows, not members.

        skorch records ``len(X_batch)``, the number of members for a batch of
        shape (M, rows, features); the lean epochs record the rows.
        """
        key = prefix + "_batch_size"
        starts = range(0, len(self.X), self.batch_size)
        rows = [min(self.batch_size, len(self.X) - s) for s in starts]
        batches = [b for b in history[-1]["batches"] if key in b]
        for batch, n_rows in zip(batches, rows, strict=True):
            batch[key] = n_rows


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

    @property
    def weighted(self):
        return self.base.weighted

    @weighted.setter
    def weighted(self, value):
        self.base.weighted = value

    def pack(self, y, weight):
        """The base criterion's target carrying the weights (see _SampleWeighted)."""
        return self.base.pack(y, weight)

    def held_out_losses(self, y_pred, y_true):
        """Each row's held-out score (``_SampleWeighted.held_out_losses``), the
        mean over the members: (M, n, ...) outputs to (n,).

        ``y_true`` holds one target per row, shared by the members.
        """
        n_members, n_rows = y_pred.shape[:2]
        y_true = y_true.expand(n_members, *y_true.shape).flatten(0, 1)
        losses = self.base.held_out_losses(y_pred.flatten(0, 1), y_true)
        return losses.reshape(n_members, n_rows).mean(dim=0)


def _build_members(build_one, modules, seed, given_instance):
    """The networks of ``modules`` (one per member), stacked if more than one.

    ``build_one(module)`` builds one network; member m is built from torch
    seed ``_member_seeds(seed, M)[m]``, member 0's being ``seed`` itself,
    which the caller has set, so a single network and member 0 start from
    the same weights. With ``given_instance`` (one ``nn.Module`` instance
    serving every member), members after the first draw new weights.
    """
    if len(modules) == 1:
        return build_one(modules[0])
    members = []
    for m, member_seed in enumerate(_member_seeds(seed, len(modules))):
        torch.manual_seed(member_seed)
        member = build_one(modules[m])
        if m > 0 and given_instance:
            _reset_parameters(member)  # a copy of the one given: new weights
        members.append(member)
    return _stack_members(members)


def _stack_members(modules):
    """One :class:`_Members` module from M chains of one architecture.

    Raises a ValueError naming what differs if the networks are not chains of
    Linear, elementwise activation and ``nn.Dropout`` layers of the same
    shapes and activations.
    """
    chains = [_member_chain_layers(module) for module in modules]
    first = chains[0]
    for i, chain in enumerate(chains[1:], start=1):
        if [_layer_key(layer) for layer in chain] != [
            _layer_key(layer) for layer in first
        ]:
            raise ValueError(
                f"The members' networks must have one architecture; member {i} "
                f"differs from member 0: {_describe(chain)} against {_describe(first)}."
            )
    layers = []
    for position, layer in enumerate(first):
        column = [chain[position] for chain in chains]
        if type(layer) is nn.Linear:
            layers.append(_MemberLinear(column))
        elif type(layer) is nn.Dropout:
            layers.append(_MemberDropout([d.p for d in column]))
        else:
            layers.append(copy.deepcopy(layer))
    return _Members(layers, len(modules)).to(next(modules[0].parameters()).device)


def _member_chain_layers(module):
    """The layers of a network that can be a member, or a ValueError saying why not.

    A member is an ``nn.Sequential`` (or a subclass keeping its forward)
    whose layers form a chain (``_mc._parse_chain``) of ``nn.Linear``,
    elementwise activation and ``nn.Dropout`` layers: the form the member
    runner computes.
    """
    sequential = (
        isinstance(module, nn.Sequential)
        and type(module).forward is nn.Sequential.forward
    )
    layers = list(module) if sequential else None
    if layers is None or _parse_chain(layers, _is_linear, _fixed_rate) is None:
        raise ValueError(
            "n_members > 1 trains the members as one batched network, which "
            "needs each network to be a torch.nn.Sequential (or a subclass "
            "keeping its forward) of an optional input Dropout, then Linear "
            "layers each followed by an optional elementwise activation (ReLU, "
            "Tanh, Sigmoid, Identity, GELU, ELU, LeakyReLU, SiLU, Softplus) "
            "and an optional Dropout, ending with a Linear layer and its "
            f"activation; got {type(module).__name__}"
            + ("" if layers is None else f" with layers {_describe(layers)}")
            + ". Use n_members=1 with this module, or such a chain."
        )
    return layers


def _fixed_rate(layer):
    """The rate of an ``nn.Dropout`` layer (the only dropout members stack)."""
    return layer.p if type(layer) is nn.Dropout else None


def _layer_key(layer):
    if type(layer) is nn.Linear:
        return ("Linear", layer.in_features, layer.out_features, layer.bias is None)
    if type(layer) is nn.Dropout:
        return ("Dropout",)
    return (type(layer).__name__, repr(layer))


def _describe(layers):
    return "[" + ", ".join(type(layer).__name__ for layer in layers) + "]"


def _member_seeds(seed, n_members):
    """Seeds of members 0 to n_members - 1: ``seed`` itself, then derived ones."""
    rng = np.random.RandomState(seed)
    derived = rng.randint(np.iinfo(np.int32).max, size=n_members - 1)
    return [int(seed), *(int(s) for s in derived)]


def _reset_parameters(module):
    """Draw new weights for every layer of ``module`` that can reset its own."""
    for layer in module.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()


def _batch_iterator(module, seed):
    """skorch's training iterator for ``module`` and its generator(s) from ``seed``.

    One network: :class:`~._training._TensorBatches` with one generator;
    members: :class:`_MemberBatches` with one per member, member 0's that of
    one network with this seed.
    """
    if not isinstance(module, _Members):
        return _TensorBatches, torch.Generator().manual_seed(seed)
    seeds = _member_seeds(seed, module.n_members)
    return _MemberBatches, [torch.Generator().manual_seed(s) for s in seeds]


def _member_criterion(criterion, module):
    """skorch criterion parameters for ``module``: the members' sum if members."""
    if not isinstance(module, _Members):
        return criterion
    criterion = dict(criterion)
    return {
        "criterion": _MemberLoss,
        "criterion__base": criterion.pop("criterion"),
        **criterion,
    }


def _mean_over_members(value, module):
    """``value(network)`` of one network, or its mean over the members.

    The weight decay of members is the mean of theirs (one decay serves the
    batched network; it is linear in the members' dropout rates).
    """
    if not isinstance(module, _Members):
        return value(module)
    return float(np.mean([value(module.member(m)) for m in range(module.n_members)]))


def _dropout_rates(module):
    """Rate of each dropout layer: (n_layers,), or (n_members, n_layers)."""
    if isinstance(module, _Members):
        rates = [layer.rates for layer in module if isinstance(layer, _MemberDropout)]
        return np.array(rates).T
    return np.array([m.p for m in _dropout_layers(module)])


def _fixed_rates(module):
    """The rates warm starts keep: of ``nn.Dropout`` layers, per member if members.

    Learned rates (``ConcreteDropout`` layers) are weights, and go on training.
    """
    rates = [m.p for m in _dropout_layers(module) if type(m) is nn.Dropout]
    return rates + [m.rates for m in module.modules() if isinstance(m, _MemberDropout)]
