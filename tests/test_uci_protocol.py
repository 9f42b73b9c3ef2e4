"""The UCI protocol of benchmarks/uci.py on a tiny folder in the authors' format."""

import json
import os

import numpy as np
import pytest

from conftest import import_benchmark, write_uci_folder
from sklearn_mcdropout.metrics import mc_log_likelihood

uci = import_benchmark("uci")
uci_early_stopping = import_benchmark("uci_early_stopping")
uci_compare = import_benchmark("uci_compare")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """40 rows, 3 features (one constant), target in column 1, 2 splits."""
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=(40, 2)), np.full(40, 7.0)]
    y = 10 + 3 * X[:, 0] + rng.normal(scale=0.5, size=40)
    return write_uci_folder(
        tmp_path_factory.mktemp("toy"), np.c_[X[:, 0], y, X[:, 1:]], target=1,
        n_train=30, n_splits=2, dropout_rates=[0.05, 0.1], taus=[0.5, 1.0],
    )  # fmt: skip


def test_read_folder(folder):
    data = uci.read_folder(folder)
    raw = np.loadtxt(folder / "data.txt")
    np.testing.assert_array_equal(data["X"], raw[:, [0, 2, 3]])
    np.testing.assert_array_equal(data["y"], raw[:, 1])
    assert len(data["splits"]) == 2
    train, test = data["splits"][1]
    np.testing.assert_array_equal(train, np.loadtxt(folder / "index_train_1.txt"))
    assert set(train).isdisjoint(test)
    assert data["dropout_rates"] == [0.05, 0.1]
    assert data["tau_values"] == [0.5, 1.0]
    assert data["n_hidden"] == 8


def test_fit_validation_split_takes_first_80_percent():
    fit, val = uci.fit_validation_split(np.arange(100, 130))
    np.testing.assert_array_equal(fit, np.arange(100, 124))
    np.testing.assert_array_equal(val, np.arange(124, 130))


def test_standardisation_uses_training_statistics(folder):
    data = uci.read_folder(folder)
    train, _ = data["splits"][0]
    model = uci.make_model(3, 8, 0.1, 1.0, epochs=1, passes=10, seed=0)
    model.fit(data["X"][train], data["y"][train])
    scaler, est = model[0], model[-1]
    np.testing.assert_allclose(scaler.mean_, data["X"][train].mean(axis=0))
    # A constant feature (std 0) is divided by 1, not by 0.
    np.testing.assert_allclose(scaler.scale_[2], 1.0)
    np.testing.assert_allclose(est._y_train_mean, data["y"][train].mean())
    np.testing.assert_allclose(est._y_scale, data["y"][train].std())
    # The network has dropout on its inputs and on its hidden layer.
    rates = [m.p for m in est.net_.module_ if type(m).__name__ == "Dropout"]
    assert rates == [0.1, 0.1]
    # weight decay = l^2 (1 - p) / (N tau std_y^2), i.e. 2 lambda of the paper.
    expected = 1e-4 * 0.9 / (30 * 1.0 * data["y"][train].std() ** 2)
    np.testing.assert_allclose(est.weight_decay_, expected)


def test_log_likelihood_matches_hand_computation(folder):
    data = uci.read_folder(folder)
    train, test = data["splits"][0]
    model = uci.make_model(3, 8, 0.1, 2.0, epochs=2, passes=50, seed=0)
    model.fit(data["X"][train], data["y"][train])
    rmse, (ll, ll_other) = uci.evaluate(
        model, data["X"][test], data["y"][test], taus=[2.0, 0.5]
    )
    passes = model[-1].predict_passes(model[0].transform(data["X"][test]))
    y = data["y"][test]
    tau = 2.0
    densities = np.sqrt(tau / (2 * np.pi)) * np.exp(
        -0.5 * tau * (y[:, None] - passes) ** 2
    )
    # Streamed over the passes (no pass stored), equal to the stored passes'.
    np.testing.assert_allclose(ll, np.mean(np.log(densities.mean(axis=1))), rtol=1e-10)
    assert ll_other != ll
    np.testing.assert_allclose(rmse, np.sqrt(np.mean((passes.mean(axis=1) - y) ** 2)))


