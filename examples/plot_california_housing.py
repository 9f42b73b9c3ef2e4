"""
======================================================
California housing: the reference study, calibrated
======================================================

The reference report trains a 4 x 1024 ReLU network with dropout 0.1, MSE
loss and mini-batches of 64 on California housing, keeps dropout on for T=100
passes over the test set, and uses the spread of the passes as its
uncertainty. That spread is the epistemic part only: it leaves out the
observation noise, so its intervals cover a small fraction of the targets.

Here the same network and settings run as a step of a scikit-learn
``Pipeline``. :class:`~sklearn_mcdropout.MCDropoutRegressor` adds the noise
precision ``tau_`` (estimated on held-out training rows) to the spread of the
passes, as the paper's predictive variance does. A third model,
``noise="heteroscedastic"`` on a 2 x 256 network with settings picked by
hand, learns a noise level per district. A fourth, ``MCDropoutRegressor()``
with its defaults, chooses its dropout rate, noise model, noise level and
number of epochs on held-out rows by itself. All four uncertainties are
scored on the test set, overall and per quintile of the house value.

Set ``SKLEARN_MCDROPOUT_QUICK=1`` for a run of seconds on a subsample;
figures go to ``SKLEARN_MCDROPOUT_OUTPUT`` (default ``examples/output``).
"""

# %%
# Data and model
# --------------
# An 80/20 split (``random_state=42``, the split of the project's comparisons
# with other methods), features standardised inside the pipeline. The target
# is the median house value in units of $100,000.
import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
from scipy.stats import norm
from sklearn.metrics import r2_score, root_mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mcdropout import MCDropoutRegressor, load_california_housing
from sklearn_mcdropout.metrics import (
    crps_gaussian,
    crps_mixture,
    gaussian_nll,
    interval_coverage,
    mean_interval_width,
)
from sklearn_mcdropout.plotting import (
    CoverageByGroupDisplay,
    CoverageCurveDisplay,
    UncertaintyPanelsDisplay,
)

quick = os.environ.get("SKLEARN_MCDROPOUT_QUICK") == "1"
output = Path(os.environ.get("SKLEARN_MCDROPOUT_OUTPUT", "examples/output"))
output.mkdir(parents=True, exist_ok=True)
start = time.perf_counter()

X, y = load_california_housing()
if quick:
    rng = np.random.default_rng(0)
    rows = rng.choice(len(y), size=2000, replace=False)
    X, y = X[rows], y[rows]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.2, random_state=42
)


def fit(**params):
    """A StandardScaler + MCDropoutRegressor pipeline, fitted, and its fit time."""
    begin = time.perf_counter()
    pipe = make_pipeline(
        StandardScaler(), MCDropoutRegressor(n_passes=100, random_state=0, **params)
    )
    return pipe.fit(X_train, y_train), time.perf_counter() - begin


# The report's network and settings.
model, fit_seconds = fit(
    hidden_layer_sizes=(64,) * 2 if quick else (1024,) * 4,
    dropout=0.1,
    noise="homoscedastic",
    weight_decay=1e-4,
    batch_size=64,
    max_epochs=3 if quick else 30,
)
regressor = model[-1]
# A noise level per input on a smaller network (see "Noise that varies with
# the input" in the user guide).
hetero, hetero_seconds = fit(
    noise="heteroscedastic",
    hidden_layer_sizes=(64,) * 2 if quick else (256,) * 2,
    dropout=0.05,
    lr=2e-3,
    lr_schedule="cosine",
    weight_decay=1e-5,
    batch_size=128,
    max_epochs=3 if quick else 80,
)
# The defaults: fit chooses the rate, the noise model, tau and the epochs on
# held-out rows ("What fit chooses" in the user guide).
defaults, defaults_seconds = fit(
    **({"hidden_layer_sizes": (64,) * 2, "max_epochs": 3} if quick else {})
)

# %%
# Four uncertainties, side by side
# --------------------------------
# ``predict(X, return_std=True)`` of the report's network gives the library's
# std, ``sqrt(variance of the passes + 1 / tau_)``; the report's std is the
# spread of the passes alone (``predict_passes`` exposes them). The
# heteroscedastic model adds a noise level per input. Coverage of the 95%
# intervals is given overall and per quintile of the true value (q1: the
# cheapest fifth of the districts).
y_mean, y_std = model.predict(X_test, return_std=True)
passes = regressor.predict_passes(model[:-1].transform(X_test))
report_std = passes.std(axis=1, ddof=1)
h_mean, h_std = hetero.predict(X_test, return_std=True)
d_mean, d_std = defaults.predict(X_test, return_std=True)
predictions = {
    "report (passes only)": (y_mean, report_std, fit_seconds),
    "library (+ 1/tau)": (y_mean, y_std, fit_seconds),
    "heteroscedastic": (h_mean, h_std, hetero_seconds),
    "defaults (fit chooses)": (d_mean, d_std, defaults_seconds),
}
quintiles = np.digitize(y_test, np.quantile(y_test, [0.2, 0.4, 0.6, 0.8]))

