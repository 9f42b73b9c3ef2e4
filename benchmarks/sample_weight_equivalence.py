"""How close a row of weight 2 comes to two copies of the row.

A weighted fit and a fit on the rows repeated as many times as their
integer weights have the same loss, target standardisation and weight decay,
but not the same training: copies get their own dropout masks and batch
slots, and an epoch over the copies has more batches. This script fits, on
a 1-D sine where every x has two rows, sin(2x) + 0.5 of weight 2 and
sin(2x) - 0.5 of weight 1 (so the weighted least-squares fit is
sin(2x) + 1/6, and the unweighted one sin(2x)):

- the weighted fit (seed 0);
- the fit on the rows duplicated instead (seeds 0 to ``--seeds - 1``);
- the unweighted fit (seed 0), which ignores the weights;

and prints the RMS difference of their predictive means and stds on a test
grid, next to the RMS difference between duplicated-row fits of different
seeds (the training noise), in units of the target's std.

    python benchmarks/sample_weight_equivalence.py            # a minute
    python benchmarks/sample_weight_equivalence.py --epochs 600
"""

import argparse
import itertools

import numpy as np
import torch

from sklearn_mcdropout import MCDropoutRegressor


def data(n, seed=0):
    """``n // 2`` points x, each twice: sin(2x) + 0.5 (weight 2), sin(2x) - 0.5."""
    x = np.random.default_rng(seed).uniform(-2, 2, size=n // 2)
    X = np.r_[x, x].reshape(-1, 1)
    offset = np.r_[np.full(n // 2, 0.5), np.full(n // 2, -0.5)]
    w = np.where(offset > 0, 2, 1)
    return X, np.sin(2 * X[:, 0]) + offset, w


def rms(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    X, y, w = data(args.n)
    X_test = np.linspace(-1.9, 1.9, 200).reshape(-1, 1)

    def fit(X, y, seed, sample_weight=None):
        est = MCDropoutRegressor(
            hidden_layer_sizes=(32,),
            max_epochs=args.epochs,
            lr=3e-3,
            random_state=seed,
        ).fit(X, y, sample_weight=sample_weight)
        return est.predict(X_test, return_std=True)

    scale = float(np.std(np.repeat(y, w)))
    weighted = fit(X, y, 0, w)
    unweighted = fit(X, y, 0)
    repeated = [
        fit(np.repeat(X, w, axis=0), np.repeat(y, w), s) for s in range(args.seeds)
    ]
    seed_noise = [
        (rms(a[0], b[0]) / scale, rms(a[1], b[1]) / scale)
        for a, b in itertools.combinations(repeated, 2)
    ]
    print(
        f"{args.n} rows, every second of weight 2 (or duplicated), "
        f"{args.epochs} epochs; RMS differences over 200 test points, in units "
        "of the target's std:"
    )
    print("                                            mean     std")
    for name, pred in (("weight 2", weighted), ("unweighted", unweighted)):
        d = [(rms(pred[0], r[0]) / scale, rms(pred[1], r[1]) / scale) for r in repeated]
        print(
            f"  {name:<12} vs duplicated rows (mean of {args.seeds} seeds)  "
            f"{np.mean([m for m, _ in d]):.4f}  {np.mean([s for _, s in d]):.4f}"
        )
    print(
        "  duplicated rows, seed vs seed (mean of pairs)       "
        f"{np.mean([m for m, _ in seed_noise]):.4f}  "
        f"{np.mean([s for _, s in seed_noise]):.4f}"
    )
    f = np.sin(2 * X_test[:, 0])
    print(
        "mean offset of the predictive mean from sin(2x) (weighted fit: 1/6 = "
        f"0.1667): weight 2 {np.mean(weighted[0] - f):.4f}, duplicated rows "
        f"{np.mean(repeated[0][0] - f):.4f}, unweighted "
        f"{np.mean(unweighted[0] - f):.4f}"
    )


if __name__ == "__main__":
    main()
