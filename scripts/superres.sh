#!/usr/bin/env bash
# Super-resolution's measurements (docs/methods/superres.md, docs/results.md): SRGAN x4 with the
# pixel MSE as its content loss (the paper's SRGAN-MSE) and with the feature loss on the RotNet
# run's backbone (the paper's VGG loss, a selfsup network in VGG19's place), each pretrained on
# 48 px crops of the 9 training photos of Debian's mate-backgrounds for two epochs of SRResNet
# warm-up (MSE alone) and one adversarial epoch, then
#   - crops of the 3 held-out photos downsampled x4 and upsampled again, scored beside bicubic
#     upsampling (PSNR, SSIM) after the SRResNet phase (its last epoch's checkpoint) and after the
#     adversarial one, with galleries;
#   - both probed networks, the generator's trunk and the discriminator's convolutions, on full
#     Fashion-MNIST like every other method (scripts/results.sh).
#
# Variants: `mse` (the generator learns the residual over bicubic upsampling), `mse-noskip` (the
# paper's SRResNet, learning the whole upsampling), `features` (as `mse`, with the feature loss).
#
#   apt-get install mate-backgrounds dataset-fashion-mnist
#   scripts/superres.sh                     # the `mse` variant: 3 epochs of 45,000 crops (about 42
#                                           # minutes); resumes unfinished runs, re-evaluates finished ones
#   scripts/results.sh rotation             # the content network of the `features` variant, then
#   VARIANTS="mse features" scripts/superres.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DATA=${DATA:-photos?crop=48&crops=5000}
export EPOCHS=${EPOCHS:-3}
TEST=${TEST:-photos:test?crop=96&crops=100}
for variant in ${VARIANTS:-mse}; do
    set="train.checkpoint_every=1"
    [ "$variant" = features ] && set+=$'\nsuperres.content.checkpoint="runs/rotation-fmnist"'
    [ "$variant" = mse-noskip ] && set+=$'\nsuperres.bicubic_skip=false'
    run=runs/superres-$variant
    RUN=$run SET="$set" scripts/results.sh superres
    RUN=$run NETWORK=discriminator scripts/results.sh superres
    for phase in srresnet srgan; do
        # The SRResNet phase ends with the last warm-up epoch.
        warmup=$(python3 -c "import json; print(json.load(open('$run/checkpoints/last/state.json'))['config']['superres']['gan']['warmup_epochs'])")
        ckpt=$run/checkpoints/last; [ "$phase" = srresnet ] && ckpt=$(printf "%s/checkpoints/epoch-%04d" "$run" "$warmup")
        "${BIN:-target/release/selfsup}" eval image --checkpoint "$ckpt" --data "$TEST" \
            --gallery "$run/gallery-$phase.png" | tee "$run/eval-image-$phase.txt"
    done
done
