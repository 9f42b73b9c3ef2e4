"""Metrics and scorers for probabilistic regression and classification.

The functions in this module score a Gaussian predictive distribution
``N(y_mean, y_std**2)`` per sample, as returned by
``MCDropoutRegressor.predict(X, return_std=True)`` (or by any regressor whose
``predict`` accepts ``return_std``, such as
:class:`~sklearn.linear_model.BayesianRidge` or
:class:`~sklearn.gaussian_process.GaussianProcessRegressor`):

- proper scoring rules: :func:`gaussian_nll`, :func:`crps_gaussian` and
  :func:`mc_log_likelihood` (the Monte Carlo test log-likelihood of
  Gal & Ghahramani (2016), computed from the individual stochastic passes);
- interval diagnostics: :func:`interval_coverage`, :func:`mean_interval_width`;
- calibration diagnostics: :func:`coverage_curve`,
  :func:`coverage_calibration_error`, and :func:`coverage_by_group` for
  conditional calibration (coverage and width per bin of the predicted std,
  of the target, or per group of samples).

The predictive distribution itself is the equal-weight mixture of the
Gaussians of the passes, ``N(y_passes[:, k], noise_std[:, k]**2)``, as
returned by ``predict_passes(X, return_noise_std=True)``; the Gaussian above
is its two-moment summary. Exactly, from the mixture:

- :func:`crps_mixture`, its continuous ranked probability score;
- :func:`mixture_cdf`, :func:`mixture_quantiles` and :func:`mixture_interval`
  (central prediction intervals that follow a skewed or multimodal mixture).

For classification, as returned by ``MCDropoutClassifier.predict_proba`` and
``predict_proba_passes``:

- uncertainty of a prediction from its passes: :func:`predictive_entropy`,
  :func:`expected_entropy` (aleatoric), :func:`mutual_information`
  (epistemic, BALD) and :func:`variation_ratio`;
- scores of class probabilities: :func:`brier_score` and
  :func:`expected_calibration_error`; the negative log-likelihood is
  scikit-learn's :func:`~sklearn.metrics.log_loss` (scorer ``"neg_log_loss"``).

Scorers
-------
Scikit-learn's own scorers call ``predict(X)`` and so never see the predictive
standard deviation. The scorers below call ``estimator.predict(X,
return_std=True)`` instead; this also works for a
:class:`~sklearn.pipeline.Pipeline` whose last step accepts ``return_std``,
since the pipeline forwards the keyword to it. Like all scikit-learn scorers,
greater is better, so losses are negated:

- ``neg_gaussian_nll_scorer``: ``-gaussian_nll``;
- ``neg_crps_scorer``: ``-crps_gaussian``;
- ``neg_calibration_error_scorer``: ``-coverage_calibration_error``;
- ``neg_coverage_error_scorer``: ``-|interval_coverage(confidence=0.95) - 0.95|``;
- for classifiers, ``neg_brier_score_scorer`` and
  ``neg_expected_calibration_error_scorer`` call ``predict_proba``.

Pass one as ``scoring`` to :class:`~sklearn.model_selection.GridSearchCV`,
:func:`~sklearn.model_selection.cross_val_score` or
:func:`~sklearn.model_selection.cross_validate`, e.g.
``GridSearchCV(pipe, grid, scoring=neg_gaussian_nll_scorer)``, or several as a
dict, e.g. ``scoring={"nll": neg_gaussian_nll_scorer, "crps":
neg_crps_scorer}`` together with ``refit="nll"``. Build others with
:func:`make_std_scorer`.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import BayesianRidge
>>> from sklearn.model_selection import GridSearchCV
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from sklearn_mcdropout.metrics import neg_crps_scorer, neg_gaussian_nll_scorer
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(60, 2))
>>> y = X @ np.array([1.0, -2.0]) + rng.normal(scale=0.5, size=60)
>>> pipe = make_pipeline(StandardScaler(), BayesianRidge())
>>> search = GridSearchCV(
...     pipe,
...     {"bayesianridge__alpha_init": [None, 1e-3]},
...     scoring={"nll": neg_gaussian_nll_scorer, "crps": neg_crps_scorer},
...     refit="nll",
... ).fit(X, y)
>>> sorted(k for k in search.cv_results_ if k.startswith("mean_test"))
['mean_test_crps', 'mean_test_nll']
"""

from ._classification import (
    brier_score,
    expected_calibration_error,
    expected_entropy,
    mutual_information,
    predictive_entropy,
    variation_ratio,
)
from ._mixture import (
    crps_mixture,
    mixture_cdf,
    mixture_interval,
    mixture_quantiles,
)
from ._regression import (
    coverage_by_group,
    coverage_calibration_error,
    coverage_curve,
    crps_gaussian,
    gaussian_nll,
    interval_coverage,
    mc_log_likelihood,
    mean_interval_width,
)
from ._scorers import (
    make_std_scorer,
    neg_brier_score_scorer,
    neg_calibration_error_scorer,
    neg_coverage_error_scorer,
    neg_crps_scorer,
    neg_expected_calibration_error_scorer,
    neg_gaussian_nll_scorer,
)

__all__ = [
    "brier_score",
    "coverage_by_group",
    "coverage_calibration_error",
    "coverage_curve",
    "crps_gaussian",
    "crps_mixture",
    "expected_calibration_error",
    "expected_entropy",
    "gaussian_nll",
    "interval_coverage",
    "make_std_scorer",
    "mc_log_likelihood",
    "mean_interval_width",
    "mixture_cdf",
    "mixture_interval",
    "mixture_quantiles",
    "mutual_information",
    "neg_brier_score_scorer",
    "neg_calibration_error_scorer",
    "neg_coverage_error_scorer",
    "neg_crps_scorer",
    "neg_expected_calibration_error_scorer",
    "neg_gaussian_nll_scorer",
    "predictive_entropy",
    "variation_ratio",
]

# Run the scorers' examples as doctests: they are instances, not functions.
__test__ = {
    name: globals()[name].__doc__
    for name in (
        "neg_gaussian_nll_scorer",
        "neg_crps_scorer",
        "neg_calibration_error_scorer",
        "neg_coverage_error_scorer",
        "neg_brier_score_scorer",
        "neg_expected_calibration_error_scorer",
    )
}
