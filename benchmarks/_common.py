"""What the speed benchmarks share: the report's network and the timing loops.

Imported by ``bench_fit.py`` and ``bench_predict.py`` as ``from _common import
...``: a script run as ``python benchmarks/<name>.py`` has this folder on its
``sys.path``.
"""

import math
import time

import torch
from torch import nn

#: The reference report's network (``mc_dropout_report.md``): 8 inputs (the
#: California housing features), 4 hidden layers of 1024 ReLU units, each
#: followed by dropout 0.1, one output; trained in batches of 64.
REPORT = {"n_features": 8, "width": 1024, "depth": 4, "dropout": 0.1, "batch": 64}


def report_network(width=REPORT["width"], depth=REPORT["depth"]):
    """The report's network as a torch module, optionally narrower or shallower."""
    layers, n_in = [], REPORT["n_features"]
    for _ in range(depth):
        layers += [nn.Linear(n_in, width), nn.ReLU(), nn.Dropout(REPORT["dropout"])]
        n_in = width
    return nn.Sequential(*layers, nn.Linear(n_in, 1))


def sync(device):
    """Wait for the device's queued work (a no-op on the CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_time(fn, repeats, device="cpu"):
    """The fastest of ``repeats`` calls of ``fn``, in seconds, device synced."""
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return min(times)


def best_alternating(measures, rounds):
    """Each of ``measures`` (name -> function returning seconds) once per round,
    in turn, so that they share the machine's slow and fast moments; the best
    (smallest) result of each, by name."""
    best = dict.fromkeys(measures, math.inf)
    for _ in range(rounds):
        for name, measure in measures.items():
            best[name] = min(best[name], measure())
    return best


def describe(device):
    """One line: torch's version, its threads and the device."""
    device = torch.device(device)
    if device.type == "cuda":
        where = torch.cuda.get_device_name(device)
    else:
        where = f"CPU capability {torch.backends.cpu.get_cpu_capability()}"
    return f"torch {torch.__version__}, {torch.get_num_threads()} threads, {where}"
