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

    python benchmarks/bench_fit.py                  # full run, a few minutes
    python benchmarks/bench_fit.py --quick          # smaller sizes, seconds
    python benchmarks/bench_fit.py --device cuda    # on a GPU
"""

import argparse
import time

import numpy as np
import torch
from torch import nn

from sklearn_mcdropout import MCDropoutRegressor
from sklearn_mcdropout._base import _has_fast_bfloat16


def report_network(width):
    layers, n_in = [], 8
    for _ in range(4):
        layers += [nn.Linear(n_in, width), nn.ReLU(), nn.Dropout(0.1)]
        n_in = width
    return nn.Sequential(*layers, nn.Linear(n_in, 1))


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
    times = []
    for _ in range(n_epochs):
        _sync(X.device)
        start = time.perf_counter()
        perm = torch.randperm(len(X), generator=gen, device=X.device)
        Xp, yp = X[perm], y[perm]
        for i in range(0, len(X), batch_size):
            opt.zero_grad()
            with torch.autocast(X.device.type, torch.bfloat16, enabled=autocast):
                out = module(Xp[i : i + batch_size])
            loss = loss_fn(out.float(), yp[i : i + batch_size])
            loss.backward()
            opt.step()
        _sync(X.device)
        times.append(time.perf_counter() - start)
    return min(times)


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def estimator_epochs(
    module, X, y, batch_size, n_epochs, weight_decay, device, sample_weight=None
):
    """MCDropoutRegressor fit; best epoch time from skorch's history."""
    est = MCDropoutRegressor(
        module=module,
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
    plain, unfused, bf16, ours, weighted = [], [], [], [], []
    sample_weight = np.random.default_rng(1).uniform(0.5, 2, size=len(y))
    with_bf16 = _has_fast_bfloat16(torch.device(device))

    def module():
        torch.manual_seed(0)
        return make_module().to(device)

    for _ in range(rounds):
        plain.append(plain_epochs(module(), Xt, yt, batch_size, n_epochs, 1e-4))
        unfused.append(
            plain_epochs(module(), Xt, yt, batch_size, n_epochs, 1e-4, fused=False)
        )
        if with_bf16:
            bf16.append(
                plain_epochs(
                    module(), Xt, yt, batch_size, n_epochs, 1e-4, autocast=True
                )
            )
        ours.append(
            estimator_epochs(module(), X, y, batch_size, n_epochs, 1e-4, device)
        )
        weighted.append(
            estimator_epochs(
                module(), X, y, batch_size, n_epochs, 1e-4, device, sample_weight
            )
        )
    p, u, o, w = min(plain), min(unfused), min(ours), min(weighted)
    n_batches = -(-len(X) // batch_size)
    autocast = (
        f"{min(bf16) * 1e3:9.1f} ms/epoch  {min(bf16) / p:.2f}x"
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="e.g. cuda")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rng = np.random.default_rng(0)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {where}")

    n_rows, width = (2048, 256) if args.quick else (16512, 1024)
    X = rng.normal(size=(n_rows, 8))
    y = X @ rng.normal(size=8) + rng.normal(size=n_rows)
    compare(
        f"report network 8 -> 4x{width}, batch 64",
        lambda: report_network(width),
        X, y, 64, n_epochs=2 if args.quick else 3, rounds=2, device=device,
    )  # fmt: skip

    X = rng.normal(size=(455, 13))
    y = X @ rng.normal(size=13) + rng.normal(size=455)
    compare(
        "UCI network 13 -> 50 -> 1, batch 32",
        uci_network,
        X, y, 32, n_epochs=20 if args.quick else 100, rounds=3, device=device,
    )  # fmt: skip


if __name__ == "__main__":
    main()
