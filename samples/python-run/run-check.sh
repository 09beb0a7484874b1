#!/usr/bin/env bash
# A Python RL run, end to end: train.py trains the tiny policy in the background and saves checkpoints in a trainer's
# layout; a follower reads the series and alpharl writes the jump the score command (eval.py) guards; then eval.py is
# run again on the written checkpoint and its score must equal the score alpharl's JSON report gives the kept candidate.
#
# Usage: samples/python-run/run-check.sh [trl|verl|bare ...]     (default: all three layouts)
# Environment: PYTHON (a python3 with torch; default /usr/bin/python3, Debian's python3-torch), WORK (default
# /tmp/alpharl-python-run, emptied), FOLLOW, STEPS, SAVE_EVERY, LR, SEED, WINDOW_FIRST, WINDOW_LAST, LENGTHS (see below).
# Exit 0 when every layout passed; the summary at the end gives each layout's result.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
work=${WORK:-/tmp/alpharl-python-run}
STEPS=${STEPS:-300} SAVE_EVERY=${SAVE_EVERY:-25} LR=${LR:-3e-4} SEED=${SEED:-0}
# The window alpharl is given (checkpoints WINDOW_FIRST..WINDOW_LAST, L = their distance) and the jump lengths, in
# window lengths. Training goes on to STEPS, so the real checkpoint at a kept target step is there to compare with.
WINDOW_FIRST=${WINDOW_FIRST:-100} WINDOW_LAST=${WINDOW_LAST:-200} LENGTHS=${LENGTHS:-0,0.5,1,2}
# FOLLOW=0: do not score each checkpoint as it appears (halves the time; the trainer then has the CPU to itself).
FOLLOW=${FOLLOW:-1}
layouts=("$@")
[ ${#layouts[@]} -gt 0 ] || layouts=(trl verl bare)

"$PYTHON" -c 'import torch' 2>/dev/null || { echo "$PYTHON has no torch: apt-get install -y python3-torch python3-numpy, or set PYTHON" >&2; exit 2; }
rm -rf "$work" && mkdir -p "$work"
t0=$SECONDS
dotnet build -c Release "$repo/AlphaRL.Cli" --nologo -v:q
alpharl=("$repo/AlphaRL.Cli/bin/Release/net10.0/AlphaRL.Cli")
echo "build: $((SECONDS - t0)) s"
# The score command runs through /bin/sh in alpharl's working folder; eval.py is found there.
cd "$here"
score_command="$PYTHON eval.py"

# Where train.py puts W0 and the checkpoint of a step, per layout (the paths alpharl is given).
base_path() { case $1 in bare) echo "$2/model-0.safetensors" ;; *) echo "$2/base" ;; esac; }
ckpt_path() {
  case $1 in
    trl) echo "$2/checkpoint-$3" ;;
    verl) echo "$2/global_step_$3/actor/huggingface" ;;
    bare) echo "$2/model-$3.safetensors" ;;
  esac
}
score_of() { "$PYTHON" eval.py "$1" 2>/dev/null | awk 'NF { last = $1 } END { print last }'; }

# While the trainer runs: every checkpoint that appears must be whole at once (train.py renames it into place), so
# eval.py must read each one the first time it is seen. Logs "seen STEP after S s: SCORE".
follow_trainer() {  # $1 layout, $2 run folder, $3 trainer pid
  local seen=" " step path s
  while :; do
    local running=0
    kill -0 "$3" 2>/dev/null && running=1
    for ((step = SAVE_EVERY; step <= STEPS; step += SAVE_EVERY)); do
      path=$(ckpt_path "$1" "$2" "$step")
      [[ $seen == *" $step "* || ! -e $path ]] && continue
      s=$(score_of "$path") || true
      [[ $s =~ ^[0-9.]+$ ]] || { echo "FAIL: checkpoint $path was visible but not readable" >&2; return 1; }
      echo "  seen step $step after $((SECONDS - started)) s: score $s"
      seen+="$step "
    done
    ((running)) || break
    sleep 0.2
  done
}

# ---- The jump. PLACEHOLDER for `alpharl watch --score-command`: once it exists, this function becomes a call to
#   "${alpharl[@]}" watch "$run" --base "$base" --score-command "$score_command" --out "$out" --json "$json" ...
# started beside the trainer instead of after it (and follow_trainer's wait goes). For now: `alpharl predict` with
# the same score command on the finished window.
jump() {  # $1 layout, $2 run folder, $3 base, $4 out, $5 json; the window's --checkpoint STEP:PATH after them
  local layout=$1 run=$2 base=$3 out=$4 json=$5
  shift 5
  "${alpharl[@]}" predict --base "$base" "$@" --method velocity --all-tensors --lengths "$LENGTHS" \
    --score-command "$score_command" --score-timeout 120 --out "$out" --json "$json"
}

