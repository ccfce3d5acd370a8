#!/usr/bin/python3
"""Rebuilds the bundled colour-photo sample (photos-sample/) from the public-domain and CC0
photos that Debian's python3-skimage ships (licences in skimage/data/_fetchers.py; see
photos-sample/README.md). Each photo is scaled so that its short side is 256 pixels (Lanczos)
and saved as JPEG, quality 90; train and test are split by photo.

    apt-get install python3-skimage python3-pil
    /usr/bin/python3 crates/selfsup-data/data/make_photos_sample.py
"""
import os

from PIL import Image

SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
SPLIT = {
    "train": ["astronaut.png", "coffee.png", "hubble_deep_field.jpg", "retina.jpg"],
    "test": ["chelsea.png", "rocket.jpg"],
}
SHORT_SIDE = 256

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "photos-sample")
for split, names in SPLIT.items():
    os.makedirs(os.path.join(out, split), exist_ok=True)
    for name in names:
        img = Image.open(os.path.join(SKIMAGE, name)).convert("RGB")
        scale = SHORT_SIDE / min(img.size)
        if scale < 1:
            img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
        stem = os.path.splitext(name)[0]
        img.save(os.path.join(out, split, stem + ".jpg"), quality=90)
        print(split, stem, img.size)
