#!/usr/bin/env bash
# Synthetic imagery's measurements (docs/methods/synthetic.md, docs/results.md): the multi-task
# network trained on rendered scenes with the domain discriminator against real Fashion-MNIST
# images (`domain`, synthetic.gan.weight 0.05) and without it (`none`, weight 0), each at the
# shared budget, then
#   - the last validation's scores on the held-out scenes beside the mean-map baseline (depth
#     RMSE, mean normal angle, contour F-score), from the run's metrics.csv;
#   - a gallery of held-out scenes and test images with the network's predictions;
#   - the trunk probed on full Fashion-MNIST like every other method (scripts/results.sh).
#
#   apt-get install dataset-fashion-mnist
#   scripts/synthetic.sh                    # EPOCHS=2 by default (about the shared 40 minutes with the
#                                         # domain loss at 54 images/s); resumes unfinished runs
#   VARIANTS=none scripts/synthetic.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DATA=${DATA:-fashion-mnist}
export EPOCHS=${EPOCHS:-2}
for variant in ${VARIANTS:-domain none}; do
    set=""; [ "$variant" = none ] && set='synthetic.gan.weight=0.0'
    run=runs/synthetic-$variant
    RUN=$run SET="$set" scripts/results.sh synthetic
    python3 - "$run/metrics.csv" <<'PY' | tee "$run/eval-scenes.txt"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
val = [r for r in rows if r["split"] == "val"][-1]
base = [r for r in rows if r["split"] == "epoch" and r["depth_rmse_mean_map"]][-1]
print(f"held-out scenes after epoch {val['epoch']}: prediction / mean map")
for name, unit in (("depth_rmse", ""), ("normal_angle", " deg"), ("contour_f", "")):
    print(f"  {name:<13} {float(val[name]):8.3f} / {float(base[name + '_mean_map']):8.3f}{unit}")
PY
    "${BIN:-target/release/selfsup}" show synthetic --checkpoint "$run" --data fashion-mnist:test \
        --count 6 --out "$run"
done