print(f"test rows: {len(y_test)}, T = {regressor.n_passes} passes")
print(f"test RMSE: {root_mean_squared_error(y_test, y_mean):.3f} ($100k)   ", end="")
print(f"R2: {r2_score(y_test, y_mean):.3f} (report's network)")
print(f"noise std sqrt(1/tau_): {np.sqrt(1 / regressor.tau_):.3f} ($100k)")
chosen = defaults[-1]
print(
    f"the defaults chose dropout {chosen.dropout_.flat[0]:g}, noise "
    f"{chosen.noise_!r}, {chosen.n_iter_} epochs, {chosen.n_members_} member(s)"
)
header = "".join(f"{c:>8}" for c in ["RMSE", "NLL", "CRPS", "cover95", "width95"])
print(f"{'std':<24}{header}{'q1..q5 cover95':>32}{'fit s':>8}")
for name, (mean, std, seconds) in predictions.items():
    by_quintile = " ".join(
        f"{interval_coverage(y_test[quintiles == q], mean[quintiles == q], std[quintiles == q]):.3f}"  # noqa: E501
        for q in range(5)
    )
    print(
        f"{name:<24}{root_mean_squared_error(y_test, mean):8.3f}"
        f"{gaussian_nll(y_test, mean, std):8.3f}{crps_gaussian(y_test, mean, std):8.3f}"
        f"{interval_coverage(y_test, mean, std):8.3f}{mean_interval_width(std):8.3f}"
        f"{by_quintile:>32}{seconds:8.0f}"
    )

# %%
# The mixture's intervals beside the Gaussian's
# ---------------------------------------------
# The rows above summarise each model's predictive distribution by a
# Gaussian of its mean and std. The distribution itself is the mixture of
# the passes' Gaussians (what ``sample_y`` draws from): ``predict_interval``
# gives its own central 95% interval, from its 2.5% to its 97.5% quantile,
# and ``crps_mixture`` its exact CRPS. Where the passes disagree, or their
# noise levels differ, the mixture is skewed and the two intervals part.
z95 = norm.ppf(0.975)
print(f"{'95% interval':<34}{'CRPS':>8}{'cover95':>8}{'width95':>8}", end="")
print(f"{'q1..q5 cover95':>32}")
for name, pipe in [
    ("library (+ 1/tau)", model),
    ("heteroscedastic", hetero),
    ("defaults (fit chooses)", defaults),
]:
    mean, std, _ = predictions[name]
    X_scaled = pipe[:-1].transform(X_test)
    y_passes, noise_std = pipe[-1].predict_passes(X_scaled, return_noise_std=True)
    gaussian = (mean - z95 * std, mean + z95 * std, crps_gaussian(y_test, mean, std))
    mixture = (
        *pipe[-1].predict_interval(X_scaled, confidence=0.95),
        crps_mixture(y_test, y_passes, noise_std),
    )
    for density, (lower, upper, crps) in [("Gaussian", gaussian), ("mixture", mixture)]:
        inside = (lower <= y_test) & (y_test <= upper)
        by_quintile = " ".join(f"{inside[quintiles == q].mean():.3f}" for q in range(5))
        print(
            f"{name + ', ' + density:<34}{crps:8.3f}{inside.mean():8.3f}"
            f"{np.mean(upper - lower):8.3f}{by_quintile:>32}"
        )

# %%
# The report's three panels, with the calibrated std
# --------------------------------------------------
# Residuals against the true value, predictions coloured by their std, and
# the distribution of the std.
panels = UncertaintyPanelsDisplay.from_predictions(
    y_test, y_mean, y_std, std_label="predictive std ($100k)"
)
panels.figure_.savefig(output / "california_panels.png", dpi=110)

# %%
# Reliability diagram
# -------------------
# Observed against nominal coverage of central intervals: the passes alone
# are far too confident; adding the noise precision brings the curve to the
# diagonal. Each display draws on the axes of the first.
report = CoverageCurveDisplay.from_predictions(
    y_test, y_mean, report_std, name="report (passes only)"
)
for name in ["library (+ 1/tau)", "heteroscedastic", "defaults (fit chooses)"]:
    mean, std, _ = predictions[name]
    CoverageCurveDisplay.from_predictions(y_test, mean, std, name=name, ax=report.ax_)
_ = report.ax_.set_title("Reliability diagram")
report.figure_.savefig(output / "california_reliability.png", dpi=110)

# %%
# Coverage per quintile of the house value
# ----------------------------------------
# One noise level for every district gives intervals too wide for cheap
# houses and too narrow for expensive ones; the heteroscedastic intervals
# are narrower where the noise is small and wider where it is large. Bins of
# the true value condition on the outcome, so even a perfectly calibrated
# model covers a little less than 95% in the outer bins.
groups = None
for name in ["library (+ 1/tau)", "heteroscedastic"]:
    mean, std, _ = predictions[name]
    display = CoverageByGroupDisplay.from_predictions(
        y_test, mean, std, by="y_true", n_bins=5, name=name, ax=groups
    )
    groups = display.axes_
display.figure_.savefig(output / "california_coverage_by_value.png", dpi=110)

print(
    f"figures saved in {output}; total time {time.perf_counter() - start:.0f} s "
    f"(fit {fit_seconds:.0f} s and {hetero_seconds:.0f} s)"
)
