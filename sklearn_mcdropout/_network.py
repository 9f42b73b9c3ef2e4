"""The default network and the checks a custom network must pass."""

from torch import nn

from ._concrete import ConcreteDropout

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
    "gelu": nn.GELU,
    "elu": nn.ELU,
}

# Elementwise activations: the chains of the MC engine (and of members) hold them.
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
