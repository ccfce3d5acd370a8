#!/usr/bin/env python3
"""PyTorch's side of the per-operation table in docs/benchmarks.md: where one training step of
each reference network (forward + backward + Adam) spends its time, by torch.profiler's
self CPU time per aten op, grouped into the table's rows.

    OMP_NUM_THREADS=2 python3 benches/torch_ops.py [--bench ../shared/bench/torch_bench.py] [--steps 5]

The networks, batches and optimiser are the yardstick's own (`torch_bench.py`, imported from
--bench), with its 2 threads. selfsup's side: `cargo bench --bench conv_ops` and
`scripts/profile_ops.sh`.
"""
import argparse
import importlib.util
import os
import sys

import torch

# aten op name -> the table's row; anything else lands in "other".
GROUPS = [
    ("conv backward", ("convolution_backward", "mkldnn_convolution_backward", "slow_conv2d_backward",
                       "slow_conv_transpose2d_backward", "thnn_conv2d_backward", "_slow_conv2d_backward")),
    ("conv forward", ("convolution", "_convolution", "mkldnn_convolution", "slow_conv2d_forward",
                      "conv2d", "conv_transpose2d", "slow_conv_transpose2d", "_slow_conv2d_forward",
                      "thnn_conv2d")),
    ("BatchNorm", ("native_batch_norm", "batch_norm", "_batch_norm_impl_index", "native_batch_norm_backward",
                   "cudnn_batch_norm")),
    ("ReLU", ("relu", "relu_", "threshold_backward", "clamp_min")),
    ("pooling", ("max_pool2d", "max_pool2d_with_indices", "max_pool2d_with_indices_backward", "mean")),
    ("optimiser (Adam)", ("_foreach_", "addcdiv_", "addcmul_", "lerp_", "sqrt", "mul_", "add_", "div_")),
    ("loss and head", ("cross_entropy", "log_softmax", "_log_softmax", "nll_loss", "mse_loss", "linear",
                       "addmm", "mm")),
    ("allocation and copies", ("empty", "zeros", "zero_", "fill_", "copy_", "to", "contiguous", "clone",
                               "empty_strided", "resize_", "as_strided")),
]


def group_of(name):
    op = name.removeprefix("aten::")
    for group, names in GROUPS:
        if any(op == n or (n.endswith("_") and op.startswith(n)) for n in names):
            return group
    return "other"


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--bench", default=os.path.join(here, "..", "..", "shared", "bench", "torch_bench.py"))
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("torch_bench", args.bench)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    torch.set_num_threads(bench.THREADS)
    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {args.steps} steps after 2 untimed")
    for name, make in bench.MODELS.items():
        model, x, y, loss_fn = make()
        optim = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            optim.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optim.step()
            return loss.item()

        for _ in range(2):
            step()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(args.steps):
                step()
        totals = {}
        for event in prof.key_averages():
            group = group_of(event.key)
            totals[group] = totals.get(group, 0.0) + event.self_cpu_time_total / 1e3 / args.steps
        whole = sum(totals.values())
        print(f"\n{name}: {whole:.1f} ms of self CPU time per step (profiled)")
        for group, ms in sorted(totals.items(), key=lambda kv: -kv[1]):
            print(f"  {group:<24} {ms:9.1f} ms  {100 * ms / whole:5.1f}%")


if __name__ == "__main__":
    sys.exit(main())