def test_heteroscedastic_protocol_scores_the_mixture_of_the_passes(folder, tmp_path):
    data = uci.read_folder(folder)
    train, test = data["splits"][0]
    model = uci.make_model(
        3, 8, 0.1, None, epochs=2, passes=50, seed=0, noise="heteroscedastic"
    )
    model.fit(data["X"][train], data["y"][train])
    est = model[-1]
    assert est.net_.module_[-1].out_features == 2
    # weight decay = l^2 (1 - p) / N: tau = 1, the loss is the likelihood.
    np.testing.assert_allclose(est.weight_decay_, 1e-4 * 0.9 / 30)
    _, (ll,) = uci.evaluate(model, data["X"][test], data["y"][test], taus=[2.0])
    passes, noise_std = est.predict_passes(model[0].transform(data["X"][test]), True)
    y = data["y"][test]
    densities = np.exp(-0.5 * ((y[:, None] - passes) / noise_std) ** 2) / (
        np.sqrt(2 * np.pi) * noise_std
    )
    np.testing.assert_allclose(ll, np.mean(np.log(densities.mean(axis=1))), rtol=1e-8)
    out = tmp_path / "hetero.json"
    argv = ["--data", str(folder), "--splits", "1", "--epochs", "2", "--passes", "20",
            "--noise", "heteroscedastic", "--json", str(out)]  # fmt: skip
    summary = uci.main(argv)
    assert summary["fits"] == 3  # one per dropout rate + the refit, no tau grid
    assert summary["per_split"][0]["tau"] is None
    assert np.isfinite(summary["ll_mean"])


def _stored_scores(model, X, y, taus, n_groups):
    """The scores uci.py computed before streaming: from the stored passes,
    each group's columns, the tau grid one tau at a time."""
    est = model[-1]
    passes = est.predict_passes(model[0].transform(X))
    per_group = est.n_members // n_groups
    passes = passes.reshape(len(y), est.n_passes, est.n_members)
    scores = []
    for g in range(n_groups):
        own = passes[:, :, g * per_group : (g + 1) * per_group].reshape(len(y), -1)
        rmse = np.sqrt(np.mean((own.mean(axis=1) - y) ** 2))
        scores.append((rmse, [mc_log_likelihood(y, own, tau) for tau in taus]))
    return scores


def test_streamed_scores_equal_the_stored_passes_scores(folder):
    # The batched grid's validation scoring, streamed, against the stored
    # passes over uci.py's fine tau grid (the log-likelihood near -90 at its
    # largest tau): equal to float32 rounding and better.
    data = uci.read_folder(folder)
    train, _ = data["splits"][0]
    fit_idx, val_idx = uci.fit_validation_split(train)
    config = uci.make_config(uci.build_parser().parse_args(
        ["--data", str(folder), "--epochs", "3", "--passes", "400"]
    ))  # fmt: skip
    model = uci.fit_model(data, fit_idx, [0.05, 0.1], 1.0, config, seed=0)
    X, y = data["X"][val_idx], data["y"][val_idx]
    taus = uci.tau_grid(data["tau_values"], 20)
    got = uci.evaluate(model, X, y, taus, n_groups=2)
    for (rmse, lls), (rmse_stored, lls_stored) in zip(
        got, _stored_scores(model, X, y, taus, 2), strict=True
    ):
        np.testing.assert_allclose(rmse, rmse_stored, rtol=1e-12)
        np.testing.assert_allclose(lls, lls_stored, rtol=1e-6, atol=1e-6)
        assert min(lls) < -50


