#!/usr/bin/env python3
"""Checks that a selfsup checkpoint loads into the PyTorch modules of docs/pytorch.md with
load_state_dict(strict=True) and gives the same features as selfsup itself.

    cargo run --release -- train rotation --out runs/tiny --set train.epochs=1 --set train.max_images=500
    cargo run --release -- embed --checkpoint runs/tiny --data sample:test --out runs/tiny/emb
    cargo run --release -- export --checkpoint runs/tiny --out runs/tiny/backbone.safetensors
    python3 scripts/check_pytorch.py runs/tiny     # needs torch and numpy

A checkpoint's other networks are checked by name, with their embedding and export written
under that name (SRGAN's discriminator, for instance, on grey 28 px images):

    cargo run --release -- embed --checkpoint runs/sr --network discriminator --data sample:test --out runs/sr/emb-discriminator
    cargo run --release -- export --checkpoint runs/sr --network discriminator --out runs/sr/discriminator.safetensors
    python3 scripts/check_pytorch.py runs/sr discriminator

The code under test is the documentation's own: the python blocks of docs/pytorch.md are run
as they are (with the run's paths in place of runs/NAME). The check then feeds the bundled test
images to the network and to its export and compares the globally pooled representation block
with RUN/emb/features.npy, written by `selfsup embed` with the same defaults.
"""
import gzip
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main(run, network=None):
    ckpt = run / "checkpoints" / "best"
    if not ckpt.exists():
        ckpt = run / "checkpoints" / "last"
    export_file, emb = ("backbone.safetensors", "emb") if network is None else \
        (f"{network}.safetensors", f"emb-{network}")
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs/pytorch.md").read_text(), re.S)
    scope = {}
    for code in blocks:
        code = code.replace('load_network("runs/NAME/checkpoints/best")',
                            f'load_network("runs/NAME/checkpoints/best", {network!r})')
        code = code.replace("runs/NAME/checkpoints/best", str(ckpt))
        exec(code.replace("runs/NAME/backbone.safetensors", str(run / export_file)), scope)
    torch = scope["torch"]
    backbone, net = scope["load_network"](str(ckpt), network)

    raw = gzip.open(ROOT / "crates/selfsup-data/data/fashion-mnist-sample/t10k-images-idx3-ubyte.gz").read()
    n, h, w = (int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(3))
    images = np.frombuffer(raw[16:], np.uint8).reshape(n, 1, h, w).astype(np.float32) / 255.0
    spec = net["input"]
    if (spec["side"], spec["image_channels"], spec["preprocess"]) != (h, 1, "none"):
        # selfsup resizes with antialiased bilinear filtering; compare only native grey input.
        sys.exit(f"this check compares native {h}x{w} grey images; the network takes {spec}")
    exported, _ = scope["load_export"](str(run / export_file))
    with torch.no_grad():
        ours = backbone.forward_blocks(torch.from_numpy(images))[net["block"]].mean(dim=(2, 3)).numpy()
        export = exported.forward_blocks(torch.from_numpy(images))[net["block"]].mean(dim=(2, 3)).numpy()
    theirs = np.load(run / emb / "features.npy")
    diff = max(np.abs(ours - theirs).max(), np.abs(export - theirs).max())
    print(f"strict load OK ({net['name']}, {net['backbone']['kind']}); {len(ours)} images, {ours.shape[1]} dims (block {net['block'] + 1}), "
          f"max |diff| = {diff:.2e}")
    sys.exit(0 if diff < 1e-3 else 1)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/tiny"), sys.argv[2] if len(sys.argv) > 2 else None)
