#!/usr/bin/env bash
# Reproduces the NW-UCLA numbers of RESULTS.md on a 2-core CPU (cpu-small preset):
# SkeletonMAE pre-training on views 1+2 without labels, then fine-tuning with 100 % and 10 % of the
# labels, the same two from scratch, and linear evaluation. Two lanes run side by side, one torch
# thread each; every run is resumable (re-running the script continues unfinished runs).
#   usage: scripts/nw_ucla_results.sh [NW_UCLA_ALL_SQE_DIR] [WORK_DIR]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
raw="${1:-$repo/../shared/data/nw_ucla/all_sqe}"
work="${2:-$PWD/nw-ucla-results}"
configs="$repo/configs/nw-ucla"
mkdir -p "$work" && cd "$work"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

skeletonmae prepare nw-ucla --raw "$raw" --out data/prepared/nw-ucla --no-progress

# run STAGE NAME [ARGS...]: one stage into runs/NAME; resumes if a last.pt exists, skips if done.
run() {
  local stage="$1" name="$2"; shift 2
  local out="runs/$name" resume=()
  [ -f "$out/done" ] && { echo "skip $name (done)"; return 0; }
  [ -f "$out/last.pt" ] && resume=(--resume)
  local start=$SECONDS
  skeletonmae "$stage" --config "$configs/$stage.yaml" --output-dir "$out" \
    --set training.progress_bar=false --set data.num_workers=0 "${resume[@]}" "$@" > "$out.log" 2>&1
  echo "$name: $((SECONDS - start)) s wall" | tee -a "$out.log"
  touch "$out/done"
}

PRE=(--set training.epochs=40 --set "schedule.milestones=[30, 36]")
FT100=(--set training.epochs=40 --set "schedule.milestones=[30, 36]")
FT10=(--set training.epochs=100 --set "schedule.milestones=[70, 90]" --set training.eval_every=5)
LIN=(--set training.epochs=30 --set "schedule.milestones=[20, 26]")
mkdir -p runs
ckpt=runs/pretrain/best.pt

(   # lane A: pre-train, then everything that starts from it
  run pretrain pretrain "${PRE[@]}"
  run finetune finetune-100 --pretrained "$ckpt" "${FT100[@]}"
  run finetune finetune-10 --pretrained "$ckpt" --label-fraction 0.1 "${FT10[@]}"
  run linear linear --pretrained "$ckpt" "${LIN[@]}"
) &
(   # lane B: the from-scratch baselines
  run finetune scratch-100 --set finetune.pretrained=null "${FT100[@]}"
  run finetune scratch-10 --set finetune.pretrained=null --label-fraction 0.1 "${FT10[@]}"
) &
wait
for name in pretrain finetune-100 finetune-10 scratch-100 scratch-10 linear; do
  grep -h "wall" "runs/$name.log" || true
done
