"""Every example runs in quick mode, writes its figures and prints sane metrics."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run_example(name, tmp_path):
    env = dict(
        os.environ,
        SKLEARN_MCDROPOUT_QUICK="1",
        SKLEARN_MCDROPOUT_OUTPUT=str(tmp_path),
        MPLBACKEND="Agg",
    )
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _number(pattern, text):
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in output:\n{text}"
    return float(match.group(1))


def _california_available():
    from sklearn_mcdropout import load_california_housing

    try:
        load_california_housing(download_if_missing=False)
    except OSError:
        return False
    return True


needs_california = pytest.mark.skipif(
    not _california_available(),
    reason="California housing is not cached; set SCIKIT_LEARN_DATA",
)


def _table_row(name, text, n_values=11):
    """The numbers of the row named ``name``: by default RMSE, NLL, CRPS,
    cover95, width95, the five quintile coverages and fit s."""
    match = re.search(rf"^{re.escape(name)}\s+(.+)$", text, re.MULTILINE)
    assert match, f"{name!r} not in output:\n{text}"
    values = list(map(float, match.group(1).split()))
    assert len(values) == n_values
    return values


@needs_california
def test_plot_california_housing(tmp_path):
    out = _run_example("plot_california_housing.py", tmp_path)
    for png in (
        "california_panels.png",
        "california_reliability.png",
        "california_coverage_by_value.png",
    ):
        assert (tmp_path / png).stat().st_size > 10_000
    rmse = _number(r"test RMSE: ([\d.]+)", out)
    assert 0.3 < rmse < 1.2
    report = _table_row("report (passes only)", out)
    library = _table_row("library (+ 1/tau)", out)
    hetero = _table_row("heteroscedastic", out)
    defaults = _table_row("defaults (fit chooses)", out)
    assert report[0] == library[0] == rmse  # the same fit, the same mean
    # The fit times, as the last line gives them: one for the first two rows.
    fit_s = _number(r"\(fit (\d+) s and \d+ s\)", out)
    assert report[-1] == library[-1] == fit_s
    assert hetero[-1] == _number(r"\(fit \d+ s and (\d+) s\)", out)
    # The calibrated std covers about 95% and beats the passes-only std on NLL.
    assert re.search(r"the defaults chose dropout [\d.]+, noise '\w+', \d+ epochs", out)
    for row in (library, hetero, defaults):
        _, nll, crps, cover, width, *quintiles, _ = row
        assert 0.85 < cover <= 1.0
        assert nll < report[1]
        assert 0 < crps < 1
        assert width > 0
        assert all(0 <= q <= 1 for q in quintiles)
    assert report[3] < library[3]
    # The Gaussian's rows of the second table repeat the first table's CRPS,
    # coverage, width and per-quintile coverage; the mixture's are its own.
    for name, row in (
        ("library (+ 1/tau)", library),
        ("heteroscedastic", hetero),
        ("defaults (fit chooses)", defaults),
    ):
        # CRPS, cover95, width95 and the five quintile coverages.
        gaussian = _table_row(f"{name}, Gaussian", out, n_values=8)
        mixture = _table_row(f"{name}, mixture", out, n_values=8)
        assert gaussian == row[2:10]
        crps, cover, width, *quintiles = mixture
        assert 0 < crps < 1
        assert 0.85 < cover <= 1.0
        assert width > 0
        assert cover == pytest.approx(np.mean(quintiles), abs=2e-3)


def test_plot_toy_1d(tmp_path):
    out = _run_example("plot_toy_1d.py", tmp_path)
    assert (tmp_path / "toy_1d.png").stat().st_size > 10_000
    gap_ratio = _number(r"std in the gap \(x=0\): [\d.]+ \(([\d.]+)x\)", out)
    far_ratio = _number(r"std far outside \(\|x\|=10\): [\d.]+ \(([\d.]+)x\)", out)
    assert gap_ratio > 1.2
    assert far_ratio > 1.5


@needs_california
def test_plot_grid_search(tmp_path):
    out = _run_example("plot_grid_search.py", tmp_path)
    assert (tmp_path / "grid_search.png").stat().st_size > 10_000
    assert "best: {" in out
    assert _number(r"95% coverage ([\d.]+)", out) > 0.7
    assert len(re.findall(r"^\s*0\.\d+\s+(?:\d|auto)", out, flags=re.M)) == 12


ROTATED_SETTINGS = ("hidden 0.3", "hidden 0.5", "input 0.2 + hidden 0.5")


def _rotated_tables(out):
    """The per-angle table of each setting: {setting: {angle: row of 7 floats}}."""
    tables = {}
    for block in out.split("\n\n"):
        header = re.match(r"(.+), T=\d+ passes\n", block)
        if header:
            rows = re.findall(r"^\s*(\d+)((?:\s+\d+\.\d+){7})$", block, flags=re.M)
            tables[header.group(1)] = {
                int(angle): [float(v) for v in values.split()] for angle, values in rows
            }
    return tables


def _angles(text):
    return [] if text == "none" else [int(a) for a in text.split(", ")]


def test_plot_rotated_digits(tmp_path):
    out = _run_example("plot_rotated_digits.py", tmp_path)
    for png in ("rotated_digits.png", "rotated_digit_single.png"):
        assert (tmp_path / png).stat().st_size > 10_000
    _check_rotated_digits_output(out)


def _check_rotated_digits_output(out):
    tables = _rotated_tables(out)
    assert list(tables) == list(ROTATED_SETTINGS)
    for name, table in tables.items():
        assert list(table) == list(range(0, 181, 15)), name
        acc, mc_conf, _, mi, _, flagged, _ = zip(*table.values(), strict=True)
        assert acc[0] > 0.9, name
        # 5% of upright digits exceed their own 95th percentile by construction.
        assert 0.03 <= flagged[0] <= 0.07, name
        line = re.search(
            rf"^{re.escape(name)}: upright accuracy ([\d.]+), MC conf ([\d.]+); "
            r"accuracy <= 0.15 at ([\d, ]+) degrees; there mean MC conf ([\d.]+), "
            r"mean flagged ([\d.]+); mean mutual info below upright at "
            r"([\d, ]+|none); worst (\d+) degrees: accuracy ([\d.]+), MC conf "
            r"([\d.]+), mutual info ([\d.]+) \(upright ([\d.]+)\), flagged ([\d.]+)$",
            out,
            flags=re.M,
        )
        assert line, f"no conclusion line for {name}:\n{out}"
        g = line.groups()
        # The conclusion restates the table: same angles, same values.
        assert (float(g[0]), float(g[1])) == (acc[0], mc_conf[0])
        wrong = _angles(g[2])
        assert wrong, name
        assert wrong == [a for a, row in table.items() if row[0] <= 0.15]
        silent = _angles(g[5])
        assert set(silent) <= set(wrong)
        assert all(table[a][3] <= mi[0] for a in silent)
        assert all(table[a][3] >= mi[0] for a in set(wrong) - set(silent))
        worst = int(g[6])
        assert worst == max(wrong, key=lambda a: table[a][1])
        assert [float(v) for v in (g[7], g[8], g[9], g[10], g[11])] == [
            table[worst][0],
            table[worst][1],
            table[worst][3],
            mi[0],
            table[worst][5],
        ]
        # What the example's text says: near chance at some angle, yet the MC
        # predictive stays confident there.
        assert table[worst][1] > 0.8, name
    # ... while a small rotation does raise the mutual information.
    baseline = tables["hidden 0.3"]
    assert baseline[30][3] > 2 * baseline[0][3]
    assert re.search(
        r"^pixels with ink in < 1% of training digits: \d+ of 64", out, re.M
    )
    assert re.search(r"^with the first \d+ of the \d+ passes, ", out, re.M)


@needs_california
def test_plot_dask_search(tmp_path):
    pytest.importorskip("distributed")
    out = _run_example("plot_dask_search.py", tmp_path)
    assert (tmp_path / "dask_search.png").stat().st_size > 10_000
    assert re.search(r"^torch threads per worker: \{'tcp://.*: \d+\}$", out, re.M)
    assert re.search(r"^best: \{'mcdropoutregressor__dropout': 0\.\d+\}$", out, re.M)
    rows = re.findall(r"^\s*(0\.\d+)\s+(\d+\.\d+)\s+([1-4])$", out, flags=re.M)
    assert [float(row[0]) for row in rows] == [0.02, 0.05, 0.1, 0.2], out
    assert sorted(int(row[2]) for row in rows) == [1, 2, 3, 4]
    # NLL of y in units of $100k: about 1 to 1.5 for any sane model here.
    assert all(0.5 < float(row[1]) < 2 for row in rows)
    assert 0.5 < _number(r"test split \(4 blocks\): NLL (\d+\.\d+)", out) < 2


def test_plot_heteroscedastic_1d(tmp_path):
    out = _run_example("plot_heteroscedastic_1d.py", tmp_path)
    assert (tmp_path / "heteroscedastic_1d.png").stat().st_size > 10_000
    errors = {
        noise: _number(rf"{noise}: aleatoric std within (\d+)%", out)
        for noise in ("homoscedastic", "heteroscedastic")
    }
    # One noise level misses a five-fold rise by far; the learned one follows.
    assert errors["homoscedastic"] > 40
    assert errors["heteroscedastic"] < errors["homoscedastic"] / 2
    inside = _number(r"heteroscedastic: .* epistemic std ([\d.]+) inside", out)
    far = _number(r"heteroscedastic: .* inside, ([\d.]+) at", out)
    assert far > 2 * inside


def test_plot_active_learning(tmp_path):
    out = _run_example("plot_active_learning.py", tmp_path)
    assert (tmp_path / "active_learning.png").exists()
    rows = re.findall(r"^\s*(\d+)\s+([\d.]+)\s+([\d.]+)$", out, flags=re.M)
    labels = [int(n) for n, _, _ in rows]
    assert labels == list(range(20, 20 + 10 * len(rows), 10))
    bald, random = (np.array([float(r[i]) for r in rows]) for i in (1, 2))
    # The same start, then both learn from their labels.
    assert bald[0] == random[0]
    assert bald[-1] > bald[0] + 0.05
    assert random[-1] > random[0] + 0.05
    # Each round adds 20 epochs of partial_fit to the 200 of the first fit.
    assert _number(r"epochs trained by the BALD model: (\d+)", out) == (
        200 + 20 * (len(rows) - 1)
    )


def test_plot_concrete_dropout(tmp_path):
    out = _run_example("plot_concrete_dropout.py", tmp_path)
    assert (tmp_path / "concrete_dropout_bands.png").stat().st_size > 10_000
    assert "N =  3000, fixed p = 0.1: rates [0.1 0.1]" in out
    rate_30 = _number(r"N =    30, learned p    : rates \[([\d.]+)", out)
    rate_3000 = _number(r"N =  3000, learned p    : rates \[([\d.]+)", out)
    # Even in quick mode (600 steps per fit) the rates fall with the data.
    assert rate_3000 < rate_30 / 2
    ratio = _number(r"N = 100 over N = 10,000: ([\d.]+)x", out)
    assert ratio > 1


def test_plot_skpro_benchmark(tmp_path):
    pytest.importorskip("skpro", reason="the example needs the skpro extra")
    out = _run_example("plot_skpro_benchmark.py", tmp_path)
    rows = dict(
        re.findall(r"^(MC dropout \(defaults\)|GP \(ARD RBF \+ noise\)|NGBoost "
                   r"\(Normal\))\s+(.+)$", out, flags=re.M)
    )  # fmt: skip
    expected = {"MC dropout (defaults)", "GP (ARD RBF + noise)"}
    try:
        import ngboost  # noqa: F401

        expected.add("NGBoost (Normal)")
    except ImportError:
        assert "NGBoost is not installed" in out
    assert set(rows) == expected
    for name, cells in rows.items():
        # CRPS, log loss, cover90, width90 and fit s: mean ± standard error.
        means = [float(m) for m in re.findall(r"([\d.]+) ± [\d.]+", cells)]
        assert len(means) == 5, cells
        crps, log_loss, cover, width, fit_s = means
        # The target's std is 77: a CRPS far below it, a log loss near the
        # Gaussian's log(77 * sqrt(2 pi e)) = 5.8.
        assert 10 < crps < 77, name
        assert 4 < log_loss < 7, name
        assert 0.3 < cover <= 1, name
        assert width > 0, name
        assert fit_s > 0, name
