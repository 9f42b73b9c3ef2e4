"""Per-epoch fit time of MCDropoutRegressor against a plain PyTorch loop.

Same network, data, optimiser (Adam with torch's fused kernel, as the
estimator uses; weight decay on weights only), batch size and float32 tensors;
the plain loop is the hand-written minimum: shuffle, slice, forward, MSE,
backward, step. Two cases:

- the reference report's network, 8 -> 4 x 1024 ReLU, dropout 0.1 -> 1,
  batch 64, on California-sized data (16,512 rows);
- a UCI-sized network, 13 -> 50 -> 1 with dropout on the inputs and the
  hidden layer, batch 32, on Boston-sized data (455 rows).

Both are timed alternately in one process, best of several epochs, and the
ratio estimator / plain loop is printed (targets 1.05x and 1.20x), with the
plain loop on torch's default (foreach) Adam, and, on a device with bfloat16
matrix units, the plain loop with its forward pass under bfloat16 autocast,
for reference. The estimator is timed without and with ``sample_weight``
(random weights from 0.5 to 2), whose weighted loss must not cost more than
noise.

Then ensembles (``n_members``), on both networks, side by side in one run:
an epoch of M = 1, 5 and 10 members trained as one batched module against M
sequential fits of one network (M times the epoch of one member, which is
what M fits one after another cost per epoch; on the UCI network the M
sequential fits are also run and timed, their best epochs summed). Targets:
5 members at most 1.5x one member on the UCI network, 5.3x on the report's.

    python benchmarks/bench_fit.py                  # full run, several minutes
    python benchmarks/bench_fit.py --quick          # smaller sizes, seconds
    python benchmarks/bench_fit.py --device cuda    # on a GPU
    python benchmarks/bench_fit.py --members-only   # only the ensembles
    python benchmarks/bench_fit.py --defaults       # the defaults' fit

``--defaults`` times a fit of ``MCDropoutRegressor()`` (its "auto" choices on
held-out rows, then the chosen model) on California housing's
training split (16,512 rows), beside a fit with the defaults of earlier
releases (dropout 0.1, homoscedastic, 100 epochs, weight decay 1e-4), on the
idle machine; then the defaults again beside a busy process (torch matrix
products on 2 threads), with torch's threads set to ``--threads`` and to
one, four fits in the order ``--threads``, one, one, ``--threads`` (so a
drift of the machine's load over the run weighs on both settings alike),
each fit's time and the ratio of the two settings' sums printed, for the
wall clock and for the fitting process's CPU time (threads waiting on the
busy process add wall time only; threads spinning add CPU time too). The
default network on California trains, is scored and fits its noise level
on one torch thread whatever the setting (``_training._training_threads``):
the settings differ only in the small torch operations outside those
(building the networks, drawing the prediction masks).
Targets: the defaults' fit at most 2 minutes idle, and beside the busy
process no slower with ``--threads`` than with one thread.
"""

import argparse
import subprocess
import sys
import time

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from _common import REPORT, best_alternating, best_time, describe, report_network
from sklearn_mcdropout import MCDropoutRegressor, load_california_housing
from sklearn_mcdropout._base import _has_fast_bfloat16


def uci_network():
    return nn.Sequential(
        nn.Dropout(0.05),
        nn.Linear(13, 50),
        nn.ReLU(),
        nn.Dropout(0.05),
        nn.Linear(50, 1),
    )


