#!/usr/bin/env bash
# Reproduces the NW-UCLA method comparison of RESULTS.md  on a 2-core CPU, cpu-small preset:
# SkeletonMAE, AimCLR and CrosSCLR pre-trained for 20 epochs on views 1+2 without labels, each then
# evaluated through the same commands: fine-tuning with all labels (20 epochs), linear evaluation
# (40 epochs, frozen encoder) and fine-tuning with 10 % of the labels (50 epochs, batch 8, as in
# configs/sweeps/table5_nw_ucla.yaml), plus fine-tuning from scratch with all labels. Two lanes run
# side by side, one torch thread each; every run is resumable (re-running continues unfinished runs).
#   usage: scripts/nw_ucla_comparison.sh [NW_UCLA_ALL_SQE_DIR] [WORK_DIR]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
raw="${1:-$repo/../shared/data/nw_ucla/all_sqe}"
work="${2:-$PWD/nw-ucla-comparison}"
configs="$repo/configs"
mkdir -p "$work/runs" && cd "$work"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

skeletonmae prepare nw-ucla --raw "$raw" --out data/prepared/nw-ucla --no-progress

# run NAME COMMAND CONFIG [ARGS...]: one stage into runs/NAME; resumes if a last.pt exists, skips if done.
run() {
  local name="$1" command="$2" config="$3"; shift 3
  local out="runs/$name" resume=()
  [ -f "$out/done" ] && { echo "skip $name (done)"; return 0; }
  [ -f "$out/last.pt" ] && resume=(--resume)
  local start=$SECONDS
  # shellcheck disable=SC2086  # $command is "pretrain --method X" on purpose
  skeletonmae $command --config "$config" --output-dir "$out" \
    --set training.progress_bar=false --set data.num_workers=0 "${resume[@]}" "$@" > "$out.log" 2>&1
  echo "$name: $((SECONDS - start)) s wall" | tee -a "$out.log"
  touch "$out/done"
}

# the same settings as the random-strategy Table 1 cells (20 + 20 epochs; see RESULTS.md)
PRE=(--set training.epochs=20 --set "schedule.milestones=[12, 18]" --set training.eval_every=5)
# the contrastive methods' own schedule scaled to 20 epochs: mining from half-way, lr x0.1 at 5/6
PRE_CLR=(--set training.epochs=20 --set "schedule.milestones=[17]" --set training.eval_every=5
         --set contrastive.mining_start_epoch=10)
FT100=(--set training.epochs=20 --set "schedule.milestones=[12, 18]" --set training.eval_every=2)
LIN=(--set training.eval_every=2)
# as the 10 % cells of configs/sweeps/table5_nw_ucla.yaml (50 epochs, batch 8)
FT10=(--label-fraction 0.1 --set data.batch_size=8 --set training.eval_every=5)
ft="$configs/nw-ucla/finetune.yaml"
lin="$configs/nw-ucla/linear.yaml"

# evaluate METHOD: the three shared evaluations of runs/METHOD-pretrain/last.pt. The final
# checkpoint, as the contrastive papers evaluate: their queue-free validation loss rises once
# mining starts, so best.pt would skip the mining phase (for SkeletonMAE last = best here).
evaluate() {
  local ckpt="runs/$1-pretrain/last.pt"
  run "$1-finetune-100" finetune "$ft" --pretrained "$ckpt" "${FT100[@]}"
  run "$1-linear" linear "$lin" --pretrained "$ckpt" "${LIN[@]}"
  run "$1-finetune-10" finetune "$ft" --pretrained "$ckpt" "${FT10[@]}"
}

(   # lane A: SkeletonMAE and AimCLR
  run skeletonmae-pretrain pretrain "$configs/nw-ucla/pretrain.yaml" "${PRE[@]}"
  run aimclr-pretrain "pretrain --method aimclr" "$configs/contrastive/nw-ucla-aimclr.yaml" "${PRE_CLR[@]}"
  evaluate skeletonmae
  evaluate aimclr
) &
lane_a=$!
(   # lane B: CrosSCLR (three views, the costliest) and the from-scratch baseline
  run crossclr-pretrain "pretrain --method crossclr" "$configs/contrastive/nw-ucla-crossclr.yaml" "${PRE_CLR[@]}"
  evaluate crossclr
  run scratch-finetune-100 finetune "$ft" --set finetune.pretrained=null "${FT100[@]}"
) &
lane_b=$!
status=0
wait "$lane_a" || status=1
wait "$lane_b" || status=1
grep -h "s wall" runs/*.log || true
exit "$status"
