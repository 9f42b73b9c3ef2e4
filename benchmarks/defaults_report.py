"""The defaults that choose on held-out rows against the earlier releases'.

Reads, per data set, a results file of ``benchmarks/peers.py`` run before the
"auto" defaults (``benchmarks/results/peers_<set>.json``: every method) and
one run with them (``--methods mcd``, ``benchmarks/results/defaults_<set>.json``)
and prints the Markdown table of ``RESULTS_peers.md``'s section on the
defaults: the earlier ``MCDropoutRegressor()``, the new one and, on each
metric, the best of the earlier MC dropout variants (``mcd-het``,
``mcd-concrete``, ``mcd-ens5`` and the earlier defaults).

    python benchmarks/defaults_report.py yacht energy bostonHousing \\
        concrete wine-quality-red california
"""

import argparse
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
VARIANTS = ("mcd", "mcd-het", "mcd-concrete", "mcd-ens5")
# Metric key, header, the best is the smallest (True) or closest to 0.95.
COLUMNS = (
    ("rmse", "RMSE", True),
    ("gaussian_nll", "NLL", True),
    ("nll", "NLL, own density", True),
    ("coverage_95", "95% cov.", False),
    ("fit_time", "fit s", True),
)


def _stats(result, method, key):
    stats = result["summary"][method].get(key)
    return None if stats is None else (stats["mean"], stats["se"])


def _best(result, key, smallest):
    values = [
        (v[0], m)
        for m in VARIANTS
        if m in result["summary"] and (v := _stats(result, m, key)) is not None
    ]
    if not smallest:
        return min(values, key=lambda vm: abs(vm[0] - 0.95))
    return min(values)


def _worst_quintile(result, method):
    by_bin = result["summary"][method]["coverage_95_by_bin"]["mean"]
    return min(by_bin)


def row(name, previous=None):
    old = json.loads((RESULTS / f"peers_{name}.json").read_text())
    new = json.loads((RESULTS / f"defaults_{name}.json").read_text())
    runs = [old]
    if previous is not None:
        # No previous file: the defaults' code path on this set did not
        # change since that run, and the run is the new one ("=").
        path = RESULTS / f"{previous}_{name}.json"
        runs.append(json.loads(path.read_text()) if path.exists() else None)
    cells = [f"{name} ({new['n_splits']} split{'s' * (new['n_splits'] > 1)})"]
    for key, _, smallest in COLUMNS:
        after = _stats(new, "mcd", key)
        best, method = _best(old, key, smallest)
        d = 1 if key == "fit_time" else 3
        earlier = " / ".join(
            "=" if run is None else f"{_stats(run, 'mcd', key)[0]:.{d}f}"
            for run in runs
        )
        cells.append(
            f"{earlier} / **{after[0]:.{d}f} ± {after[1]:.{d}f}**"
            f" / {best:.{d}f} ({method})"
        )
    quintiles = [
        "=" if run is None else f"{_worst_quintile(run, 'mcd'):.2f}" for run in runs
    ]
    cells.append(" / ".join(quintiles) + f" / **{_worst_quintile(new, 'mcd'):.2f}**")
    return "| " + " | ".join(cells) + " |"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="data sets, as in the results files")
    parser.add_argument(
        "--previous",
        help="also the results files <PREVIOUS>_<set>.json (an earlier run of "
        "the defaults), between the earlier release's and the new ones; '=' "
        "where a set has none (its defaults unchanged since)",
    )
    args = parser.parse_args(argv)
    headers = [h for _, h, _ in COLUMNS] + ["worst quintile, 95% cov."]
    print("| data set | " + " | ".join(headers) + " |")
    print("|---" * (len(headers) + 1) + "|")
    for name in args.names:
        print(row(name, args.previous))


if __name__ == "__main__":
    main()
