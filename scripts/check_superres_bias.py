#!/usr/bin/env python3
"""Is a super-resolution run's shortfall against bicubic a colour shift? Takes three 96-pixel
crops of each held-out photo (every fourth in name order, scaled to a 256-pixel short side as
the `photos` source does), downsamples them x4 with PIL's bicubic filter, upsamples them with
`selfsup upscale` and with bicubic, and prints per crop the PSNR of both, the network's mean
error per channel (in levels of 255) and its PSNR once that error is removed.

    apt-get install mate-backgrounds python3-pil
    python3 scripts/check_superres_bias.py runs/superres-mse-noskip/checkpoints/epoch-0001 [SELFSUP]
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

checkpoint = sys.argv[1]
selfsup = sys.argv[2] if len(sys.argv) > 2 else "target/release/selfsup"
folder = "/usr/share/backgrounds/mate/nature"
names = [n for i, n in enumerate(sorted(os.listdir(folder))) if i % 4 == 3]


def psnr(a, b):
    return 10 * np.log10(1 / np.mean((a - b) ** 2))


with tempfile.TemporaryDirectory() as tmp:
    crops = []
    for name in names:
        image = Image.open(os.path.join(folder, name)).convert("RGB")
        scale = 256 / min(image.size)
        image = image.resize((round(image.size[0] * scale), round(image.size[1] * scale)), Image.BICUBIC)
        w, h = image.size
        for k, (x, y) in enumerate([(w // 4, h // 4), (w // 2, h // 2), (w // 8, h // 2)]):
            stem = f"{name.rsplit('.', 1)[0]}-{k}"
            high = image.crop((x, y, x + 96, y + 96))
            high.resize((24, 24), Image.BICUBIC).save(os.path.join(tmp, stem + ".png"))
            crops.append((stem, high))
    inputs = [os.path.join(tmp, stem + ".png") for stem, _ in crops]
    subprocess.run([selfsup, "upscale", "--checkpoint", checkpoint, *inputs, "--out",
                    os.path.join(tmp, "up")], check=True, stdout=subprocess.DEVNULL)
    ours, bicubic, debiased = [], [], []
    for stem, high in crops:
        truth = np.asarray(high, float) / 255
        up = np.asarray(Image.open(os.path.join(tmp, "up", stem + ".png")).convert("RGB"), float) / 255
        bi = np.asarray(Image.open(os.path.join(tmp, stem + ".png")).resize((96, 96), Image.BICUBIC), float) / 255
        bias = (up - truth).mean((0, 1))
        ours.append(psnr(up, truth))
        bicubic.append(psnr(bi, truth))
        debiased.append(psnr(up - bias, truth))
        print(f"{stem:<16} network {ours[-1]:.2f}  bicubic {bicubic[-1]:.2f}  without its bias "
              f"{debiased[-1]:.2f}  bias {np.round(bias * 255, 2)}")
    print(f"mean PSNR: network {np.mean(ours):.2f}, bicubic {np.mean(bicubic):.2f}, "
          f"network without its bias {np.mean(debiased):.2f}")
