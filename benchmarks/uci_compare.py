"""Split by split, uci.py's results against the authors' 2018 results.

The authors' folders hold their per-split test results under ``results/``
(``test_MC_rmse_*.txt``, the RMSE of the MC mean, and ``test_ll_*.txt``, one
line per split). This script reads the JSON that ``uci.py --json`` writes and
prints, over the splits it ran, the mean of each side and the mean and
standard error (std / sqrt(splits)) of the paired differences, ours minus
theirs: a sharper comparison than the two means' standard errors, since the
splits' difficulty varies far more than the methods do.

    python benchmarks/uci_compare.py --data ../shared/data/uci/wine-quality-red \\
        --json wine.json
"""

import argparse
import json
from pathlib import Path

import numpy as np

RESULT_FILES = {"rmse": "test_MC_rmse_*.txt", "ll": "test_ll_*.txt"}


def authors_results(folder):
    """The authors' per-split test RMSE and LL, from ``folder/results``."""
    found = {}
    for key, pattern in RESULT_FILES.items():
        paths = sorted((Path(folder) / "results").glob(pattern))
        if len(paths) != 1:
            raise ValueError(
                f"expected one results/{pattern} in {folder}, found {len(paths)}"
            )
        found[key] = np.atleast_1d(np.loadtxt(paths[0]))
    return found


def paired_differences(per_split, theirs):
    """Means of both sides and the paired difference (ours - theirs), per metric."""
    splits = [r["split"] for r in per_split]
    out = {"splits": len(splits)}
    for key, values in theirs.items():
        if max(splits) >= len(values):
            raise ValueError(
                f"the authors' {key} results have {len(values)} splits, "
                f"ours reach split {max(splits) + 1}"
            )
        ours = np.array([r[key] for r in per_split])
        diff = ours - values[splits]
        out[key] = {
            "ours": float(ours.mean()),
            "authors": float(values[splits].mean()),
            "difference": float(diff.mean()),
            "difference_se": float(diff.std() / np.sqrt(len(diff))),
        }
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder in the authors' format")
    parser.add_argument("--json", required=True, help="the summary uci.py wrote")
    args = parser.parse_args(argv)
    summary = json.loads(Path(args.json).read_text())
    result = paired_differences(summary["per_split"], authors_results(args.data))
    print(f"{summary['dataset']}, {result['splits']} splits, ours - authors' 2018:")
    for key in RESULT_FILES:
        r = result[key]
        print(
            f"  {key:<4} ours {r['ours']:.3f}, authors {r['authors']:.3f}, "
            f"difference {r['difference']:+.3f} +- {r['difference_se']:.3f}"
        )
    return result


if __name__ == "__main__":
    main()
