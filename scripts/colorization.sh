#!/usr/bin/env bash
# Colorization's measurements (docs/methods/colorization.md, docs/results.md): the paper's
# class-rebalanced classification and its L2 regression baseline, each pretrained on crops of
# the 9 training photos of Debian's mate-backgrounds at the same budget, then
#   - scored on crops of the 3 held-out photos beside the grey baseline (PSNR, SSIM, ab error,
#     raw and class-rebalanced AuC, saturation), with a gallery;
#   - probed on full Fashion-MNIST like every other method (scripts/results.sh).
#
#   apt-get install mate-backgrounds dataset-fashion-mnist
#   scripts/colorization.sh          # EPOCHS=6 by default (the shared 40 minutes each), into
#                                    # runs/colorization-LOSS-6ep; resumes unfinished runs
set -euo pipefail
cd "$(dirname "$0")/.."
export DATA=${DATA:-photos?crops=4000}
export EPOCHS=${EPOCHS:-6}
TEST=${TEST:-photos:test?crop=128&crops=100}
for loss in classification l2; do
    RUN=runs/colorization-$loss-${EPOCHS}ep SET="colorization.loss=\"$loss\"" scripts/results.sh colorization
done
for loss in classification l2; do
    run=runs/colorization-$loss-${EPOCHS}ep
    "${BIN:-target/release/selfsup}" eval image --checkpoint "$run" --data "$TEST" \
        --gallery "$run/gallery.png" | tee "$run/eval-image.txt"
done
