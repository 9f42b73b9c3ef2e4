"""benchmarks/peers.py --quick on a tiny folder in the authors' UCI format.

Needs the ``peers`` extra (NGBoost and MAPIE); skipped without it.
"""

import json

import numpy as np
import pytest

from conftest import import_benchmark, write_uci_folder

pytest.importorskip(
    "ngboost", reason="the peers benchmark needs NGBoost: pip install -e '.[peers]'"
)
pytest.importorskip(
    "mapie", reason="the peers benchmark needs MAPIE: pip install -e '.[peers]'"
)

peers = import_benchmark("peers")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """260 rows, 3 features, a noise level that grows with the first, 3 splits.

    220 training rows: CQR holds out 44 for its calibration, more than the
    1 / 0.025 = 40 that MAPIE needs for the quantiles of a 95% interval.
    """
    rng = np.random.default_rng(0)
    X = rng.normal(size=(260, 3))
    y = 2 + X[:, 0] + rng.normal(scale=0.2 + 0.3 * np.abs(X[:, 0]), size=260)
    return write_uci_folder(
        tmp_path_factory.mktemp("toy"), np.c_[X, y], target=3, n_train=220,
        n_splits=3, dropout_rates=[0.05], taus=[1.0],
    )  # fmt: skip


@pytest.fixture(scope="module")
def results(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "peers.json"
    peers.main(["--data", str(folder), "--quick", "--json", str(out)])
    return json.loads(out.read_text())


def test_quick_run_scores_every_method_on_two_splits(results):
    assert results["quick"]
    assert results["n_splits"] == 2
    assert results["threads"] == 1
    assert set(results["per_split"]) == set(peers.METHODS)
    for method, splits in results["per_split"].items():
        assert len(splits) == 2
        for r in splits:
            assert np.isfinite(r["rmse"])
            assert r["rmse"] > 0
            assert r["fit_time"] > 0
            assert r["predict_time"] > 0
            for level in (90, 95):
                assert 0 <= r[f"coverage_{level}"] <= 1
                assert r[f"width_{level}"] > 0
                assert len(r[f"coverage_{level}_by_bin"]) == peers.N_BINS
            assert r["width_95"] > r["width_90"], method


def test_cqr_has_no_density(results):
    for r in results["per_split"]["cqr"]:
        assert r["nll"] is None
        assert r["gaussian_nll"] is None
        assert r["crps"] is None
    assert "nll" not in results["summary"]["cqr"]
    assert "coverage_95" in results["summary"]["cqr"]


def test_gaussian_methods_have_a_density(results):
    for method in ("mcd", "mcd-het", "ngboost", "gp", "deep-ens5"):
        for r in results["per_split"][method]:
            assert np.isfinite(r["nll"])
            assert np.isfinite(r["gaussian_nll"])
            assert r["crps"] > 0
    # NGBoost's and the GP's own density is the Gaussian one.
    for method in ("ngboost", "gp"):
        for r in results["per_split"][method]:
            assert r["nll"] == pytest.approx(r["gaussian_nll"])


def test_summary_is_mean_and_standard_error_over_splits(results):
    values = np.array([r["rmse"] for r in results["per_split"]["gp"]])
    summary = results["summary"]["gp"]["rmse"]
    assert summary["mean"] == pytest.approx(values.mean())
    assert summary["se"] == pytest.approx(values.std() / np.sqrt(2))
    by_bin = results["summary"]["mcd"]["coverage_95_by_bin"]["mean"]
    assert len(by_bin) == peers.N_BINS


def test_mixture_nll_matches_hand_computation(folder):
    """The library's own NLL is the log of the mixture of the passes' Gaussians."""
    from scipy.stats import norm

    _name, X, y, splits = peers.load_dataset(str(folder))
    train, test = splits[0]
    config = peers.make_config(
        peers.build_parser().parse_args(["--data", "x", "--quick"]), 3
    )
    model = peers.make_method("mcd", config, 0).fit(X[train], y[train])
    y_mean, y_std = model.predict(X[test], return_std=True)
    # Each pass's Gaussian: its mean and its noise std (the fitted 1 / sqrt(tau_)
    # or the heteroscedastic network's own), whichever noise model fit chose.
    passes, noise = model[-1].predict_passes(
        model[0].transform(X[test]), return_noise_std=True
    )
    density = norm.pdf(y[test][:, None], passes, noise).mean(axis=1)
    nll = peers.own_nll("mcd", model, X[test], y[test], y_mean, y_std)
    assert nll == pytest.approx(-np.mean(np.log(density)), rel=1e-6)


def test_library_methods_score_their_mixture(results):
    for method, splits in results["per_split"].items():
        has_mixture = method in peers.LIBRARY
        for r in splits:
            assert ("mixture_crps" in r) == has_mixture, method
            if has_mixture:
                assert r["mixture_crps"] > 0
                assert r["mixture_width_95"] > r["mixture_width_90"] > 0
                assert len(r["mixture_coverage_95_by_bin"]) == peers.N_BINS
                # The quintiles hold equal numbers of rows (200 test rows).
                assert r["mixture_coverage_95"] == pytest.approx(
                    np.mean(r["mixture_coverage_95_by_bin"])
                )
    report = import_benchmark("peers_report")
    table = report.mixture_table(results)
    assert table.count("| mixture |") == len(peers.LIBRARY)
    assert table.count("| Gaussian |") == len(peers.LIBRARY)


def test_mixture_scores_stream_over_rows(folder, monkeypatch):
    """Chunks of rows give the metrics of the whole test set, from the mixture."""
    from sklearn_mcdropout.metrics import crps_mixture, mixture_interval

    _name, X, y, splits = peers.load_dataset(str(folder))
    train, test = splits[0]
    config = peers.make_config(
        peers.build_parser().parse_args(["--data", "x", "--quick"]), 3
    )
    model = peers.make_method("mcd-ens5", config, 0).fit(X[train], y[train])
    bins = peers.target_bins(y[test])
    monkeypatch.setattr(peers, "SCORE_ROWS", 7)
    scores = peers.mixture_scores(model, X[test], y[test], bins)
    passes, noise = model[-1].predict_passes(
        model[0].transform(X[test]), return_noise_std=True
    )
    assert scores["mixture_crps"] == pytest.approx(
        crps_mixture(y[test], passes, noise), rel=1e-6
    )
    lower, upper = mixture_interval(passes, noise, confidence=0.9)
    inside = (lower <= y[test]) & (y[test] <= upper)
    assert scores["mixture_coverage_90"] == pytest.approx(inside.mean())
    assert scores["mixture_width_90"] == pytest.approx(np.mean(upper - lower))


def test_mcd_params_go_to_every_library_variant():
    parser = peers.build_parser()
    args = parser.parse_args(
        ["--data", "x", "--mcd-params", '{"dropout": 0.05, "hidden_layer_sizes": [8]}']
    )
    config = peers.make_config(args, 3)
    assert config["mcd"] == {"dropout": 0.05, "hidden_layer_sizes": (8,)}
    het = peers.make_method("mcd-het", config, 0)[-1]
    assert (het.dropout, het.hidden_layer_sizes, het.noise) == (
        0.05, (8,), "heteroscedastic",
    )  # fmt: skip
    args = parser.parse_args(["--data", "x", "--quick", "--mcd-params", '{"lr": 0.1}'])
    assert peers.make_config(args, 3)["mcd"]["lr"] == 0.1
    for bad in ("{dropout: 0.05}", "[0.05]"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--data", "x", "--mcd-params", bad])
