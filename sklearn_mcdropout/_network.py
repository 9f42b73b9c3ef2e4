"""The default network, the checks a custom network must pass, and members."""

import copy
import re

import torch
from torch import nn
from torch.nn import functional as F

from ._concrete import ConcreteDropout

# Smallest noise variance of the heteroscedastic head, in units of the
# standardised target (a noise std of 1e-3 of the target's std).
_NOISE_VARIANCE_FLOOR = 1e-6

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
    "gelu": nn.GELU,
    "elu": nn.ELU,
}

# Elementwise activations: the MC engine's chains and member chains hold them.
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

_OTHER_DROPOUTS = (
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
    nn.AlphaDropout,
    nn.FeatureAlphaDropout,
)


def _build_mlp(n_features, hidden_layer_sizes, activation, dropout, n_outputs=1):
    """Linear -> activation -> Dropout per hidden layer, then Linear -> n_outputs.

    ``dropout="concrete"`` puts a :class:`ConcreteDropout` layer (initial rate
    0.1) where a float puts ``nn.Dropout(dropout)``.
    """
    layers = []
    n_in = n_features
    for width in hidden_layer_sizes:
        layers += [
            nn.Linear(n_in, width),
            _ACTIVATIONS[activation](),
            ConcreteDropout() if dropout == "concrete" else nn.Dropout(dropout),
        ]
        n_in = width
    layers.append(nn.Linear(n_in, n_outputs))
    return nn.Sequential(*layers)


def _noise_variance(raw):
    """Noise variance from the raw second output: softplus(raw) + floor > 0."""
    return F.softplus(raw) + _NOISE_VARIANCE_FLOOR


class _AsColumn(nn.Module):
    """Wraps a network whose output has shape (n,) so that it returns (n, 1)."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, X):
        return self.module(X).reshape(-1, 1)


def _is_dropout(layer):
    """Whether the MC engine samples ``layer``: nn.Dropout or ConcreteDropout."""
    return type(layer) is nn.Dropout or isinstance(layer, ConcreteDropout)


def _dropout_layers(module):
    """The dropout layers that the passes sample, in registration order."""
    return [m for m in module.modules() if _is_dropout(m)]


def _concrete_layers(module):
    """The :class:`ConcreteDropout` layers of ``module``, in registration order."""
    return [m for m in module.modules() if isinstance(m, ConcreteDropout)]


def _check_dropout_layers(module):
    """Raise unless ``module`` has dropout layers the MC engine can sample."""
    unsupported = [
        f"{name!r} ({type(m).__name__})"
        for name, m in module.named_modules()
        if isinstance(m, _OTHER_DROPOUTS)
    ]
    if unsupported:
        raise ValueError(
            f"module contains the dropout layers {', '.join(unsupported)}; only "
            "torch.nn.Dropout and sklearn_mcdropout.ConcreteDropout layers are "
            "supported for Monte Carlo sampling."
        )
    layers = _dropout_layers(module)
    if not layers:
        raise ValueError(
            "module has no torch.nn.Dropout or ConcreteDropout layer: MC dropout "
            "needs at least one to sample from. Add dropout layers to the network."
        )
    bad = [
        f"{name!r} (p={m.p!r})"
        for name, m in module.named_modules()
        if _is_dropout(m) and not 0 <= m.p < 1
    ]
    if bad:
        raise ValueError(
            f"module has the dropout layers {', '.join(bad)}; each rate must be "
            "in [0, 1)."
        )
    return layers


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


def _stack_members(modules):
    """One :class:`_Members` module from M chains of one architecture.

    Raises a ValueError naming what differs if the networks are not chains of
    Linear, elementwise activation and ``nn.Dropout`` layers of the same
    shapes and activations.
    """
    chains = [_chain_layers(module) for module in modules]
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


_CHAIN = nn.Sequential.forward


def _chain_layers(module):
    """The layers of an ``nn.Sequential`` chain, or a ValueError saying why not.

    A chain is an optional input Dropout, then blocks of Linear, an optional
    elementwise activation and an optional Dropout, the last block without
    one: the form the member runner computes.
    """
    sequential = isinstance(module, nn.Sequential)
    layers = list(module) if sequential and type(module).forward is _CHAIN else None
    kinds = None if layers is None else "".join(_kind(layer) for layer in layers)
    if kinds is None or not re.fullmatch(r"D?(LA?D?)*LA?", kinds):
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


def _kind(layer):
    if type(layer) is nn.Linear:
        return "L"
    if type(layer) is nn.Dropout:
        return "D"
    return "A" if type(layer) in _ELEMENTWISE else "?"


def _layer_key(layer):
    if type(layer) is nn.Linear:
        return ("Linear", layer.in_features, layer.out_features, layer.bias is None)
    if type(layer) is nn.Dropout:
        return ("Dropout",)
    return (type(layer).__name__, repr(layer))


def _describe(layers):
    return "[" + ", ".join(type(layer).__name__ for layer in layers) + "]"
