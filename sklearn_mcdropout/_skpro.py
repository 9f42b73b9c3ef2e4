"""MCDropoutProbaRegressor: the regressor as an skpro probabilistic regressor."""

from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import check_random_state

from ._regressor import MCDropoutRegressor
from .metrics._mixture import _energy, _quantiles, _self_energy

try:
    from skpro.distributions import NormalMixture
    from skpro.regression.base import BaseProbaRegressor
except ImportError as exc:  # pragma: no cover - the skpro extra is installed
    raise ImportError(
        "MCDropoutProbaRegressor needs skpro; install the skpro extra: "
        'pip install "sklearn-mcdropout[skpro]".'
    ) from exc

__all__ = ["MCDropoutProbaRegressor"]


class _PassMixture(NormalMixture):
    """skpro's NormalMixture with equal weights, its CRPS and quantiles exact.

    Row i, column j is the equal-weight mixture of the Gaussians
    ``N(mu[i, k, j], sigma[i, k, j]**2)``, k over the passes (and members).
    NormalMixture's own self-energy ``E|X - X'|`` (skpro 2.15.1 to 2.16.0)
    is ``2 sqrt(2 mean(sigma**2) / pi)``, off by sqrt(2) for one component
    and blind to the spread of the means, so its CRPS is wrong; here the
    energies are the closed forms of
    :func:`~sklearn_mcdropout.metrics.crps_mixture`, and the quantiles those
    of :func:`~sklearn_mcdropout.metrics.mixture_quantiles`.

    Parameters
    ----------
    mu : array of shape (n_samples, n_components, n_outputs) or (n_components,)
        Means of the components; (n_components,) for a scalar distribution.

    sigma : array of the shape of ``mu``
        Standard deviations of the components, positive.

    index, columns : pd.Index, default=None
        As in NormalMixture.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mcdropout._skpro import _PassMixture
    >>> d = _PassMixture(mu=np.array([0.0]), sigma=np.array([1.0]))
    >>> round(d.energy(), 4)  # E|X - X'| = 2 / sqrt(pi) for N(0, 1)
    1.1284
    """

    _tags: ClassVar[dict] = {
        "capabilities:approx": ["pdfnorm"],
        "capabilities:exact": [
            "mean",
            "var",
            "pdf",
            "log_pdf",
            "cdf",
            "ppf",
            "energy",
        ],
    }

    def __init__(self, mu, sigma, index=None, columns=None):
        n_components = np.shape(mu)[1] if np.ndim(mu) == 3 else np.shape(mu)[0]
        pi = np.full(n_components, 1 / n_components)
        if np.ndim(mu) == 3:
            pi = np.broadcast_to(pi, (np.shape(mu)[0], n_components))
        super().__init__(pi=pi, mu=mu, sigma=sigma, index=index, columns=columns)
        # NormalMixture stores pi as a parameter; here it follows from mu.
        self.mu = mu
        self.sigma = sigma
        del self.pi

    def _by_output(self, statistic):
        """``statistic(mu, sigma)`` of each output's components, (n, n_outputs)."""
        out = np.column_stack(
            [
                statistic(j, self._mu[:, :, j], self._sigma[:, :, j])
                for j in range(self._mu.shape[2])
            ]
        )
        return float(out[0, 0]) if self.ndim == 0 else out

    def _var(self):
        # Centred, not E[X^2] - E[X]^2: no cancellation for large means.
        return self._by_output(
            lambda j, mu, sigma: mu.var(axis=1) + (sigma**2).mean(axis=1)
        )

    def _energy_self(self):
        energy = self._by_output(lambda j, mu, sigma: _self_energy(mu, sigma))
        return energy if self.ndim == 0 else energy.sum(axis=1, keepdims=True)

    def _energy_x(self, x):
        x = np.broadcast_to(np.asarray(x, dtype=np.float64), self._mu[:, 0].shape)
        energy = self._by_output(lambda j, mu, sigma: _energy(x[:, j], mu, sigma))
        return energy if self.ndim == 0 else energy.sum(axis=1, keepdims=True)

    def _ppf(self, p):
        p = np.broadcast_to(np.asarray(p, dtype=np.float64), self._mu[:, 0].shape)
        interior = (p > 0) & (p < 1)
        levels = np.where(interior, p, 0.5)

        def quantile(j, mu, sigma):
            q = _quantiles(mu, sigma, levels[:, j, np.newaxis])[:, 0]
            return np.where(interior[:, j], q, np.where(p[:, j] <= 0, -np.inf, np.inf))

        return self._by_output(quantile)

    def sample(self, n_samples=None):
        """Sample from the distribution, as NormalMixture.sample, vectorised.

        Each draw of a row picks one component (one pass) for all of its
        columns, as the targets of a pass share its dropout masks. Like
        skpro's distributions, it draws from NumPy's global random state.

        Parameters
        ----------
        n_samples : int, default=None
            Number of samples; None draws one, in the shape of ``self``.

        Returns
        -------
        pd.DataFrame or float
            The samples, with a MultiIndex (sample, row) if ``n_samples``
            is given.
        """
        n = 1 if n_samples is None else n_samples
        n_rows, n_components, n_outputs = self._mu.shape
        rng = check_random_state(None)  # NumPy's global RandomState
        rows = np.arange(n_rows)
        picked = rng.randint(n_components, size=(n, n_rows))
        draws = self._mu[rows, picked] + self._sigma[rows, picked] * (
            rng.standard_normal((n, n_rows, n_outputs))
        )
        draws = draws.reshape(n * n_rows, n_outputs)
        if self.ndim == 0:
            if n_samples is None:
                return float(draws[0, 0])
            return pd.DataFrame(draws, columns=pd.RangeIndex(1))
        index = self.index
        if n_samples is not None:
            index = pd.MultiIndex.from_product([pd.RangeIndex(n), self.index])
        return pd.DataFrame(draws, index=index, columns=self.columns)

    def _iloc(self, rowidx=None, colidx=None):
        subset = super()._iloc(rowidx=rowidx, colidx=colidx)
        if isinstance(subset, _PassMixture):
            return subset
        return _PassMixture(
            mu=subset._mu,
            sigma=subset._sigma,
            index=subset.index,
            columns=subset.columns,
        )

    def _iat(self, rowidx=None, colidx=None):
        return _PassMixture(
            mu=self._mu[rowidx, :, colidx], sigma=self._sigma[rowidx, :, colidx]
        )

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Return testing parameter settings for the distribution."""
        mu = np.array([[[0, 1], [3, 4]], [[1, 2], [4, 5]], [[2, 3], [5, 6]]])
        return [
            {"mu": mu, "sigma": np.ones((3, 2, 2))},
            {
                "mu": mu,
                "sigma": np.full((3, 2, 2), 0.5),
                "index": pd.Index([1, 2, 5]),
                "columns": pd.Index(["a", "b"]),
            },
            {"mu": np.array([0.0, 3.0]), "sigma": np.array([1.0, 2.0])},
        ]


class MCDropoutProbaRegressor(BaseProbaRegressor):
    """MC dropout regression as an skpro probabilistic regressor.

    Wraps a :class:`~sklearn_mcdropout.MCDropoutRegressor` so that it fits,
    predicts and is scored in `skpro <https://skpro.readthedocs.io>`_:
    :meth:`predict_proba` returns the model's predictive distribution itself,
    for each row (and target) the equal-weight mixture of the Gaussians
    ``N(mu_c, sigma_c**2)``, one per stochastic pass and member, as
    ``predict_passes(X, return_noise_std=True)`` gives them; not the Gaussian
    of its mean and variance. ``predict``, ``predict_var``,
    ``predict_interval`` and ``predict_quantiles`` are the mean, variance and
    quantiles of that mixture, and its CRPS (skpro's ``CRPS`` metric, the
    distribution's ``energy``) is the closed form of
    :func:`~sklearn_mcdropout.metrics.crps_mixture`. :meth:`update` trains
    one more epoch on the new rows (``partial_fit``).

    Requires the ``skpro`` extra: ``pip install "sklearn-mcdropout[skpro]"``.
    Read more in :ref:`skpro` in the user guide.

    Parameters
    ----------
    estimator : MCDropoutRegressor, default=None
        The regressor to fit, cloned in :meth:`fit`; None fits
        ``MCDropoutRegressor()`` with its defaults. Its parameters are tuned
        by name as ``estimator__<name>``.

    Attributes
    ----------
    estimator_ : MCDropoutRegressor
        The fitted clone of ``estimator``.

    See Also
    --------
    MCDropoutRegressor.predict_passes : The components of the mixture.
    sklearn_mcdropout.metrics.crps_mixture : Its CRPS, from the passes.

    Notes
    -----
    The distribution is a subclass of skpro's ``NormalMixture`` with equal
    weights. Its ``energy`` and hence its CRPS are exact (Grimit et al.
    2006): ``E|X - X'| = mean_k mean_l A(mu_k - mu_l, sigma_k**2 +
    sigma_l**2)`` with ``A(m, s**2) = E|N(m, s**2)|``, where skpro's
    ``NormalMixture`` (2.15.1 to 2.16.0) uses ``2 sqrt(2 mean(sigma**2) / pi)``, too
    large by sqrt(2) for one component and blind to the spread of the
    means. Its cost grows as the square of the number of components. Its
    quantiles are solved to ``|cdf(q) - alpha| <= 1e-12``, as
    :func:`~sklearn_mcdropout.metrics.mixture_quantiles` does.

    X reaches the regressor as a float array; scale it first, in skpro's
    ``Pipeline`` (:ref:`skpro`).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_mcdropout import MCDropoutProbaRegressor, MCDropoutRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.uniform(-3, 3, size=200)})
    >>> y = pd.DataFrame({"y": np.sin(X["x"]) + rng.normal(scale=0.1, size=200)})
    >>> reg = MCDropoutProbaRegressor(
    ...     MCDropoutRegressor(hidden_layer_sizes=(32,), dropout=0.05,
    ...                        noise="homoscedastic", max_epochs=20,
    ...                        random_state=0)
    ... ).fit(X, y)
    >>> y_pred = reg.predict_proba(X[:5])  # a mixture of 100 Gaussians per row
    >>> y_pred.shape
    (5, 1)
    >>> reg.predict_interval(X[:5], coverage=0.9).shape
    (5, 2)
    >>> from skpro.metrics import CRPS
    >>> bool(CRPS()(y[:5], y_pred) > 0)
    True
    """

    _tags: ClassVar[dict] = {
        "authors": ["sklearn-mcdropout developers"],
        "capability:multioutput": True,
        "capability:missing": False,
        "capability:update": True,
        "X_inner_mtype": "pd_DataFrame_Table",
        "y_inner_mtype": "pd_DataFrame_Table",
    }

    def __init__(self, estimator=None):
        self.estimator = estimator
        super().__init__()

    def _fit(self, X, y):
        estimator = MCDropoutRegressor() if self.estimator is None else self.estimator
        if not isinstance(estimator, MCDropoutRegressor):
            raise TypeError(
                "estimator must be an MCDropoutRegressor or None, got "
                f"{type(estimator).__name__}; to scale X first, put the scaler "
                "before MCDropoutProbaRegressor in skpro's Pipeline."
            )
        self._y_columns = y.columns
        self.estimator_ = clone(estimator).fit(_array(X), _target(y))
        return self

    def _update(self, X, y):
        self.estimator_.partial_fit(_array(X), _target(y))
        return self

    def _predict(self, X):
        y_mean = self.estimator_.predict(_array(X))
        return self._frame(y_mean, X)

    def _predict_var(self, X):
        _, y_std = self.estimator_.predict(_array(X), return_std=True)
        return self._frame(y_std**2, X)

    def _predict_proba(self, X):
        mu, sigma = self.estimator_.predict_passes(_array(X), return_noise_std=True)
        # (n, n_components) or (n, n_targets, n_components) as NormalMixture's
        # (n, n_components, n_outputs).
        mu, sigma = (
            a[:, :, np.newaxis] if a.ndim == 2 else a.transpose(0, 2, 1)
            for a in (mu, sigma)
        )
        return _PassMixture(mu=mu, sigma=sigma, index=X.index, columns=self._y_columns)

    def _frame(self, values, X):
        return pd.DataFrame(
            values.reshape(len(X), -1), index=X.index, columns=self._y_columns
        )

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Return testing parameter settings for the estimator.

        Parameters
        ----------
        parameter_set : str, default="default"
            Name of the set of test parameters to return.

        Returns
        -------
        params : list of dict
            Two small, fast settings: a homoscedastic network, and a
            heteroscedastic ensemble of two members.
        """
        small = {
            "hidden_layer_sizes": (8,),
            "dropout": 0.1,
            "max_epochs": 2,
            "batch_size": 32,
            "random_state": 0,
        }
        return [
            {
                "estimator": MCDropoutRegressor(
                    noise="homoscedastic", n_passes=10, **small
                )
            },
            {
                "estimator": MCDropoutRegressor(
                    noise="heteroscedastic", n_members=2, n_passes=5, **small
                )
            },
        ]


def _array(X):
    """The features as float64, for MCDropoutRegressor."""
    return X.to_numpy(dtype=np.float64)


def _target(y):
    """One column as 1-D (scikit-learn's convention), several as 2-D."""
    y = y.to_numpy(dtype=np.float64)
    return y[:, 0] if y.shape[1] == 1 else y
