"""uci.py's scoring at the size of the protein set runs in bounded memory.

The validation rows of a protein split (8,232 rows) scored as uci.py scores
them, the grid's four dropout rates at once (100 hidden units) over a tau
grid, in a fresh process whose peak resident memory is read after each
scoring, with glibc's malloc told to return every block above 64 KB to the
system when freed (``MALLOC_MMAP_THRESHOLD_``), so that the peak is that of
the live memory rather than of what the allocator keeps. The scoring
streams over blocks of passes and chunks of rows: its peak is a working
set of chunks (about 40 MB), the same for more passes and more rows, where
the stored passes of the issue's failure took 8 bytes per row and pass
(8,232 rows x 4 x 10,000 passes: 2.6 GB).
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    import numpy as np
    sys.path.insert(0, "benchmarks")
    import uci

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    runs = json.loads(sys.argv[1])  # [(rows, passes), ...]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(max(rows for rows, _ in runs), 9))
    y = 450 + 10 * np.tanh(X[:, 0]) + rng.normal(scale=4, size=len(X))
    model = uci.make_model(9, 100, [0.005, 0.01, 0.05, 0.1], 0.05, epochs=1,
                           passes=400, seed=0, batch_size=512)
    model.fit(X[:1000], y[:1000])
    taus = uci.tau_grid([0.025, 0.05, 0.075], 10)
    peaks, finite = [peak_mb()], True
    for rows, n_passes in runs:  # n_passes / 4 per rate
        model[-1].set_params(n_passes=n_passes // 4)
        scores = uci.evaluate(model, X[:rows], y[:rows], taus, n_groups=4)
        finite &= bool(np.isfinite([s[1] for s in scores]).all())
        peaks.append(peak_mb())
    print(json.dumps({"peaks_mb": peaks, "finite": finite}))
    """
)


def _peaks_in_a_fresh_process(runs):
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
        "MALLOC_MMAP_THRESHOLD_": "65536",
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(runs)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.skipif(
    sys.platform != "linux", reason="ru_maxrss in KB and glibc's malloc settings"
)
def test_protein_sized_scoring_runs_in_bounded_memory():
    result = _peaks_in_a_fresh_process([(8232, 400), (8232, 1200), (2 * 8232, 400)])
    assert result["finite"]
    start, first, more_passes, more_rows = result["peaks_mb"]
    # The chunks' working set (about 40 MB); stored float64 passes would
    # take 26 MB for the first scoring, and add 53 MB with the passes, 26 MB
    # with the rows.
    assert first - start < 100, result
    assert more_passes - first < 8, result
    assert more_rows - first < 8, result
