#!/usr/bin/env bash
# Makes the released model kinect20-base again (src/skeletonmae/released/kinect20-base.safetensors):
# prepares the unlabelled corpus and NW-UCLA (../shared/data), pre-trains
# configs/nw-ucla/pretrain-corpus.yaml (8 epochs, 5,312 steps: about 55 min on one core of a 2-core
# CPU; an interrupted run resumes), writes the best checkpoint's weights as safetensors and prints the
# hash that the model card records. Single-threaded runs on the same torch build repeat it bit for bit.
set -euo pipefail
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
RUN=${RUN:-runs/nw-ucla/pretrain-corpus}
RELEASE=src/skeletonmae/released/kinect20-base.safetensors
scripts/transfer_study.sh prepare
if [[ ! -f $RUN/curves.png ]]; then
  resume=(); [[ -f $RUN/last.pt ]] && resume=(--resume)
  skeletonmae pretrain --config configs/nw-ucla/pretrain-corpus.yaml --output-dir "$RUN" "${resume[@]}"
fi
skeletonmae export "$RUN/best.pt" --format safetensors --out "$RELEASE"
sha256sum "$RELEASE"
