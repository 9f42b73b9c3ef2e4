"""Tables and figures from the results files of ``benchmarks/peers.py``.

Prints, for each results file, the Markdown table of ``RESULTS_peers.md``
(one row per method), the library's Gaussian summary beside its mixture
(CRPS and intervals of each, where the results file has them), and then a
table of which method wins each data set on
each metric, beside the best of the MC dropout variants; with ``--figures
FOLDER`` it also draws ``peers_nll_time.png`` (NLL against fit time, one panel
per data set) and ``peers_coverage_bins.png`` (95% coverage per quintile of
the target) there.

    python benchmarks/peers_report.py benchmarks/results/peers_*.json \\
        --figures docs/_static
"""

import argparse
import json
from pathlib import Path

import numpy as np

ORDER = (
    "mcd",
    "mcd-het",
    "mcd-concrete",
    "mcd-ens5",
    "deep-ens5",
    "ngboost",
    "cqr",
    "gp",
)
LIBRARY = ORDER[:5]
# The MC dropout variants; the deep ensemble is built with the library
# (n_members=5, dropout=0) but is another method.
MC_DROPOUT = ORDER[:4]
LABELS = {
    "mcd": "MCDropoutRegressor()",
    "mcd-het": 'noise="heteroscedastic"',
    "mcd-concrete": 'dropout="concrete"',
    "mcd-ens5": "n_members=5",
    "deep-ens5": "deep ensemble (5 MLPs, variance head)",
    "ngboost": "NGBoost (Normal)",
    "cqr": "HGB quantiles + CQR (MAPIE)",
    "gp": "GaussianProcessRegressor",
}
STYLE = {
    "mcd": ("tab:blue", "o"),
    "mcd-het": ("tab:cyan", "s"),
    "mcd-concrete": ("tab:purple", "D"),
    "mcd-ens5": ("navy", "^"),
    "deep-ens5": ("tab:olive", "v"),
    "ngboost": ("tab:red", "P"),
    "cqr": ("tab:orange", "X"),
    "gp": ("tab:green", "*"),
}
# Metric, header, lower is better (None: closest to the value is better).
METRICS = (
    ("rmse", "RMSE", True),
    ("gaussian_nll", "NLL", True),
    ("crps", "CRPS", True),
    ("coverage_95", "95% coverage", 0.95),
    ("worst_bin_95", "95% coverage, quintile farthest from 0.95", 0.95),
)


def load(paths):
    return [json.loads(Path(p).read_text()) for p in paths]


def _splits(result):
    n = result["n_splits"]
    return f"{n} split" if n == 1 else f"{n} splits"


def _methods(result):
    return [m for m in ORDER if m in result["summary"]]


def _cell(stats, key, digits=3, se=True):
    if key not in stats:
        return "n/a"
    mean, err = stats[key]["mean"], stats[key]["se"]
    if se and err:
        return f"{mean:.{digits}f} ± {err:.{digits}f}"
    return f"{mean:.{digits}f}"


def _own_nll(stats, method, se):
    """The library's mixture NLL; the peers' own density is the Gaussian."""
    if "nll" not in stats:
        return "n/a"
    return _cell(stats, "nll", se=se) if method in LIBRARY else "same"


