#!/usr/bin/env bash
# Inpainting's measurements (docs/methods/inpainting.md, docs/results.md): the Context Encoder
# with its adversarial loss on central holes (the paper's inpainting setting) and with L2 alone
# on random regions (its feature-learning setting), each pretrained on crops of the 9 training photos of Debian's mate-backgrounds at
# the shared budget, then
#   - the central quarter of crops of the 3 held-out photos filled and scored beside the mean
#     and diffusion fills (PSNR, SSIM, PSNR over the hole), with a gallery;
#   - probed on full Fashion-MNIST like every other method (scripts/results.sh).
#
#   apt-get install mate-backgrounds dataset-fashion-mnist
#   scripts/inpainting.sh                   # both variants, each EPOCHS=4 of 45,000 crops by default
#                                           # (the adversarial one about 35 minutes at 88 images/s);
#                                           # resumes unfinished runs
#   VARIANTS=adversarial scripts/inpainting.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DATA=${DATA:-photos?crops=5000}
export EPOCHS=${EPOCHS:-4}
TEST=${TEST:-photos:test?crop=64&crops=100}
for variant in ${VARIANTS:-adversarial l2}; do
    set=""; [ "$variant" = l2 ] && set='inpainting={mask="regions", gan={weight=0.0}}'
    run=runs/inpainting-$variant
    RUN=$run SET="$set" scripts/results.sh inpainting
    "${BIN:-target/release/selfsup}" eval image --checkpoint "$run" --data "$TEST" \
        --gallery "$run/gallery.png" | tee "$run/eval-image.txt"
done
