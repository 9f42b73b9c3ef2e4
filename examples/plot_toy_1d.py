"""
===================================================
Epistemic uncertainty in a gap and outside the data
===================================================

A 1-D regression with two clusters of training points. Inside each cluster
the predictive std is close to the noise level; in the gap between them and
away from the data the passes disagree and the std grows: the network knows
where it has not seen data.

Set ``SKLEARN_MCDROPOUT_QUICK=1`` for a shorter run; the figure goes to
``SKLEARN_MCDROPOUT_OUTPUT`` (default ``examples/output``).
"""

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np

from sklearn_mcdropout import MCDropoutRegressor
from sklearn_mcdropout.plotting import UncertaintyBandsDisplay

quick = os.environ.get("SKLEARN_MCDROPOUT_QUICK") == "1"
output = Path(os.environ.get("SKLEARN_MCDROPOUT_OUTPUT", "examples/output"))
output.mkdir(parents=True, exist_ok=True)


def f(x):
    return np.sin(x) + 0.1 * x


rng = np.random.default_rng(0)
X = np.concatenate([rng.uniform(-4, -2, 100), rng.uniform(2, 4, 100)])[:, None]
y = f(X[:, 0]) + rng.normal(scale=0.05, size=len(X))

model = MCDropoutRegressor(
    hidden_layer_sizes=(128, 128),
    dropout=0.2,
    noise="homoscedastic",
    weight_decay=1e-4,
    lr=3e-3,
    max_epochs=60 if quick else 150,
    random_state=0,
).fit(X, y)

# %%
# Predictive std near and far from the data
# -----------------------------------------
train_std = np.median(model.predict(X, return_std=True)[1])
gap_std = model.predict(np.array([[0.0]]), return_std=True)[1][0]
far_std = model.predict(np.array([[-10.0], [10.0]]), return_std=True)[1].min()
# tau="auto" maximises the held-out likelihood: where the spread of the passes
# alone already covers the held-out residuals, the noise term goes to its floor.
print(f"noise std sqrt(1/tau_): {np.sqrt(1 / model.tau_):.3f} (data noise 0.05)")
print(f"median std at training points: {train_std:.3f}")
print(f"std in the gap (x=0): {gap_std:.3f} ({gap_std / train_std:.1f}x)")
print(f"std far outside (|x|=10): {far_std:.3f} ({far_std / train_std:.1f}x)")

# %%
# Predictive mean and std on a grid
# ---------------------------------
# ``from_estimator`` predicts on ``X_plot`` and draws the mean, the ±1 and ±2
# std bands, the training data and the true function.
X_plot = np.linspace(-10, 10, 400)[:, None]
display = UncertaintyBandsDisplay.from_estimator(
    model, X, y, X_plot=X_plot, n_std=(1, 2), y_true_plot=f(X_plot[:, 0])
)
display.ax_.set_ylim(-4, 4)
_ = display.ax_.set_title("MC dropout: mean and ±1, ±2 std")
display.figure_.savefig(output / "toy_1d.png", dpi=110)
print(f"figure saved in {output}")