def method_table(result):
    """One row per method: every metric, mean ± standard error over splits."""
    se = result["n_splits"] > 1
    head = (
        "| method | RMSE | NLL | NLL, own density | CRPS | 90% cov. | 95% cov. "
        "| 95% cov. by target quintile (low → high) | 95% width | fit s "
        "| predict s |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for method in _methods(result):
        stats = result["summary"][method]
        by_bin = " / ".join(f"{c:.2f}" for c in stats["coverage_95_by_bin"]["mean"])
        cells = [
            LABELS[method],
            _cell(stats, "rmse", se=se),
            _cell(stats, "gaussian_nll", se=se),
            _own_nll(stats, method, se),
            _cell(stats, "crps", se=se),
            _cell(stats, "coverage_90", se=se),
            _cell(stats, "coverage_95", se=se),
            by_bin,
            _cell(stats, "width_95", se=se),
            _cell(stats, "fit_time", 1, se=False),
            _cell(stats, "predict_time", 2, se=False),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mixture_table(result):
    """The library's Gaussian of two moments beside its mixture of the passes.

    CRPS and central intervals of each: ``mean +- z std`` against the
    mixture's own quantiles. None when the results predate the mixture's
    scores.
    """
    se = result["n_splits"] > 1
    methods = [m for m in _methods(result) if "mixture_crps" in result["summary"][m]]
    if not methods:
        return None
    head = (
        "| method | density | CRPS | 90% cov. | 95% cov. "
        "| 95% cov. by target quintile (low → high) | 95% width |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for method in methods:
        stats = result["summary"][method]
        for density, prefix in (("Gaussian", ""), ("mixture", "mixture_")):
            by_bin = stats[f"{prefix}coverage_95_by_bin"]["mean"]
            cells = [
                LABELS[method],
                density,
                _cell(stats, f"{prefix}crps", se=se),
                _cell(stats, f"{prefix}coverage_90", se=se),
                _cell(stats, f"{prefix}coverage_95", se=se),
                " / ".join(f"{c:.2f}" for c in by_bin),
                _cell(stats, f"{prefix}width_95", se=se),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _value(stats, key):
    if key == "worst_bin_95":
        by_bin = np.array(stats["coverage_95_by_bin"]["mean"])
        return float(by_bin[np.argmax(np.abs(by_bin - 0.95))])
    return stats[key]["mean"] if key in stats else None


def _best(result, key, rule, methods):
    scored = [
        (m, v)
        for m in methods
        if m in result["summary"]
        and (v := _value(result["summary"][m], key)) is not None
    ]
    if rule is True:
        return min(scored, key=lambda mv: mv[1])
    return min(scored, key=lambda mv: abs(mv[1] - rule))


def _winner(result, key, rule):
    """The winner of one metric, and the best MC dropout variant where the
    winner is another method."""
    best, value = _best(result, key, rule, ORDER)
    cell = f"**{LABELS[best]}** {value:.3f}"
    if best not in MC_DROPOUT:
        ours, ours_value = _best(result, key, rule, MC_DROPOUT)
        cell += f"; best MC dropout: {LABELS[ours]} {ours_value:.3f}"
    return cell


def winners_table(results):
    """For each data set and metric: the winner, and the best MC dropout
    variant where the winner is another method."""
    head = "| data set | " + " | ".join(h for _, h, _ in METRICS) + " |"
    lines = [head, "|---|" + "---|" * len(METRICS)]
    for result in results:
        cells = [f"{result['dataset']} ({_splits(result)})"]
        cells += [_winner(result, key, rule) for key, _, rule in METRICS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def winners_rst(results):
    """The winners table as a reStructuredText list-table (for docs/)."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - data set",
        *[f"     - {header}" for _, header, _ in METRICS],
    ]
    for result in results:
        lines.append(f"   * - {result['dataset']} ({_splits(result)})")
        lines += [f"     - {_winner(result, key, rule)}" for key, _, rule in METRICS]
    return "\n".join(lines)


def figures(results, folder):
    """NLL against fit time, and 95% coverage per target quintile."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n_cols = 3
    n_rows = -(-len(results) // n_cols)
    # 0.9 inch below the panels for the legend.
    height = 3.4 * n_rows + 0.9
    bottom = 0.9 / height
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(4.2 * n_cols, height), squeeze=False
    )
    for ax, result in zip(axes.flat, results, strict=False):
        for method in _methods(result):
            stats = result["summary"][method]
            if "gaussian_nll" not in stats:
                continue
            color, marker = STYLE[method]
            ax.errorbar(
                stats["fit_time"]["mean"],
                stats["gaussian_nll"]["mean"],
                yerr=stats["gaussian_nll"]["se"],
                color=color,
                marker=marker,
                markersize=8,
                linestyle="none",
                label=LABELS[method],
            )
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(FormatStrFormatter("%g"))
        ax.tick_params(axis="x", which="minor", labelsize=7)
        ax.set_title(f"{result['dataset']} ({_splits(result)})")
        ax.set_xlabel("fit time per split (s, one thread)")
        ax.set_ylabel("test Gaussian NLL (lower is better)")
    _finish(fig, axes, len(results), bottom, folder / "peers_nll_time.png")

    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(4.2 * n_cols, height), squeeze=False
    )
    for ax, result in zip(axes.flat, results, strict=False):
        for method in _methods(result):
            color, marker = STYLE[method]
            by_bin = result["summary"][method]["coverage_95_by_bin"]["mean"]
            ax.plot(
                np.arange(1, len(by_bin) + 1),
                by_bin,
                color=color,
                marker=marker,
                label=LABELS[method],
            )
        ax.axhline(0.95, color="black", linestyle="--", linewidth=1)
        ax.set_title(f"{result['dataset']} ({_splits(result)})")
        ax.set_xlabel("quintile of the test target (1: lowest)")
        ax.set_ylabel("95% interval coverage")
        ax.set_xticks(np.arange(1, len(by_bin) + 1))
    _finish(fig, axes, len(results), bottom, folder / "peers_coverage_bins.png")


def _finish(fig, axes, n_panels, bottom, path):
    """Hide the unused panels, one legend below them all, save and close."""
    import matplotlib.pyplot as plt

    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="results files of peers.py")
    parser.add_argument("--figures", help="folder for the two PNG figures")
    parser.add_argument(
        "--rst", action="store_true", help="also the winners as a reST list-table"
    )
    args = parser.parse_args(argv)
    results = load(args.results)
    for result in results:
        print(f"### {result['dataset']}\n\n`{result['command']}`\n")
        print(method_table(result) + "\n")
        mixture = mixture_table(result)
        if mixture is not None:
            print("The library's Gaussian summary beside its mixture:\n")
            print(mixture + "\n")
    print("### Winners\n")
    print(winners_table(results))
    if args.rst:
        print("\n" + winners_rst(results))
    if args.figures:
        figures(results, args.figures)


if __name__ == "__main__":
    main()