summary=()
failed=0
check_layout() {
  local layout=$1 run="$work/$1" started=$SECONDS
  echo "=== layout $layout: $run"
  "$PYTHON" train.py --out "$run" --layout "$layout" --steps "$STEPS" --save-every "$SAVE_EVERY" --lr "$LR" --seed "$SEED" \
    2> "$work/$layout-train.log" &
  local trainer=$!
  if ((FOLLOW)); then follow_trainer "$layout" "$run" "$trainer" || { wait "$trainer" || true; return 1; }; fi
  wait "$trainer" || { echo "FAIL: train.py exited non-zero"; cat "$work/$layout-train.log"; return 1; }
  sed 's/ -> .*//' "$work/$layout-train.log" | sed 's/^/  train: /'
  local trained=$((SECONDS - started))

  local base args=() step
  base=$(base_path "$layout" "$run")
  for ((step = WINDOW_FIRST; step <= WINDOW_LAST; step += SAVE_EVERY)); do args+=(--checkpoint "$step:$(ckpt_path "$layout" "$run" "$step")"); done
  local out="$work/$layout-jumped" json="$work/$layout-jump.json" t1=$SECONDS rc=0 how=""
  jump "$layout" "$run" "$base" "$out" "$json" "${args[@]}" > "$work/$layout-alpharl.log" 2>&1 || rc=$?
  if ((rc != 0)) && [ "$layout" = bare ]; then
    # alpharl opens checkpoint folders only: give it each bare file as the model.safetensors of a folder of symlinks.
    echo "  alpharl did not read the bare files (exit $rc):"
    sed 's/^/    /' "$work/$layout-alpharl.log"
    summary+=("bare files NOT READ by alpharl predict (exit $rc): $(grep -v '^\s*$' "$work/$layout-alpharl.log" | tail -1)")
    echo "  retrying with each file linked as model.safetensors of a folder under $work/bare-folders"
    local wrap="$work/bare-folders" file
    for file in "$run"/model-*.safetensors; do
      step=${file##*/model-}; step=${step%.safetensors}
      mkdir -p "$wrap/step-$step" && ln -s "$file" "$wrap/step-$step/model.safetensors"
    done
    base="$wrap/step-0" args=()
    for ((step = WINDOW_FIRST; step <= WINDOW_LAST; step += SAVE_EVERY)); do args+=(--checkpoint "$step:$wrap/step-$step"); done
    how=" (files linked into folders)" rc=0
    jump "$layout" "$run" "$base" "$out" "$json" "${args[@]}" > "$work/$layout-alpharl.log" 2>&1 || rc=$?
  fi
  if ((rc != 0)); then
    echo "  alpharl did not accept the $layout layout (exit $rc):"
    sed 's/^/    /' "$work/$layout-alpharl.log"
    summary+=("FAIL $layout$how: NOT READ by alpharl predict (exit $rc): $(grep -v '^\s*$' "$work/$layout-alpharl.log" | tail -1)")
    return 1
  fi
  sed 's/^/  alpharl: /' "$work/$layout-alpharl.log"
  local jumped=$((SECONDS - t1))

  # The kept candidate and W_e's score, from the JSON report.
  local kept
  kept=$("$PYTHON" - "$json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["candidates"]
kept = [x for x in c if x["kept"]]
we = [x for x in c if x["no_jump"]]
assert len(kept) == 1 and len(we) == 1, c
k = kept[0]
print(f'{k["score"]!r} {k["length"]} {k["target_step"]} {we[0]["score"]!r}')
PY
)
  local kept_score kept_length kept_step we_score
  read -r kept_score kept_length kept_step we_score <<< "$kept"
  local rescored
  rescored=$(score_of "$out")
  local truth="n/a"
  [ -e "$(ckpt_path "$layout" "$run" "$kept_step")" ] && truth=$(score_of "$(ckpt_path "$layout" "$run" "$kept_step")")
  local line="$layout$how: W_e (step $WINDOW_LAST) $we_score; kept j=$kept_length (step $kept_step) $kept_score; eval.py on $out: $rescored; real step $kept_step: $truth; train+follow ${trained} s, alpharl ${jumped} s"
  if "$PYTHON" -c 'import sys; sys.exit(float(sys.argv[1]) != float(sys.argv[2]))' "$rescored" "$kept_score"; then
    summary+=("PASS $line")
  else
    summary+=("FAIL (score of the written checkpoint differs from the report's) $line")
    return 1
  fi
}

for layout in "${layouts[@]}"; do
  case $layout in trl | verl | bare) ;; *) echo "unknown layout '$layout' (trl, verl or bare)" >&2; exit 2 ;; esac
  check_layout "$layout" || failed=1
done
echo
echo "=== summary (total $((SECONDS - t0)) s)"
printf '%s\n' "${summary[@]}"
exit $failed
