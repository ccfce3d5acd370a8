#!/usr/bin/env python3
"""Checks that a selfsup checkpoint loads into the PyTorch module of docs/pytorch.md with
load_state_dict(strict=True) and gives the same features as selfsup itself.

    cargo run --release -- train rotation --out runs/tiny --set train.epochs=1 --set train.max_images=500
    cargo run --release -- embed --checkpoint runs/tiny --data sample:test --out runs/tiny/emb
    python3 scripts/check_pytorch.py runs/tiny     # needs torch, numpy, safetensors

It rebuilds the network from the checkpoint's state.json, feeds it the bundled test images and
compares the globally pooled last-block features with runs/tiny/emb/features.npy.
"""
import gzip
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parent.parent


# ---- the equivalent modules, as in docs/pytorch.md -------------------------------------------
def batch_norm(channels):
    return nn.BatchNorm2d(channels)  # eps 1e-5, momentum 0.1, as Burn's


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, kernel):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False)
        self.bn = batch_norm(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class ConvNet(nn.Module):
    def __init__(self, in_channels, widths):
        super().__init__()
        blocks, cin = [], in_channels
        for w in widths:
            blocks.append(nn.ModuleList([ConvBlock(cin, w, 3), ConvBlock(w, w, 3)]))
            cin = w
        self.blocks = nn.ModuleList(blocks)

    def forward_blocks(self, x):
        outs = []
        for b, block in enumerate(self.blocks):
            if b > 0:
                x = F.max_pool2d(x, 2)
            for layer in block:
                x = layer(x)
            outs.append(x)
        return outs


class Nin(nn.Module):
    def __init__(self, in_channels, blocks):
        super().__init__()
        def layers(cin, widths, k):
            return nn.ModuleList([ConvBlock(cin, widths[0], k), ConvBlock(widths[0], widths[1], 1),
                                  ConvBlock(widths[1], widths[2], 1)])
        bs = [layers(in_channels, [192, 160, 96], 5), layers(96, [192, 192, 192], 5)]
        bs += [layers(192, [192, 192, 192], 3) for _ in range(2, blocks)]
        self.blocks = nn.ModuleList(bs)

    def forward_blocks(self, x):
        outs = []
        for b, block in enumerate(self.blocks):
            if b == 1:
                x = F.max_pool2d(x, 3, 2, 1)
            elif b == 2:
                x = F.avg_pool2d(x, 3, 2, 1, count_include_pad=True)
            for layer in block:
                x = layer(x)
            outs.append(x)
        return outs


class RotNet(nn.Module):
    def __init__(self, backbone, features):
        super().__init__()
        self.backbone = backbone
        self.fc = nn.Linear(features, 4)

    def forward(self, x):
        return self.fc(self.backbone.forward_blocks(x)[-1].mean(dim=(2, 3)))


# ---- the check ------------------------------------------------------------------------------
def main(run):
    ckpt = run / "checkpoints" / "best"
    if not ckpt.exists():
        ckpt = run / "checkpoints" / "last"
    state = json.loads((ckpt / "state.json").read_text())
    b = state["config"]["backbone"]
    c = state["in_channels"]
    if b["kind"] == "conv_net":
        backbone, features = ConvNet(c, b["widths"]), b["widths"][-1]
    else:
        backbone, features = Nin(c, b["nin_blocks"]), 192
    model = RotNet(backbone, features)
    model.load_state_dict(load_file(ckpt / "model.safetensors"), strict=True)
    model.eval()

    raw = gzip.open(ROOT / "crates/selfsup-data/data/fashion-mnist-sample/t10k-images-idx3-ubyte.gz").read()
    n, h, w = (int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(3))
    images = np.frombuffer(raw[16:], np.uint8).reshape(n, 1, h, w).astype(np.float32) / 255.0
    side = state["image_size"]
    x = torch.from_numpy(images)
    if side != h:
        # selfsup resizes with antialiased bilinear filtering; compare only at native size.
        sys.exit(f"this check compares at native 28x28 size; the run used {side}")
    with torch.no_grad():
        ours = model.backbone.forward_blocks(x)[-1].mean(dim=(2, 3)).numpy()
    theirs = np.load(run / "emb" / "features.npy")
    diff = np.abs(ours - theirs).max()
    print(f"strict load OK; {len(ours)} images, {ours.shape[1]} dims, max |diff| = {diff:.2e}")
    sys.exit(0 if diff < 1e-3 else 1)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/tiny"))
