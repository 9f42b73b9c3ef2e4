"""
====================================================
Noise that varies along x: aleatoric and epistemic
====================================================

A 1-D regression whose noise standard deviation rises five-fold along x,
0.1 at x = -3 to 0.5 at x = 3. The homoscedastic model (the paper's) has one
noise level ``sqrt(1 / tau_)`` for every x: too wide on the left, too narrow
on the right. With ``noise="heteroscedastic"`` the network also predicts the
noise variance of each input, and
:meth:`~sklearn_mcdropout.MCDropoutRegressor.predict_uncertainty` splits the
predictive std into that aleatoric part and the epistemic part, the spread
of the passes, which grows away from the data.

Set ``SKLEARN_MCDROPOUT_QUICK=1`` for a shorter run; the figure goes to
``SKLEARN_MCDROPOUT_OUTPUT`` (default ``examples/output``).
"""

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sklearn_mcdropout import MCDropoutRegressor

quick = os.environ.get("SKLEARN_MCDROPOUT_QUICK") == "1"
output = Path(os.environ.get("SKLEARN_MCDROPOUT_OUTPUT", "examples/output"))
output.mkdir(parents=True, exist_ok=True)


def noise_std(x):
    return 0.1 + 0.4 * (x + 3) / 6


rng = np.random.default_rng(0)
n = 800 if quick else 1500
X = rng.uniform(-3, 3, size=(n, 1))
y = np.sin(X[:, 0]) + rng.normal(size=n) * noise_std(X[:, 0])

params = dict(
    hidden_layer_sizes=(64, 64),
    dropout=0.02,
    weight_decay=1e-4,
    lr=3e-3,
    lr_schedule="cosine",
    max_epochs=30 if quick else 60,
    random_state=0,
)
models = {
    noise: MCDropoutRegressor(noise=noise, **params).fit(X, y)
    for noise in ("homoscedastic", "heteroscedastic")
}

# %%
# The two parts of the predictive std
# -----------------------------------
# On a grid over the training range and beyond it, the aleatoric part against
# the true noise std, and the epistemic part inside and outside the data.
grid = np.linspace(-6, 6, 241)[:, None]
inside = np.abs(grid[:, 0]) <= 2.5
parts = {noise: model.predict_uncertainty(grid) for noise, model in models.items()}
for noise, unc in parts.items():
    error = np.abs(unc.aleatoric_std[inside] / noise_std(grid[inside, 0]) - 1)
    far = unc.epistemic_std[np.abs(grid[:, 0]) >= 5.5].mean()
    print(
        f"{noise}: aleatoric std within {error.max():.0%} of the truth on "
        f"[-2.5, 2.5] (mean error {error.mean():.0%}); epistemic std "
        f"{np.median(unc.epistemic_std[inside]):.3f} inside, {far:.3f} at |x| >= 5.5"
    )

# %%
# Intervals that follow the noise
# -------------------------------
# 95% intervals of both models over the data, and the two parts of the
# heteroscedastic model's std beside the true noise.
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for (noise, model), color in zip(models.items(), ["C1", "C0"], strict=True):
    mean, std = model.predict(grid, return_std=True)
    axes[0].fill_between(
        grid[:, 0], mean - 1.96 * std, mean + 1.96 * std, alpha=0.25, color=color,
        label=f"{noise} 95%",
    )  # fmt: skip
axes[0].scatter(X[:, 0], y, s=3, color="black", alpha=0.4, label="training data")
axes[0].set(xlabel="x", ylabel="y", ylim=(-3, 3))
axes[0].legend(loc="lower left", fontsize=8)
_ = axes[0].set_title("95% intervals")
unc = parts["heteroscedastic"]
x_train = np.linspace(-3, 3, 61)
axes[1].plot(x_train, noise_std(x_train), "k--", label="true noise std (data)")
axes[1].plot(grid[:, 0], unc.aleatoric_std, label="aleatoric std")
axes[1].plot(grid[:, 0], unc.epistemic_std, label="epistemic std")
axes[1].axvspan(-3, 3, color="grey", alpha=0.1, label="training range")
axes[1].set(xlabel="x", ylabel="std", ylim=(0, 1.5))
axes[1].legend(loc="upper left", fontsize=8)
_ = axes[1].set_title("heteroscedastic: the parts of the std")
fig.tight_layout()
fig.savefig(output / "heteroscedastic_1d.png", dpi=110)
print(f"figure saved in {output}")
