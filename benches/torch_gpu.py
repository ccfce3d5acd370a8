#!/usr/bin/env python3
"""PyTorch's side of benches/gpu.sh: the two reference networks of the CPU yardstick
(shared/bench/SPECS.md; the same layers as benches/backends/reference.rs), one training step =
forward + backward + Adam(lr 1e-3) on one fixed batch, `warmup` untimed steps then `steps`
timed ones, the loss read back every step; inference = forward in eval mode, no grad.

    python3 benches/torch_gpu.py                      # on CUDA
    python3 benches/torch_gpu.py --device cpu --batch 2 --steps 1 --warmup 1 --infer-batches 1

Prints one line a model in benches/backends' columns.
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class RotNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn_relu(3, 64), *conv_bn_relu(64, 64), nn.MaxPool2d(2),
            *conv_bn_relu(64, 128), *conv_bn_relu(128, 128), nn.MaxPool2d(2),
            *conv_bn_relu(128, 256), *conv_bn_relu(256, 256),
        )
        self.fc = nn.Linear(256, 4)

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))


class ColorNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(64, 128, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(32, 2, 3, padding=1),
        )

    def forward(self, x):
        return self.net(x)


# (network, input shape, target, loss, spec batch, forward GFLOP of a spec batch)
SPECS = {
    "rotnet": (RotNet, (3, 32, 32), lambda n, d: torch.randint(0, 4, (n,), device=d), F.cross_entropy, 128, 117.3 / 3),
    "colornet": (ColorNet, (1, 64, 64), lambda n, d: torch.rand(n, 2, 64, 64, device=d), F.mse_loss, 32, 28.1 / 3),
}


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench(name, args, device):
    make, shape, target, loss_fn, spec_batch, gflop = SPECS[name]
    n = args.batch or spec_batch
    torch.manual_seed(0)
    model = make().to(device)
    x = torch.rand(n, *shape, device=device)
    y = target(n, device)
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optim.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optim.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync(device)
    train_s = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        for _ in range(args.warmup):
            model(x).flatten()[0].item()
        sync(device)
        start = time.perf_counter()
        for _ in range(args.infer_batches):
            model(x).flatten()[0].item()
        sync(device)
        infer_s = time.perf_counter() - start
    scale = n / spec_batch
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else float("nan")
    print(f"{'torch-' + device.type:<8} {'-':<8} {name:<9} {args.steps * n / train_s:>11.1f} "
          f"{3 * gflop * scale * args.steps / train_s:>9.1f} {args.infer_batches * n / infer_s:>11.1f} "
          f"{gflop * scale * args.infer_batches / infer_s:>9.1f} {peak:>7.0f} MB "
          f"{1e3 * train_s / args.steps:>9.1f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batch", type=int)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--infer-batches", type=int, default=10)
    args = ap.parse_args()
    device = torch.device(args.device)
    print(f"PyTorch {torch.__version__} on {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}")
    for name in SPECS:
        bench(name, args, device)


if __name__ == "__main__":
    main()