def test_tau_grid_keeps_given_values_and_spans_them():
    taus = uci.tau_grid([0.1, 0.2], n_fine=5)
    assert {0.1, 0.2} <= set(taus)
    assert len(taus) == 7
    np.testing.assert_allclose([min(taus), max(taus)], [0.001, 20.0])
    assert uci.tau_grid([0.1, 0.2], n_fine=0) == [0.1, 0.2]


@pytest.mark.parametrize("per_tau", [False, True])
def test_command_line_writes_json(folder, tmp_path, capsys, per_tau):
    out = tmp_path / "out.json"
    argv = ["--data", str(folder), "--splits", "1", "--epochs", "2", "--passes", "20",
            "--fine-tau", "3", "--json", str(out)]  # fmt: skip
    uci.main([*argv, "--per-tau-fits"] if per_tau else argv)
    summary = json.loads(out.read_text())
    assert summary["dataset"] == folder.name
    assert summary["n_splits"] == 1
    # one fit per dropout rate (per (rate, tau) pair with --per-tau-fits) + refit
    assert summary["fits"] == (5 if per_tau else 3)
    assert summary["epochs_run"] == 2 * summary["fits"]
    for key in ("rmse_mean", "rmse_se", "ll_mean", "ll_se", "wall_seconds"):
        assert np.isfinite(summary[key])
    split = summary["per_split"][0]
    assert split["dropout"] in (0.05, 0.1)
    tau_choices = [0.5, 1.0] if per_tau else uci.tau_grid([0.5, 1.0], 3)
    assert split["tau"] in tau_choices
    assert "split 1 (1/1)" in capsys.readouterr().err


