#!/usr/bin/env bash
# Both benchmarks and the device tests on a CUDA machine, in one go.
#
#   bash benchmarks/gpu.sh [OUTDIR]
#
# Run from the repository root with the package importable (installed, or
# PYTHONPATH set to the root). Logs go to OUTDIR (default benchmarks/output).
set -o pipefail
out=${1:-benchmarks/output}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.log"
python3 -c "import torch, sklearn, skorch; print('torch', torch.__version__, \
'scikit-learn', sklearn.__version__, 'skorch', skorch.__version__)" | tee -a "$out/gpu.log"
python3 -m pytest -q -p no:cacheprovider tests/test_regressor.py tests/test_mc_engine.py \
    -k "cuda or bfloat16 or fast_path" 2>&1 | tee "$out/tests_cuda.log"
python3 benchmarks/bench_predict.py --device cuda 2>&1 | tee "$out/bench_predict_cuda.log"
python3 benchmarks/bench_fit.py --device cuda 2>&1 | tee "$out/bench_fit_cuda.log"