def plain_epochs(
    module, X, y, batch_size, n_epochs, weight_decay, fused=True, autocast=False
):
    """Hand-written training loop; returns the best epoch time."""
    decay = [p for n, p in module.named_parameters() if not n.endswith("bias")]
    no_decay = [p for n, p in module.named_parameters() if n.endswith("bias")]
    opt = torch.optim.Adam(
        [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-3,
        weight_decay=weight_decay,
        fused=fused,
    )
    loss_fn = nn.MSELoss()
    gen = torch.Generator(device=X.device).manual_seed(0)
    module.train()

    def epoch():
        perm = torch.randperm(len(X), generator=gen, device=X.device)
        Xp, yp = X[perm], y[perm]
        for i in range(0, len(X), batch_size):
            opt.zero_grad()
            with torch.autocast(X.device.type, torch.bfloat16, enabled=autocast):
                out = module(Xp[i : i + batch_size])
            loss = loss_fn(out.float(), yp[i : i + batch_size])
            loss.backward()
            opt.step()

    return best_time(epoch, n_epochs, X.device)


def estimator_epochs(
    module,
    X,
    y,
    batch_size,
    n_epochs,
    weight_decay,
    device,
    sample_weight=None,
    n_members=1,
):
    """MCDropoutRegressor fit; best epoch time from skorch's history."""
    est = MCDropoutRegressor(
        module=module,
        n_members=n_members,
        device=device,
        tau=1.0,
        weight_decay=weight_decay,
        batch_size=batch_size,
        max_epochs=n_epochs,
        random_state=0,
    ).fit(X, y, sample_weight=sample_weight)
    return min(est.net_.history[:, "dur"])


def compare(name, make_module, X, y, batch_size, n_epochs, rounds, device):
    Xt = torch.as_tensor(X, dtype=torch.float32, device=device)
    yt = torch.as_tensor(y, dtype=torch.float32, device=device).reshape(-1, 1)
    sample_weight = np.random.default_rng(1).uniform(0.5, 2, size=len(y))
    with_bf16 = _has_fast_bfloat16(torch.device(device))

    def module():
        torch.manual_seed(0)
        return make_module().to(device)

    def plain(**options):
        return lambda: plain_epochs(
            module(), Xt, yt, batch_size, n_epochs, 1e-4, **options
        )

    def ours(weights=None):
        return lambda: estimator_epochs(
            module(), X, y, batch_size, n_epochs, 1e-4, device, weights
        )

    measures = {"plain": plain(), "unfused": plain(fused=False)}
    if with_bf16:
        measures["bf16"] = plain(autocast=True)
    measures.update(ours=ours(), weighted=ours(sample_weight))
    best = best_alternating(measures, rounds)
    p, u, o, w = (best[k] for k in ("plain", "unfused", "ours", "weighted"))
    n_batches = -(-len(X) // batch_size)
    autocast = (
        f"{best['bf16'] * 1e3:9.1f} ms/epoch  {best['bf16'] / p:.2f}x"
        if with_bf16
        else "  not run: no bfloat16 matrix units"
    )
    print(
        f"{name} ({n_batches} batches/epoch):\n"
        f"  plain loop, fused Adam (as the estimator) {p * 1e3:9.1f} ms/epoch  1.00x\n"
        f"  plain loop, torch's default Adam          {u * 1e3:9.1f} ms/epoch  "
        f"{u / p:.2f}x\n"
        f"  plain loop, fused Adam, bfloat16 autocast {autocast}\n"
        f"  MCDropoutRegressor.fit                    {o * 1e3:9.1f} ms/epoch  "
        f"{o / p:.2f}x\n"
        f"  MCDropoutRegressor.fit, sample_weight     {w * 1e3:9.1f} ms/epoch  "
        f"{w / p:.2f}x"
    )


def compare_members(name, make_module, X, y, batch_size, n_epochs, rounds, device,
                    run_sequential):  # fmt: skip
    """Epoch of M = 1, 5, 10 members against M sequential one-network fits."""
    sizes = (1, 5, 10)

    def epoch(n_members=1):
        torch.manual_seed(0)
        return estimator_epochs(
            make_module(), X, y, batch_size, n_epochs, 1e-4, device,
            n_members=n_members,
        )  # fmt: skip

    measures = {("batched", m): lambda m=m: epoch(m) for m in sizes}
    if run_sequential:
        for m in sizes[1:]:
            measures["sequential", m] = lambda m=m: sum(epoch() for _ in range(m))
    best = best_alternating(measures, rounds)
    one = best["batched", 1]
    print(
        f"{name}, ensembles (best epoch of {rounds} rounds x {n_epochs} epochs):",
        flush=True,
    )
    for m in sizes:
        t = best["batched", m]
        kind = "members batched" if m > 1 else "member (plain) "
        line = f"  {m:2d} {kind}  {t * 1e3:9.1f} ms/epoch"
        line += f"  {t / one:5.2f}x one member"
        if m > 1:
            line += f"   {m} sequential fits: {m * one * 1e3:9.1f} ms/epoch (M x one)"
            if ("sequential", m) in best:
                line += f", run: {best['sequential', m] * 1e3:.1f}"
            line += f"   batched / sequential {t / (m * one):.2f}"
        print(line, flush=True)


_EARLIER_DEFAULTS = {
    "dropout": 0.1,
    "noise": "homoscedastic",
    "max_epochs": 100,
    "weight_decay": 1e-4,
}


def _busy():
    """A process running torch matrix products on 2 threads until killed."""
    code = (
        "import torch\ntorch.set_num_threads(2)\na = torch.randn(1024, 1024)\n"
        "while True:\n    a = (a @ a).tanh_()\n"
    )
    return subprocess.Popen([sys.executable, "-c", code])


def _fit_seconds(threads, **params):
    """Wall and CPU seconds of a fit on California's training split, and the
    estimator."""
    X, y = load_california_housing()
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=42)
    torch.set_num_threads(threads)
    est = MCDropoutRegressor(random_state=0, **params)
    model = make_pipeline(StandardScaler(), est)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(X_train, y_train)
    return time.perf_counter() - start, time.process_time() - cpu, est


def defaults(threads):
    """The defaults' fit on California, idle and beside a busy process."""
    new, _, est = _fit_seconds(threads)
    old, _, _ = _fit_seconds(threads, **_EARLIER_DEFAULTS)
    print(
        f"California, idle, {threads} threads: MCDropoutRegressor() {new:.1f} s "
        f"(chose dropout {est.dropout_.flat[0]:g}, {est.noise_}, {est.n_iter_} "
        f"epochs, {est.n_members_} member(s)), "
        f"earlier defaults {old:.1f} s, ratio {new / old:.2f}",
        flush=True,
    )
    if threads == 1:
        return  # nothing to compare beside the busy process
    seconds = {threads: [], 1: []}
    busy = _busy()
    try:
        for n_threads in (threads, 1, 1, threads):
            seconds[n_threads].append(_fit_seconds(n_threads)[:2])
    finally:
        busy.kill()
    for clock, i in [("wall", 0), ("CPU", 1)]:
        with_threads, one = (
            " and ".join(f"{t[i]:.1f}" for t in seconds[n]) for n in seconds
        )
        ratio = sum(t[i] for t in seconds[threads]) / sum(t[i] for t in seconds[1])
        print(
            f"California, beside a busy process (fits in the order {threads}, 1, "
            f"1, {threads} threads), {clock} clock: MCDropoutRegressor() "
            f"{with_threads} s with {threads} threads, {one} s with one, ratio of "
            f"the sums {ratio:.2f}",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="e.g. cuda")
    parser.add_argument("--members-only", action="store_true")
    parser.add_argument(
        "--defaults", action="store_true", help="only the defaults' fit on California"
    )
    parser.add_argument(
        "--members-rows",
        type=int,
        default=4096,
        help="rows of the report network's ensemble epochs",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rng = np.random.default_rng(0)
    print(describe(device))
    if args.defaults:
        defaults(args.threads)
        return

    n_rows, width = (2048, 256) if args.quick else (16512, REPORT["width"])
    X = rng.normal(size=(n_rows, REPORT["n_features"]))
    y = X @ rng.normal(size=X.shape[1]) + rng.normal(size=n_rows)
    X_uci = rng.normal(size=(455, 13))
    y_uci = X_uci @ rng.normal(size=13) + rng.normal(size=455)
    batch = REPORT["batch"]
    report = f"report network 8 -> 4x{width}, batch {batch}"
    uci = "UCI network 13 -> 50 -> 1, batch 32"
    uci_epochs = 20 if args.quick else 100
    if not args.members_only:
        compare(
            report, lambda: report_network(width),
            X, y, batch, n_epochs=2 if args.quick else 3, rounds=2, device=device,
        )  # fmt: skip
        compare(
            uci, uci_network, X_uci, y_uci, 32, n_epochs=uci_epochs, rounds=3,
            device=device,
        )  # fmt: skip
    compare_members(
        uci, uci_network, X_uci, y_uci, 32, n_epochs=uci_epochs // 2, rounds=3,
        device=device, run_sequential=True,
    )  # fmt: skip
    # The report's network on fewer rows (an epoch of 10 members of 16,512
    # rows lasts minutes on 2 cores; the ratios do not depend on the rows).
    n_members_rows = min(n_rows, args.members_rows)
    compare_members(
        f"{report}, {n_members_rows} rows", lambda: report_network(width),
        X[:n_members_rows], y[:n_members_rows], batch, n_epochs=2, rounds=1,
        device=device, run_sequential=False,
    )  # fmt: skip


if __name__ == "__main__":
    main()
