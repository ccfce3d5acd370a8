#!/usr/bin/env bash
# The reference networks on a GPU (docs/benchmarks.md): selfsup on wgpu and cuda against
# PyTorch on CUDA, the spec's batches, one table. Run on a machine with an NVIDIA GPU, its
# driver, and PyTorch built with CUDA; the cuda backend compiles with `--features cuda`.
#
#   benches/gpu.sh              # wgpu and cuda, then PyTorch on CUDA
#   benches/gpu.sh --smoke      # batches of 2, one step: wgpu only, PyTorch on the CPU when
#                               # installed; checks that the script still runs (CI runs it on Mesa's
#                               # lavapipe, with cubecl's autotuning at its minimal level: its default
#                               # level tried so many kernels on a CPU rasterizer that one model took
#                               # minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --smoke ]; then
    tiny=(--batch 2 --warmup 1 --steps 1 --infer-batches 1)
    backends=wgpu features=() torch_device=cpu
    export CUBECL_AUTOTUNE_LEVEL=${CUBECL_AUTOTUNE_LEVEL:-minimal}
else
    tiny=()
    backends=wgpu,cuda features=(--features cuda) torch_device=cuda
fi
cargo bench --bench backends "${features[@]}" -- --backend "$backends" --kernels burn "${tiny[@]}"
# The first Python that has PyTorch (Debian's python3-torch lives beside /usr/bin/python3).
python=""
for p in python3 /usr/bin/python3; do
    if "$p" -c "import torch" 2>/dev/null; then python=$p; break; fi
done
if [ -n "$python" ]; then
    "$python" benches/torch_gpu.py --device "$torch_device" "${tiny[@]}"
else
    echo "(PyTorch is not installed: no PyTorch rows)"
fi
