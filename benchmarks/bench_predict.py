"""Speed and memory of Monte Carlo prediction, measured side by side.

On the reference report's network (8 -> 4 x 1024 ReLU, dropout 0.1 -> 1) and
the California test-split size (4128 rows), T=100, float32, this times in one
process:

(a) the report's loop: per mini-batch of 64 rows, T separate passes in train
    mode, then stack (``predict_mc`` of ``mc_dropout_report.md``);
(b) ``MCDropoutRegressor.predict(X, return_std=True)`` on the same weights;
(c) this machine's float32 GEMM throughput (4096x1024 by 1024x1024).

It prints the speedup (a)/(b), the dense-equivalent throughput of (b) as a
fraction of (c), the largest difference of (b) to a plain reference
implementation with the same masks, and the peak memory of
``predict(return_std=True)`` on 100,000 rows of a small network at T=10 and
T=1000 (each in a fresh subprocess). Where the device multiplies bfloat16
natively, it also times ``pass_dtype="bfloat16"`` and its difference to
float32.

(e) Noise models: ``predict(X, return_std=True)`` of the report's network
    with ``noise="homoscedastic"`` (one output) and ``"heteroscedastic"``
    (a second output, the noise variance, streamed from the same passes).

(f) Learned dropout rates: ``predict(X, return_std=True)`` with
    ``dropout="concrete"`` against ``dropout=0.1``, on the report's network
    and on a small one (8 -> 64 -> 64 -> 1, where the passes run batched):
    the masks come from the learned rates, through the same runners.

(d) Latency: ``predict(X[i:i + 1], return_std=True)`` of the default
    regressor (8 -> 128 -> 128 -> 1, T=100), 200 calls in a loop, with the
    masks held by the fitted model (as ``predict`` does) and with the masks
    drawn again on every call (as before they were held), beside
    ``GaussianProcessRegressor`` and ``MLPRegressor`` on the same rows; and
    the batch throughput (4128 rows) both ways.

    python benchmarks/bench_predict.py                  # full run, a few minutes
    python benchmarks/bench_predict.py --quick          # smaller sizes, seconds
    python benchmarks/bench_predict.py --latency        # section (d) only
    python benchmarks/bench_predict.py --noise          # section (e) only
    python benchmarks/bench_predict.py --concrete       # section (f) only
    python benchmarks/bench_predict.py --device cuda    # on a GPU
"""

import argparse
import subprocess
import sys
import time
import warnings

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from _common import REPORT, best_alternating, best_time, describe
from sklearn_mcdropout import MCDropoutRegressor
from sklearn_mcdropout._base import _has_fast_bfloat16
from sklearn_mcdropout._mc import _Masks, _mc_moments, _ReferenceRunner


def report_predict_mc(model, data_loader, T=100):
    """The report's ``predict_mc``, as printed in mc_dropout_report.md."""
    model.train()  # Important: keep dropout active
    all_predictions = []
    with torch.no_grad():
        for X_batch, _ in data_loader:
            batch_predictions = torch.stack([model(X_batch) for _ in range(T)], dim=0)
            all_predictions.append(batch_predictions)
    all_predictions = torch.cat(all_predictions, dim=1)
    return all_predictions.mean(dim=0), all_predictions.std(dim=0)


def gemm_gflops(device="cpu", dtype=torch.float32, repeats=5):
    a = torch.randn(4096, 1024, device=device, dtype=dtype)
    b = torch.randn(1024, 1024, device=device, dtype=dtype)
    inner = 1 if torch.device(device).type == "cpu" else 50  # GPU: launch-bound

    def products():
        for _ in range(inner):
            a @ b

    seconds = best_time(products, repeats, device) / inner
    return 2 * 4096 * 1024 * 1024 / seconds / 1e9