def _untimed(results):
    """Per-split results without their seconds."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in results]


def test_split_ranges_and_split_jobs_give_the_sequential_results(folder, tmp_path):
    # Each split is seeded by its index: a range run on another machine, or
    # splits run at once, reproduce the splits of one sequential run.
    argv = ["--data", str(folder), "--epochs", "2", "--passes", "20", "--fine-tau", "0"]
    both = uci.main([*argv, "--splits", "2"])["per_split"]
    second = uci.main([*argv, "--splits", "1:2"])["per_split"]
    parallel = uci.main([*argv, "--splits", "2", "--split-jobs", "2"])["per_split"]
    assert [r["split"] for r in second] == [1]
    assert _untimed(second) == _untimed(both[1:])
    assert _untimed(parallel) == _untimed(both)
    assert set(both[0]["seconds"]) == {
        "grid_fit", "validation_scoring", "refit", "test_scoring"
    }  # fmt: skip
    with pytest.raises(SystemExit):
        uci.main([*argv, "--splits", "2:1"])


def test_early_stopping_diagnosis_last_epoch_is_the_protocol_pick(folder, tmp_path):
    # The last snapshot is uci.py's sequential grid fit: same pick, same
    # validation LL.
    out = tmp_path / "es.json"
    argv = ["--data", str(folder), "--splits", "2", "--epochs", "6", "--passes", "20",
            "--fine-tau", "3", "--sequential-grid"]  # fmt: skip
    summary = uci_early_stopping.main([*argv, "--every", "4", "--json", str(out)])
    rows = json.loads(out.read_text())["rows"]
    # 2 splits x 2 rates x snapshots after epochs 4 and 6 (the last)
    assert sorted({r["epoch"] for r in rows}) == [4, 6]
    assert len(rows) == 2 * 2 * 2
    config = uci.make_config(uci.build_parser().parse_args(argv))
    data = uci.read_folder(folder)
    last = uci_early_stopping.select(rows, last_epoch=True)
    early = uci_early_stopping.select(rows, last_epoch=False)
    for k in range(2):
        protocol = uci.run_split(data, k, config, 1, 0)
        assert (last[k]["dropout"], last[k]["tau"]) == (
            protocol["dropout"],
            protocol["tau"],
        )
        assert last[k]["validation_ll"] == pytest.approx(protocol["validation_ll"])
        assert early[k]["validation_ll"] == max(
            r["validation_ll"] for r in rows if r["split"] == k
        )
    assert summary["last_epoch"]["picks"] == [(r["dropout"], 6) for r in last]


def test_compare_with_authors_pairs_splits_by_index(folder, tmp_path, capsys):
    results = tmp_path / "with_results"
    results.mkdir()
    (results / "results").mkdir()
    np.savetxt(results / "results" / "test_MC_rmse_100_xepochs.txt", [1.0, 2.0, 4.0])
    np.savetxt(results / "results" / "test_ll_100_xepochs.txt", [-1.0, -2.0, -3.0])
    ours = {"dataset": "toy", "per_split": [
        {"split": 2, "rmse": 3.0, "ll": -2.0},
        {"split": 0, "rmse": 2.0, "ll": -2.0},
    ]}  # fmt: skip
    summary = tmp_path / "ours.json"
    summary.write_text(json.dumps(ours))
    result = uci_compare.main(["--data", str(results), "--json", str(summary)])
    # splits 3 and 1: rmse 3 - 4 and 2 - 1, ll -2 - (-3) and -2 - (-1)
    assert result["splits"] == 2
    assert result["rmse"] == {
        "ours": 2.5,
        "authors": 2.5,
        "difference": 0.0,
        "difference_se": pytest.approx(1 / np.sqrt(2)),
    }
    assert result["ll"]["authors"] == -2.0
    assert result["ll"]["difference"] == 0.0
    assert "rmse ours 2.500, authors 2.500" in capsys.readouterr().out

    ours["per_split"].append({"split": 3, "rmse": 1.0, "ll": -1.0})
    summary.write_text(json.dumps(ours))
    with pytest.raises(ValueError, match="have 3 splits, ours reach split 4"):
        uci_compare.main(["--data", str(results), "--json", str(summary)])
    with pytest.raises(ValueError, match="expected one results/test_MC_rmse_"):
        uci_compare.main(["--data", str(folder), "--json", str(summary)])


def test_dask_backend_gives_the_sequential_results(folder):
    pytest.importorskip("distributed")
    argv = ["--data", str(folder), "--splits", "2", "--epochs", "2", "--passes", "20",
            "--fine-tau", "3"]  # fmt: skip
    environ = dict(os.environ)  # the nanny writes its pre-spawn variables here
    try:
        on_dask = uci.main([*argv, "--dask", "--split-jobs", "2"])["per_split"]
    finally:
        os.environ.clear()
        os.environ.update(environ)
    assert _untimed(on_dask) == _untimed(uci.main(argv)["per_split"])


def test_batched_grid_scores_each_rate_from_its_own_members(folder):
    # The grid's rates trained as one model; each rate's validation scores
    # come from its own members' passes, with n_members members per rate.
    data = uci.read_folder(folder)
    train, _ = data["splits"][0]
    fit_idx, val_idx = uci.fit_validation_split(train)
    config = uci.make_config(uci.build_parser().parse_args(
        ["--data", str(folder), "--epochs", "2", "--passes", "30", "--n-members", "3"]
    ))  # fmt: skip
    model = uci.fit_model(data, fit_idx, [0.05, 0.1], 1.0, config, seed=0)
    est = model[-1]
    assert est.n_members == 6
    assert est.n_passes == 10
    rates = [est.net_.module_.member(m)[0].p for m in range(6)]
    assert rates == [0.05] * 3 + [0.1] * 3
    scores = uci.evaluate(model, data["X"][val_idx], data["y"][val_idx], [0.5, 2.0], 2)
    passes = est.predict_passes(model[0].transform(data["X"][val_idx]))
    y = data["y"][val_idx]
    for g, (rmse, lls) in enumerate(scores):
        own = passes.reshape(len(y), 10, 6)[:, :, 3 * g : 3 * g + 3].reshape(len(y), -1)
        np.testing.assert_allclose(rmse, np.sqrt(np.mean((own.mean(1) - y) ** 2)))
        want = [mc_log_likelihood(y, own, tau) for tau in (0.5, 2.0)]
        np.testing.assert_allclose(lls, want, atol=1e-6)


def test_sized_data_folder_is_read_by_the_protocol(tmp_path):
    make_sized_data = import_benchmark("make_sized_data")
    folder = make_sized_data.write_folder(tmp_path / "sized", n_rows=50, n_splits=3)
    data = uci.read_folder(folder)
    assert data["X"].shape == (50, 4)
    assert len(data["splits"]) == 3
    assert [len(part) for part in data["splits"][0]] == [45, 5]


def test_protein_sized_folder_has_the_authors_protocol(tmp_path):
    make_sized_data = import_benchmark("make_sized_data")
    folder = tmp_path / "protein"
    make_sized_data.main([str(folder), "--size", "protein", "--rows", "60"])
    data = uci.read_folder(folder)
    assert data["X"].shape == (60, 9)
    assert len(data["splits"]) == 5
    assert [len(part) for part in data["splits"][0]] == [54, 6]
    assert data["n_hidden"] == 100
    assert data["n_epochs"] == 40
    assert data["dropout_rates"] == [0.005, 0.01, 0.05, 0.1]
    assert data["tau_values"] == [0.025, 0.05, 0.075]
    assert make_sized_data.SIZES["protein"]["n_rows"] == 45730


@pytest.mark.slow
def test_defaults_compute_runs_the_three_fits_and_prints_their_ratios(
    folder, monkeypatch, capsys
):
    defaults_compute = import_benchmark("defaults_compute")
    run, timed = [], iter([1.0, 2.0, 4.0, 3.0, 2.0, 4.0])

    def seconds(fn, *args):  # runs each fit, and gives it a known duration
        run.append(fn(*args))
        return next(timed)

    monkeypatch.setattr(defaults_compute, "_seconds", seconds)
    quick = ["--epochs", "2", "--passes", "20"]
    original = defaults_compute.compare

    def compare(folder, n_splits, uci_argv, sequential):
        return original(folder, n_splits, [*quick, *uci_argv], sequential)

    monkeypatch.setattr(defaults_compute, "compare", compare)
    defaults_compute.main([str(folder)])
    pipeline, batched, sequential = run[:3]
    assert pipeline[-1].n_members_ == 5  # the defaults, fitted
    assert batched["split"] == sequential["split"] == 0
    assert np.isfinite([batched["ll"], sequential["ll"]]).all()
    line = capsys.readouterr().out.splitlines()[-1]
    # means 2.0 / 2.0 / 4.0 s; ratios of the sums 4 / 4 and 4 / 8
    assert line.endswith("2.0 / 2.0 / 4.0 s; defaults / protocol 1.00 (batched), "
                         "0.50 (sequential)")  # fmt: skip


def test_defaults_compute_passes_uci_args_and_can_leave_out_the_sequential_grid(
    folder, monkeypatch, capsys
):
    defaults_compute = import_benchmark("defaults_compute")
    run, timed = [], iter([1.0, 4.0])

    def seconds(fn, *args):
        run.append((fn, args))
        return next(timed)

    monkeypatch.setattr(defaults_compute, "_seconds", seconds)
    defaults_compute.main(
        [str(folder), "--n-splits", "1", "--uci-args=--n-members 5 --epochs 2",
         "--batched-only"]
    )  # fmt: skip
    assert len(run) == 2  # the defaults' fit and the batched split only
    _, (_, k, config, _, _) = run[1]
    assert (k, config["n_members"], config["epochs"]) == (0, 5, 2)
    assert not config.get("sequential_grid")
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("(uci.py --n-members 5 --epochs 2)")
    assert out[-1].endswith("1.0 / 4.0 / - s; defaults / protocol 0.25 (batched), "
                            "- (sequential)")  # fmt: skip
