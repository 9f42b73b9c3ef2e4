"""benchmarks/defaults_report.py: the table of the defaults' section of
RESULTS_peers.md."""

import json

from conftest import import_benchmark


def test_defaults_report_puts_the_previous_run_between(tmp_path, monkeypatch):
    # defaults_report.py: the earlier release / a previous run of the defaults
    # / the new defaults ± SE / the best earlier variant, per metric.
    report = import_benchmark("defaults_report")
    keys = ("rmse", "gaussian_nll", "nll", "coverage_95", "fit_time")

    def results(name, summary):
        by_method = {
            method: {
                **{key: {"mean": value, "se": 0.01} for key in keys},
                "coverage_95_by_bin": {"mean": [0.9, value]},
            }
            for method, value in summary.items()
        }
        text = json.dumps({"n_splits": 20, "summary": by_method})
        (tmp_path / f"{name}_toy.json").write_text(text)

    results("peers", {"mcd": 1.0, "mcd-het": 0.5})
    results("previous", {"mcd": 0.7})
    results("defaults", {"mcd": 0.6})
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    cells = report.row("toy", "previous").split(" | ")
    assert cells[0] == "| toy (20 splits)"
    assert cells[1] == "1.000 / 0.700 / **0.600 ± 0.010** / 0.500 (mcd-het)"
    assert cells[-1] == "0.90 / 0.70 / **0.60** |"
    without = report.row("toy").split(" | ")
    assert without[1] == "1.000 / **0.600 ± 0.010** / 0.500 (mcd-het)"
    # A set without a previous file: its defaults did not change, "=".
    unchanged = report.row("toy", "nothing").split(" | ")
    assert unchanged[1] == "1.000 / = / **0.600 ± 0.010** / 0.500 (mcd-het)"
    assert unchanged[-1] == "0.90 / = / **0.60** |"