def fitted_report_network(n_rows, width, depth, seed=0, device="cpu", **params):
    """A one-epoch fit of the report's network on synthetic California-sized data.

    The network as ``hidden_layer_sizes`` (not as ``_common.report_network``),
    so that ``params`` may change its noise model or its dropout layers.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, REPORT["n_features"]))
    y = X @ rng.normal(size=X.shape[1]) + np.sin(X[:, 0])
    y += rng.normal(scale=0.5, size=n_rows)
    params = {"tau": 1.0, "dropout": REPORT["dropout"], **params}
    est = MCDropoutRegressor(
        hidden_layer_sizes=(width,) * depth,
        max_epochs=1,
        batch_size=REPORT["batch"],
        device=device,
        random_state=seed,
        **params,
    )
    return est.fit(X, y)


def predict_time(est, X, device):
    """A measure for ``best_alternating``: one ``predict(X, return_std=True)``."""
    return lambda: best_time(lambda: est.predict(X, return_std=True), 1, device)


def dense_flops(module, n_rows):
    return sum(
        2 * n_rows * m.in_features * m.out_features
        for m in module.modules()
        if isinstance(m, torch.nn.Linear)
    )


def _status_mib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def peak_memory_child(n_passes, n_rows, device):
    """Run in a subprocess: memory before and peak during predict (MiB).

    On the CPU the process RSS (Linux only: writing 5 to /proc/self/clear_refs
    resets the peak, VmHWM); on a GPU the memory torch allocates there.
    """
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8))
    y = X.sum(axis=1)
    est = MCDropoutRegressor(
        hidden_layer_sizes=(64, 64),
        n_passes=n_passes,
        tau=1.0,
        max_epochs=1,
        device=device,
    ).fit(X, y)
    X_big = rng.normal(size=(n_rows, 8))
    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device) / 2**20
        est.predict(X_big, return_std=True)
        print(f"{before:.1f} {torch.cuda.max_memory_allocated(device) / 2**20:.1f}")
        return
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    before = _status_mib("VmRSS")
    est.predict(X_big, return_std=True)
    print(f"{before:.1f} {_status_mib('VmHWM'):.1f}")


def peak_memory(n_passes, n_rows, device):
    out = subprocess.run(
        [
            sys.executable, __file__, "--device", device,
            "--memory-child", str(n_passes), str(n_rows),
        ],
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    before, after = map(float, out.stdout.split())
    return before, after


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--passes", type=int, default=100)
    parser.add_argument("--device", default="cpu", help="e.g. cuda")
    parser.add_argument("--latency", action="store_true", help="section (d) only")
    parser.add_argument("--noise", action="store_true", help="section (e) only")
    parser.add_argument("--concrete", action="store_true", help="section (f) only")
    parser.add_argument("--memory-child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = args.device
    if args.memory_child:
        peak_memory_child(*args.memory_child, device)
        return
    if args.latency:
        latency(device, 50 if args.quick else 200)
        return
    if args.noise:
        noise_models(*((512, 256, 20) if args.quick else (4128, 1024, 100)), device)
        return
    if args.concrete:
        concrete_rates(*((512, 256, 20) if args.quick else (4128, 1024, 100)), device)
        return

    n_rows, width, T = (
        (512, 256, 20) if args.quick else (4128, REPORT["width"], args.passes)
    )
    est = fitted_report_network(n_rows, width, REPORT["depth"], device=device)
    module = est.net_.module_
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n_rows, 8)).astype(np.float32)
    Xt = torch.as_tensor(X, device=device)
    est.set_params(n_passes=T)
    print(f"network 8 -> 4x{width} ReLU, dropout 0.1 -> 1; {n_rows} rows; T={T}")
    print(describe(device))

    peak = gemm_gflops(device)
    print(f"(c) float32 GEMM 4096x1024 @ 1024x1024: {peak:.1f} GFLOP/s")

    loader = DataLoader(
        TensorDataset(Xt, Xt[:, 0]), batch_size=REPORT["batch"], shuffle=False
    )
    report_module = type(module)(*module)  # same layers and weights
    t_report = best_time(lambda: report_predict_mc(report_module, loader, T), 1, device)
    module.eval()
    print(f"(a) report loop (batch 64, train mode):  {t_report:8.3f} s   1.00x")

    t_ours = best_time(lambda: est.predict(X, return_std=True), 2, device)
    flops = dense_flops(module, n_rows) * T
    print(
        f"(b) predict(return_std=True), float32:   {t_ours:8.3f} s   "
        f"{t_report / t_ours:.2f}x   dense-equivalent {flops / t_ours / 1e9:.1f} "
        f"GFLOP/s = {flops / t_ours / 1e9 / peak:.0%} of (c)"
    )
    reference, masks = _ReferenceRunner(module), est._runner_and_masks()[1]
    t_ref = best_time(lambda: _mc_moments(reference, masks, Xt), 1, device)
    print(
        f"    plain reference, same masks:          {t_ref:8.3f} s   "
        f"{t_report / t_ref:.2f}x"
    )

    mean, std = est.predict(X, return_std=True)
    ref_mean, ref_var = (a[:, 0] for a in _mc_moments(reference, masks, Xt)[:2])
    ref_mean = est._unscale(ref_mean)
    ref_std = np.sqrt(ref_var * est._y_scale**2 + 1 / est.tau_)
    scale = np.abs(ref_mean).max()
    print(
        f"    exactness vs reference: max |mean diff| / max|mean| = "
        f"{np.abs(mean - ref_mean).max() / scale:.1e}, max relative std diff = "
        f"{np.max(np.abs(std - ref_std) / ref_std):.1e}"
    )

    if _has_fast_bfloat16(torch.device(device)):
        bfloat16(est, X, mean, std, t_report, flops, device)
    else:
        print("bfloat16: this device has no bfloat16 matrix units; not offered")

    mem_rows = 20_000 if args.quick else 100_000
    small, large = (10, 100) if args.quick else (10, 1000)
    kind = "GPU memory" if torch.device(device).type == "cuda" else "RSS"
    # Three fresh processes per T: glibc's per-thread arenas sometimes keep the
    # freed activations of a pass, which raises one run's peak by up to about
    # 250 MiB whatever T is; the medians are compared.
    runs = {
        T: [peak_memory(T, mem_rows, device) for _ in range(3)] for T in (small, large)
    }
    peaks = {T: [m for _, m in r] for T, r in runs.items()}
    med = {T: float(np.median(p)) for T, p in peaks.items()}
    grow = {T: float(np.median([m - b for b, m in r])) for T, r in runs.items()}
    print(
        f"peak {kind} of predict(return_std=True), {mem_rows} rows, "
        "8 -> 64 -> 64 -> 1, three processes each: "
        + "; ".join(
            f"T={T}: {', '.join(f'{m:.0f}' for m in peaks[T])} MiB" for T in peaks
        )
        + f". Medians {med[small]:.0f} and {med[large]:.0f} MiB (difference "
        f"{abs(med[large] - med[small]) / med[small]:.1%}); above the memory "
        f"before predict: {grow[small]:.0f} and {grow[large]:.0f} MiB"
    )
    noise_models(n_rows, width, T, device)
    concrete_rates(n_rows, width, T, device)
    latency(device, 50 if args.quick else 200)


def noise_models(n_rows, width, T, device, repeats=5):
    """Section (e): the heteroscedastic network against the homoscedastic one.

    Timed alternately, the best of ``repeats`` calls each.
    """
    X = np.random.default_rng(1).normal(size=(n_rows, 8))
    models = {
        noise: fitted_report_network(
            n_rows, width, REPORT["depth"], device=device, noise=noise, tau="auto"
        ).set_params(n_passes=T)
        for noise in ("homoscedastic", "heteroscedastic")
    }
    times = best_alternating(
        {noise: predict_time(est, X, device) for noise, est in models.items()},
        repeats,
    )
    homo, hetero = times["homoscedastic"], times["heteroscedastic"]
    print(
        f"(e) predict(return_std=True), 8 -> 4x{width} -> 1 or 2 outputs, "
        f"{n_rows} rows, T={T}: homoscedastic {homo:.3f} s, heteroscedastic "
        f"{hetero:.3f} s ({hetero / homo:.3f}x)"
    )


def concrete_rates(n_rows, width, T, device, repeats=5):
    """Section (f): learned dropout rates against a fixed rate, same networks.

    Timed alternately, the best of ``repeats`` calls each.
    """
    X = np.random.default_rng(1).normal(size=(n_rows, 8))
    for widths in ((width,) * REPORT["depth"], (64, 64)):
        models = {
            dropout: fitted_report_network(
                n_rows, widths[0], len(widths), device=device, dropout=dropout
            ).set_params(n_passes=T)
            for dropout in (0.1, "concrete")
        }
        times = best_alternating(
            {p: predict_time(est, X, device) for p, est in models.items()}, repeats
        )
        fixed, learned = times[0.1], times["concrete"]
        rates = np.round(models["concrete"].dropout_, 3).tolist()
        print(
            f"(f) predict(return_std=True), 8 -> {len(widths)}x{widths[0]} -> 1, "
            f"{n_rows} rows, T={T}: dropout=0.1 {fixed:.4f} s, dropout='concrete' "
            f"(rates {rates}) {learned:.4f} s ({learned / fixed:.3f}x)"
        )


def latency(device, n_calls=200):
    """Section (d): single-row and batch predict, masks held or drawn per call."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4128, 8))
    y = X @ rng.normal(size=8) + rng.normal(scale=0.5, size=4128)
    est = MCDropoutRegressor(max_epochs=1, device=device, random_state=0).fit(X, y)
    held = est._masks

    def redrawn(call):
        def run(*args):
            est._masks = _Masks(held.plan, held.seed, held.n_passes)
            return call(*args)

        return run

    def per_call(call):
        call(0)  # warm-up
        start = time.perf_counter()
        for i in range(n_calls):
            call(i)
        return (time.perf_counter() - start) / n_calls * 1e3

    one = lambda i: est.predict(X[i : i + 1], return_std=True)  # noqa: E731
    t_held = per_call(one)
    t_drawn = per_call(redrawn(one))
    est._masks = held
    gpr = GaussianProcessRegressor().fit(X[:1000], y[:1000])
    with warnings.catch_warnings():  # five iterations: only its predict is timed
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPRegressor(max_iter=5, random_state=0).fit(X, y)
    t_gpr = per_call(lambda i: gpr.predict(X[i : i + 1], return_std=True))
    t_mlp = per_call(lambda i: mlp.predict(X[i : i + 1]))
    print(
        f"(d) latency, predict(X[i:i+1], return_std=True), default network, T=100, "
        f"{n_calls} calls: masks held {t_held:.3f} ms/call, drawn per call "
        f"{t_drawn:.3f} ms/call ({t_drawn / t_held:.1f}x); "
        f"GaussianProcessRegressor (1000 rows) {t_gpr:.3f} ms, "
        f"MLPRegressor.predict {t_mlp:.3f} ms"
    )
    batch = lambda: est.predict(X, return_std=True)  # noqa: E731
    t_batch_held = best_time(batch, 5, device)
    t_batch_drawn = best_time(redrawn(batch), 5, device)
    est._masks = held
    print(
        f"    batch of {len(X)} rows: masks held {t_batch_held * 1e3:.1f} ms, "
        f"drawn per call {t_batch_drawn * 1e3:.1f} ms "
        f"(held / drawn {t_batch_held / t_batch_drawn:.2f})"
    )


