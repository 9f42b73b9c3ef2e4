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
passes, as the paper's predictive variance does, and both uncertainties are
scored on the test set.

Set ``SKLEARN_MCDROPOUT_QUICK=1`` for a run of seconds on a subsample;
figures go to ``SKLEARN_MCDROPOUT_OUTPUT`` (default ``examples/output``).
"""

# %%
# Data and model
# --------------
# An 80/20 split, features standardised inside the pipeline. The target is the
# median house value in units of $100,000.
import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
from sklearn.metrics import r2_score, root_mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mcdropout import MCDropoutRegressor, load_california_housing
from sklearn_mcdropout.metrics import (
    crps_gaussian,
    gaussian_nll,
    interval_coverage,
    mean_interval_width,
)
from sklearn_mcdropout.plotting import CoverageCurveDisplay, UncertaintyPanelsDisplay

quick = os.environ.get("SKLEARN_MCDROPOUT_QUICK") == "1"
output = Path(os.environ.get("SKLEARN_MCDROPOUT_OUTPUT", "examples/output"))
output.mkdir(parents=True, exist_ok=True)
start = time.perf_counter()

X, y = load_california_housing()
if quick:
    rng = np.random.default_rng(0)
    rows = rng.choice(len(y), size=2000, replace=False)
    X, y = X[rows], y[rows]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

model = make_pipeline(
    StandardScaler(),
    MCDropoutRegressor(
        hidden_layer_sizes=(64,) * 2 if quick else (1024,) * 4,
        dropout=0.1,
        batch_size=64,
        max_epochs=3 if quick else 30,
        n_passes=100,
        random_state=0,
    ),
)
model.fit(X_train, y_train)
regressor = model[-1]
fit_seconds = time.perf_counter() - start

# %%
# Two uncertainties from the same passes
# --------------------------------------
# ``predict(X, return_std=True)`` gives the library's std,
# ``sqrt(variance of the passes + 1 / tau_)``. The report's std is the spread
# of the passes alone; ``predict_passes`` exposes them.
y_mean, y_std = model.predict(X_test, return_std=True)
passes = regressor.predict_passes(model[:-1].transform(X_test))
report_std = passes.std(axis=1, ddof=1)

rows = []
for name, std in [("report (passes only)", report_std), ("library (+ 1/tau)", y_std)]:
    rows.append(
        (
            name,
            gaussian_nll(y_test, y_mean, std),
            crps_gaussian(y_test, y_mean, std),
            interval_coverage(y_test, y_mean, std, confidence=0.95),
            mean_interval_width(std, confidence=0.95),
        )
    )

rmse = root_mean_squared_error(y_test, y_mean)
r2 = r2_score(y_test, y_mean)
print(f"test rows: {len(y_test)}, T = {regressor.n_passes} passes")
print(f"test RMSE: {rmse:.3f} ($100k)   R2: {r2:.3f}")
print(f"noise std sqrt(1/tau_): {np.sqrt(1 / regressor.tau_):.3f} ($100k)")
print(f"{'std':<22}{'NLL':>8}{'CRPS':>8}{'cover95':>9}{'width95':>9}")
for name, nll, crps, cover, width in rows:
    print(f"{name:<22}{nll:8.3f}{crps:8.3f}{cover:9.3f}{width:9.3f}")

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
# diagonal. The second display draws on the axes of the first.
report = CoverageCurveDisplay.from_predictions(
    y_test, y_mean, report_std, name="report (passes only)"
)
CoverageCurveDisplay.from_predictions(
    y_test, y_mean, y_std, name="library (+ 1/tau)", ax=report.ax_
)
_ = report.ax_.set_title("Reliability diagram")
report.figure_.savefig(output / "california_reliability.png", dpi=110)

print(
    f"figures saved in {output}; total time {time.perf_counter() - start:.0f} s "
    f"(fit {fit_seconds:.0f} s)"
)
