#!/usr/bin/env bash
# A Python RL run, online, end to end: train.py trains the tiny policy in the background and saves checkpoints in a
# trainer's layout while `alpharl watch` follows the run folder, records each checkpoint as it appears, and at the end of
# each window writes the velocity candidates, scores them with eval.py and keeps the best by the hook's guard. Then
# eval.py is run again on every written checkpoint and its score must equal the kept candidate's score in the attempt's
# JSON record.
#
# Usage: samples/python-run/run-check.sh [trl|verl|bare ...]     (default: all three layouts)
# Environment: PYTHON (a python3 with torch; default /usr/bin/python3, Debian's python3-torch), WORK (default
# /tmp/alpharl-python-run, emptied), STEPS, SAVE_EVERY, LR, SEED, MIN_SNAPSHOTS, LENGTHS (see below).
# Exit 0 when every layout passed; the summary at the end gives each layout's result.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
work=${WORK:-/tmp/alpharl-python-run}
STEPS=${STEPS:-300} SAVE_EVERY=${SAVE_EVERY:-25} LR=${LR:-3e-4} SEED=${SEED:-0}
# watch's window: MIN_SNAPSHOTS checkpoints (4 × 25 steps: windows end at steps 100, 200, 300), jump lengths in window
# lengths L = e − s, s the base (step 0) or the previous window's end. Lengths up to 2 keep the targets within the run,
# so the real checkpoint at a kept target step is there to compare with.
MIN_SNAPSHOTS=${MIN_SNAPSHOTS:-4} LENGTHS=${LENGTHS:-0,0.5,1,2}
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

# Where train.py puts W0 and the checkpoint of a step, per layout.
base_path() { case $1 in bare) echo "$2/model-0.safetensors" ;; *) echo "$2/base" ;; esac; }
ckpt_path() {
  case $1 in
    trl) echo "$2/checkpoint-$3" ;;
    verl) echo "$2/global_step_$3/actor/huggingface" ;;
    bare) echo "$2/model-$3.safetensors" ;;
  esac
}
score_of() { "$PYTHON" eval.py "$1" 2>/dev/null | awk 'NF { last = $1 } END { print last }'; }

summary=()
failed=0
check_layout() {
  local layout=$1 run="$work/$1" started=$SECONDS out="$work/$1-jumps" log="$work/$1-watch.log"
  echo "=== layout $layout: $run"
  mkdir -p "$run"
  "$PYTHON" train.py --out "$run" --layout "$layout" --steps "$STEPS" --save-every "$SAVE_EVERY" --lr "$LR" --seed "$SEED" \
    2> "$work/$layout-train.log" &
  local trainer=$!
  # W0 is written first; watch needs it from the start.
  local base
  base=$(base_path "$layout" "$run")
  while [ ! -e "$base" ]; do kill -0 "$trainer" 2>/dev/null || break; sleep 0.1; done
  "${alpharl[@]}" watch "$run" --base "$base" --store "$work/$layout-store" --out "$out" --score-command "$score_command" \
    --lengths "$LENGTHS" --min-snapshots "$MIN_SNAPSHOTS" --schedule repeated --max-jumps 1 --score-timeout 120 \
    --poll-seconds 0.5 --settle-seconds 1 --exit-after 900 > "$log" 2>&1 &
  local watcher=$!
  wait "$trainer" || { echo "FAIL: train.py exited non-zero"; cat "$work/$layout-train.log"; kill "$watcher" 2>/dev/null; return 1; }
  local trained=$((SECONDS - started))
  sed 's/ -> .*//' "$work/$layout-train.log" | sed 's/^/  train: /'
  # watch stops by itself once a jump is kept; otherwise it is stopped once it has tried the run's last window.
  while kill -0 "$watcher" 2>/dev/null; do
    grep -q "a new window begins at step $STEPS" "$log" && { kill -INT "$watcher" 2>/dev/null || true; break; }
    sleep 0.5
  done
  local rc=0
  wait "$watcher" || rc=$?
  sed 's/^/  watch: /' "$log"
  if ((rc != 0 && rc != 130)); then summary+=("FAIL $layout: watch exited $rc: $(grep -v '^\s*$' "$log" | tail -1)"); return 1; fi

  # Every attempt: the kept candidate's score in the record must be eval.py's score of the written checkpoint.
  local json attempts=0 line="" ok=1
  for json in "$out"/from-step*.json; do
    [ -e "$json" ] || continue
    attempts=$((attempts + 1))
    local written=${json%.json} kept kept_score kept_length kept_step we_score rescored truth="n/a"
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
    read -r kept_score kept_length kept_step we_score <<< "$kept"
    rescored=$(score_of "$written")
    [ -e "$(ckpt_path "$layout" "$run" "$kept_step")" ] && truth=$(score_of "$(ckpt_path "$layout" "$run" "$kept_step")")
    line+=" [${written##*/}: W_e $we_score; kept j=$kept_length (step $kept_step) $kept_score; eval.py on it $rescored; real step $kept_step $truth]"
    "$PYTHON" -c 'import sys; sys.exit(float(sys.argv[1]) != float(sys.argv[2]))' "$rescored" "$kept_score" || ok=0
  done
  line="$layout: $attempts attempt(s)$line; train ${trained} s, total $((SECONDS - started)) s"
  if ((attempts == 0)); then summary+=("FAIL (no attempt) $line"); return 1; fi
  if ((ok)); then summary+=("PASS $line"); else summary+=("FAIL (a written checkpoint's score differs from its record's) $line"); return 1; fi
}

for layout in "${layouts[@]}"; do
  case $layout in trl | verl | bare) ;; *) echo "unknown layout '$layout' (trl, verl or bare)" >&2; exit 2 ;; esac
  check_layout "$layout" || failed=1
done
echo
echo "=== summary (total $((SECONDS - t0)) s)"
printf '%s\n' "${summary[@]}"
exit $failed