def bfloat16(est, X, mean, std, t_report, flops, device):
    """Time pass_dtype="bfloat16" and compare it with the float32 results."""
    est.set_params(pass_dtype="bfloat16")
    peak = gemm_gflops(device, torch.bfloat16)
    print(f"(c') bfloat16 GEMM 4096x1024 @ 1024x1024: {peak:.1f} GFLOP/s")
    t_bf16 = best_time(lambda: est.predict(X, return_std=True), 2, device)
    print(
        f"(b') predict(return_std=True), bfloat16: {t_bf16:8.3f} s   "
        f"{t_report / t_bf16:.2f}x   dense-equivalent {flops / t_bf16 / 1e9:.1f} "
        f"GFLOP/s = {flops / t_bf16 / 1e9 / peak:.0%} of (c')"
    )
    mean16, std16 = est.predict(X, return_std=True)
    passes32 = est.set_params(pass_dtype="float32").predict_passes(X).std(axis=1)
    passes16 = est.set_params(pass_dtype="bfloat16").predict_passes(X).std(axis=1)
    est.set_params(pass_dtype="float32")
    print(
        f"    bfloat16 vs float32: max |mean diff| / max|mean| = "
        f"{np.abs(mean16 - mean).max() / np.abs(mean).max():.1e}, max relative "
        f"std diff = {np.max(np.abs(std16 - std) / std):.1e} (pass spread alone: "
        f"{np.max(np.abs(passes16 - passes32) / passes32):.1e})"
    )


if __name__ == "__main__":
    main()
