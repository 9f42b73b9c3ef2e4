"""MCDropoutClassifier(): the defaults that choose, against the earlier ones.

Issue 28 made ``dropout="auto"`` and ``max_epochs="auto"`` the classifier's
defaults (the rate among 0.005, 0.01, 0.05 and 0.1 and the training length
chosen by the held-out log loss, then a refit on all rows). This measures
them against the earlier defaults (``dropout=0.1, max_epochs=100``) on two
data sets that ship with scikit-learn, by 5-fold stratified cross-validation
(``StandardScaler`` first): log loss, accuracy, Brier score, expected
calibration error (15 bins) and fit time, mean ± SE over folds, and the
rates the defaults chose; and the defaults with a larger held-out part
(``validation_fraction`` 0.2 and 0.3): on a few dozen held-out rows the
held-out log loss is noisy, and the chosen training length with it.

    python benchmarks/classifier_defaults.py [--per-fold]

``--per-fold`` prints each fold's log loss, chosen rate and epochs too.
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mcdropout import MCDropoutClassifier
from sklearn_mcdropout.metrics import brier_score, expected_calibration_error

SETTINGS = {
    "defaults (auto)": {},
    # The same choice on more held-out rows (the default holds out 0.1).
    "auto, held out 0.2": {"validation_fraction": 0.2},
    "auto, held out 0.3": {"validation_fraction": 0.3},
    "earlier defaults": {"dropout": 0.1, "max_epochs": 100},
}
DATA = {"digits": load_digits, "breast_cancer": load_breast_cancer}


def one_fold(X_train, y_train, X_test, y_test, params, seed):
    model = make_pipeline(
        StandardScaler(), MCDropoutClassifier(random_state=seed, **params)
    )
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    proba = model.predict_proba(X_test)
    labels = model[-1].classes_
    scores = [
        log_loss(y_test, proba, labels=labels),
        accuracy_score(y_test, labels[proba.argmax(axis=1)]),
        brier_score(y_test, proba, labels=labels),
        expected_calibration_error(y_test, proba, n_bins=15, labels=labels),
        seconds,
    ]
    # One rate per member, the same for all: the first layer's of member 0.
    return scores, float(np.ravel(model[-1].dropout_)[0]), model[-1].n_iter_


def main(per_fold=False):
    for name, load in DATA.items():
        X, y = load(return_X_y=True)
        folds = StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)
        folds = list(folds)
        print(f"{name}: {X.shape[0]} rows, {X.shape[1]} features, 5 folds")
        print(f"  {'':<18}{'log loss':>16}{'accuracy':>16}{'Brier':>16}{'ECE':>16}"
              f"{'fit s':>8}  chosen (rate: folds), epochs")  # fmt: skip
        for setting, params in SETTINGS.items():
            rows, rates, epochs = [], [], []
            for k, (train, test) in enumerate(folds):
                scores, rate, n_iter = one_fold(
                    X[train], y[train], X[test], y[test], params, k
                )
                rows.append(scores)
                rates.append(rate)
                epochs.append(n_iter)
                if per_fold:
                    print(f"    {setting}, fold {k}: log loss {scores[0]:.4f}, "
                          f"rate {rate:g}, {n_iter} epochs")  # fmt: skip
            values = np.array(rows)
            mean, se = values.mean(axis=0), values.std(axis=0) / np.sqrt(len(values))
            cells = "".join(
                f"{m:9.4f} ± {s:.3f}" for m, s in zip(mean[:4], se[:4], strict=True)
            )
            chosen = ", ".join(f"{r:g}: {rates.count(r)}" for r in sorted(set(rates)))
            print(
                f"  {setting:<18}{cells}{mean[4]:8.1f}  {chosen}; "
                f"{min(epochs)} to {max(epochs)}",
                flush=True,
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-fold", action="store_true")
    main(parser.parse_args().per_fold)
