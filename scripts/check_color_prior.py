#!/usr/bin/env python3
"""Which way class rebalancing pulls on a folder of photos: colorization's colour prior as
selfsup estimates it (ab of the training photos scaled to a 256-pixel short side, every pixel
at the output stride of 4, each on its nearest of the 313 bins, smoothed with a Gaussian of
sigma 5, mixed with the uniform distribution at lambda 0.5; crates/selfsup-data/src/color/bins.rs),
and the mean chroma (sqrt(a^2 + b^2)) of the bins under the prior and under the prior times
the rebalancing weights. The paper argues that rebalancing makes predictions more colourful;
on a prior whose common colours are the vivid ones it could do the opposite.

    apt-get install mate-backgrounds python3-skimage python3-pil
    python3 scripts/check_color_prior.py [DIR]    # default: mate-backgrounds' nature photos
"""
import os
import re
import sys

import numpy as np
from PIL import Image
from skimage.color import rgb2lab

HERE = os.path.dirname(os.path.abspath(__file__))
source = open(os.path.join(HERE, "../crates/selfsup-data/src/color/bins.rs")).read()
start = source.index("= [", source.index("pub const AB_BINS"))
table = source[start:source.index("];", start)]
bins = np.array([[int(a), int(b)] for a, b in re.findall(r"\[(-?\d+), (-?\d+)\]", table)], float)
assert len(bins) == 313, len(bins)

folder = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/backgrounds/mate/nature"
names = sorted(os.listdir(folder))
# Every fourth photo in name order, from the fourth, is a test photo (photos.rs).
train = [n for i, n in enumerate(names) if i % 4 != 3]
ab = []
for name in train:
    image = Image.open(os.path.join(folder, name)).convert("RGB")
    scale = 256 / min(image.size)
    image = image.resize((round(image.size[0] * scale), round(image.size[1] * scale)), Image.BILINEAR)
    ab.append(rgb2lab(np.asarray(image) / 255.0)[::4, ::4, 1:].reshape(-1, 2))
ab = np.concatenate(ab)
nearest = np.argmin(((ab[:, None, :] - bins[None]) ** 2).sum(-1), axis=1)
counts = np.bincount(nearest, minlength=len(bins)).astype(float)
d2 = ((bins[:, None, :] - bins[None]) ** 2).sum(-1)
prior = np.exp(-d2 / (2 * 5.0**2)) @ counts
prior /= prior.sum()
weights = 1 / (0.5 * prior + 0.5 / len(bins))
weights /= (prior * weights).sum()
chroma = np.hypot(bins[:, 0], bins[:, 1])
rebalanced = prior * weights / (prior * weights).sum()

print(f"{len(train)} training photos of {folder}, {len(ab)} pixels")
print(f"mean chroma: pixels {np.hypot(ab[:, 0], ab[:, 1]).mean():.1f}, prior {(prior * chroma).sum():.1f}, "
      f"prior x weights {(rebalanced * chroma).sum():.1f}, uniform over the bins {chroma.mean():.1f}")
bands = [(lo, (chroma >= lo) & (chroma < lo + 20)) for lo in range(0, 120, 20)]
print("mean weight by chroma band: " + ", ".join(
    f"{lo}-{lo + 20}: {np.average(weights[m], weights=prior[m]):.2f}" for lo, m in bands if m.any()))
