# Sourced by the study scripts. run STAGE DIR ARGS...: skip a finished run (curves.png is written
# last), resume an interrupted one (last.pt without curves.png), else start it.
run() {
  local stage=$1 dir=$2; shift 2
  if [[ -f $dir/curves.png ]]; then return; fi
  local resume=(); [[ -f $dir/last.pt ]] && resume=(--resume)
  # shellcheck disable=SC2068
  skeletonmae "$stage" $@ --output-dir "$dir" "${resume[@]}"
}
