"""ConcreteDropout: a dropout layer whose rate is learned (Gal, Hron & Kendall 2017)."""

import math
from numbers import Real

import torch
from torch import nn

__all__ = ["ConcreteDropout"]

# Uniform noise is kept in [_EPS, 1 - _EPS] so that its logit is finite.
_EPS = 1e-7


class ConcreteDropout(nn.Module):
    """Dropout whose rate p is a parameter trained with the network.

    In training mode each unit is multiplied by ``(1 - z) / (1 - p)`` where
    ``z`` is a continuous relaxation of a Bernoulli(p) draw, the Concrete
    distribution of temperature ``temperature`` (Gal, Hron & Kendall 2017,
    Section 3), so that the loss has a gradient with respect to p. In eval
    mode it is the identity, as :class:`torch.nn.Dropout`; the Monte Carlo
    passes of :class:`~sklearn_mcdropout.MCDropoutRegressor` and
    :class:`~sklearn_mcdropout.MCDropoutClassifier` then draw hard
    Bernoulli masks with the learned rate, shared by all rows, as they do
    for a fixed-rate layer.

    It goes wherever :class:`torch.nn.Dropout` goes in a custom ``module``.
    The estimators add the regulariser of the Concrete dropout objective to
    the training loss for every such layer (the user guide gives it); a
    network trained by other code must add it itself, or p drifts towards
    whatever fits the training data best (usually 0).

    Parameters
    ----------
    p : float, default=0.1
        Initial dropout rate, in (0, 1). 0.1 is the initial rate of the
        authors' code.

    temperature : float, default=0.1
        Temperature of the Concrete relaxation, > 0: the smaller, the closer
        the training masks are to Bernoulli draws (and the noisier the
        gradient of p). 0.1 is the paper's value.

    Attributes
    ----------
    p_logit : torch.nn.Parameter
        The trained parameter, log(p / (1 - p)), a scalar.

    p : float
        The current dropout rate, ``sigmoid(p_logit)``.

    See Also
    --------
    torch.nn.Dropout : Dropout with a fixed rate.

    References
    ----------
    .. [1] Y. Gal, J. Hron and A. Kendall, "Concrete Dropout", NeurIPS 2017.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_mcdropout import ConcreteDropout
    >>> layer = ConcreteDropout(p=0.2)
    >>> round(layer.p, 3)
    0.2
    >>> x = torch.ones(4, 3)
    >>> bool(torch.equal(layer.eval()(x), x))
    True
    >>> net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), ConcreteDropout(),
    ...                     nn.Linear(8, 1))
    >>> net.train()(x).shape
    torch.Size([4, 1])
    """

    def __init__(self, p=0.1, temperature=0.1):
        super().__init__()
        if not isinstance(p, Real) or not 0 < p < 1:
            raise ValueError(f"p must be a float in (0, 1), got {p!r}.")
        if not isinstance(temperature, Real) or not temperature > 0:
            raise ValueError(f"temperature must be a float > 0, got {temperature!r}.")
        self.temperature = float(temperature)
        self.p_logit = nn.Parameter(torch.tensor(math.log(p / (1 - p))))

    @property
    def p(self):
        return float(torch.sigmoid(self.p_logit.detach().double()))

    def forward(self, x):
        if not self.training:
            return x
        u = torch.rand_like(x).clamp_(_EPS, 1 - _EPS)
        # The relaxed drop indicator of Section 3 of the paper, u ~ U(0, 1):
        # sigmoid((logit p + log u - log(1 - u)) / temperature).
        logit = self.p_logit.to(x.dtype) + torch.log(u) - torch.log1p(-u)
        drop = torch.sigmoid(logit / self.temperature)
        return x * (1 - drop) / (1 - torch.sigmoid(self.p_logit.to(x.dtype)))

    def extra_repr(self):
        return f"p={self.p:.4g}, temperature={self.temperature:g}"


class _ConcreteRegulariser:
    """The KL term of the Concrete dropout objective, divided by N.

    The objective is the mean negative log-likelihood of a mini-batch plus
    KL(q || prior) / N (Gal, Hron & Kendall 2017, Section 3), with, per layer
    of weights M = W / (1 - p) (torch's dropout scales kept units by
    1 / (1 - p)) and dropout rate p on its K inputs,

        KL = l^2 (1 - p) / 2 ||M||^2 - K H(p) = l^2 / (2 (1 - p)) ||W||^2 - K H(p),

    H(p) = -p log p - (1 - p) log(1 - p) the entropy of the Bernoulli(p) mask.
    ``linears`` names each ``nn.Linear`` layer with the dropout layer applied
    after the previous one (None: p = 0); ``entropies`` names each
    :class:`ConcreteDropout` layer with its K. Fixed-rate layers enter the
    weight term only (their entropy is a constant). Layers are found by name,
    so the object holds no tensor and pickles.
    """

    def __init__(self, linears, entropies, length_scale, n_train):
        self.linears = linears
        self.entropies = entropies
        self.length_scale = length_scale
        self.n_train = n_train

    @classmethod
    def from_module(cls, module, n_features, length_scale, n_train):
        """The regulariser of ``module``, from the call order of one forward pass."""
        calls = []
        named = [
            (name, m)
            for name, m in module.named_modules()
            if isinstance(m, nn.Linear | ConcreteDropout) or type(m) is nn.Dropout
        ]
        hooks = [
            m.register_forward_hook(
                lambda _, inputs, out, name=name: calls.append((name, inputs[0]))
            )
            for name, m in named
        ]
        layers = dict(named)
        param = next(module.parameters())
        was_training = module.training
        try:
            with torch.no_grad():
                module.eval()(torch.zeros(2, n_features, device=param.device))
        finally:
            module.train(was_training)
            for hook in hooks:
                hook.remove()
        linears, entropies, before = {}, {}, None
        for name, x in calls:
            if isinstance(layers[name], nn.Linear):
                linears.setdefault(name, before)
                before = None
            else:
                before = name
                if isinstance(layers[name], ConcreteDropout):
                    entropies.setdefault(name, math.prod(x.shape[1:]))
        linears, entropies = list(linears.items()), list(entropies.items())
        return cls(linears, entropies, length_scale, n_train)

    def __call__(self, module):
        weights = 0.0
        for linear, dropout in self.linears:
            W = module.get_submodule(linear).weight
            keep = 1.0 if dropout is None else 1 - _rate(module.get_submodule(dropout))
            weights = weights + W.square().sum() / keep
        entropy = 0.0
        for name, n_units in self.entropies:
            p = torch.sigmoid(module.get_submodule(name).p_logit)
            entropy = entropy + n_units * _bernoulli_entropy(p)
        return (self.length_scale**2 / 2 * weights - entropy) / self.n_train


def _rate(layer):
    """A dropout layer's rate: a tensor with a gradient if it is learned."""
    if isinstance(layer, ConcreteDropout):
        return torch.sigmoid(layer.p_logit)
    return layer.p


def _bernoulli_entropy(p):
    return -(torch.special.xlogy(p, p) + torch.special.xlogy(1 - p, 1 - p))
