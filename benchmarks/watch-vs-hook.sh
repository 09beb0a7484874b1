#!/usr/bin/env bash
# Does `alpharl watch --method velocity --score-command` keep the candidate the hook keeps, on the hook's own series?
#
# Usage, from anywhere: benchmarks/watch-vs-hook.sh [WORK_FOLDER]      (default: a new folder under /tmp)
# Settings by environment: SEED (1), REGIME (elicit-lr1e-6), ALGORITHM (grpo), WINDOW (50), SCORE_TOL (0: scores equal),
# RECONSTRUCT (all | kept | none: which hook candidates to rebuild from the series and score, default all).
#
# 1. alpharl-dev hook-series: trains the regime with the hook as the speedup benchmark's velocity arm, saving base/ and
#    checkpoint-N/ at every snapshot of the first window, until the first jump attempt; WORK/series/hook.json (~1.5 min).
# 2. Round trips through the score command: `alpharl-dev hook-score` of the saved W_e must be hook.json's W_e score, and
#    the hook's candidates rebuilt from the series with the hook's float32 arithmetic (watch-vs-hook.py) their scores.
# 3. alpharl watch on WORK/series with the same score command, then its --json candidates against hook.json's.
# Prints tables and PASS or FAIL; exits 1 on FAIL.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SEED=${SEED:-1}
REGIME=${REGIME:-elicit-lr1e-6}
ALGORITHM=${ALGORITHM:-grpo}
WINDOW=${WINDOW:-50}
RECONSTRUCT=${RECONSTRUCT:-all}
export SCORE_TOL=${SCORE_TOL:-0}
WORK=${1:-$(mktemp -d /tmp/watch-vs-hook.XXXXXX)}
SERIES=$WORK/series

# ---- alpharl watch's options (edit here when its command line changes) -------------------------------------------------
# The hook's window: 5 snapshots, the attempt at the 5th whatever the fit says (fit threshold 1e9), the velocity's slope
# without the first SkipSnapshots snapshots (hook.json: options.skipSnapshots, window.velocitySnapshots), L = e - s with
# s = the base's step 0, and the default length grid.
WATCH_OPTS=(--method velocity --min-snapshots 5 --fit-threshold 1e9 --exit-after 300 --poll-seconds 1 --settle-seconds 0)
# -----------------------------------------------------------------------------------------------------------------------

echo "== building alpharl-dev and alpharl (Release)"
dotnet build -c Release "$ROOT/AlphaRL.DevTools" -nologo -v q
DEV=$ROOT/AlphaRL.DevTools/bin/Release/net10.0/AlphaRL.DevTools
CLI=$ROOT/AlphaRL.Cli/bin/Release/net10.0/AlphaRL.Cli
HELPER=$ROOT/benchmarks/watch-vs-hook.py
SCORE_COMMAND="$DEV hook-score --regime $REGIME --algorithm $ALGORITHM --seed $SEED"

echo "== hook-series: $REGIME $ALGORITHM seed $SEED window $WINDOW -> $SERIES"
started=$(date +%s)
"$DEV" hook-series --regime "$REGIME" --algorithm "$ALGORITHM" --seed "$SEED" --window "$WINDOW" --out "$SERIES"
echo "hook-series took $(( $(date +%s) - started )) s"

ok=1
hook() { python3 -c "import json,sys; r=json.load(open('$SERIES/hook.json')); print($1)"; }
same() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) == float(sys.argv[2]) else 1)" "$1" "$2"; }

echo "== round trip through the score command"
last=$(hook "r['window']['last']")
we_hook=$(hook "repr(r['scoreBefore'])")
we_scored=$($SCORE_COMMAND "$SERIES/checkpoint-$last" | tail -n 1)
if same "$we_hook" "$we_scored"; then verdict=ok; else verdict=DIFFERS; ok=0; fi
printf '%-28s %22s %22s  %s\n' "weights" "hook" "score command" "verdict"
printf '%-28s %22s %22s  %s\n' "W_e (checkpoint-$last)" "$we_hook" "$we_scored" "$verdict"
case $RECONSTRUCT in
  all) lengths=$(hook "' '.join(repr(c['length']) for c in r['candidates'] if not c['noJump'])") ;;
  kept) lengths=$(hook "' '.join(repr(c['length']) for c in r['candidates'] if c['kept'] and not c['noJump'])") ;;
  *) lengths= ;;
esac
for j in $lengths; do
  target=$(python3 "$HELPER" candidate "$SERIES" "$j" "$WORK/rebuilt/j-$j")
  hook_score=$(hook "repr(next(c['score'] for c in r['candidates'] if c['length'] == $j))")
  scored=$($SCORE_COMMAND "$WORK/rebuilt/j-$j" | tail -n 1)
  if same "$hook_score" "$scored"; then verdict=ok; else verdict=DIFFERS; ok=0; fi
  printf '%-28s %22s %22s  %s\n' "j=$j (step $target), rebuilt" "$hook_score" "$scored" "$verdict"
done

echo "== alpharl watch $SERIES ${WATCH_OPTS[*]} --score-command \"$SCORE_COMMAND\""
dotnet build -c Release "$ROOT/AlphaRL.Cli" -nologo -v q
rm -rf "$WORK/store" "$WORK/predicted" "$WORK/watch.json"
skip=$(hook "r['options']['skipSnapshots']")
if "$CLI" watch "$SERIES" --base "$SERIES/base" --store "$WORK/store" --out "$WORK/predicted" \
    "${WATCH_OPTS[@]}" --skip-snapshots "$skip" --score-command "$SCORE_COMMAND" --json "$WORK/watch.json"; then
  echo "== watch.json against hook.json"
  python3 "$HELPER" compare "$SERIES/hook.json" "$WORK/watch.json" || ok=0
else
  echo "alpharl watch failed (exit $?): no comparison"
  ok=0
fi

echo "work folder: $WORK"
if [ "$ok" = 1 ]; then echo PASS; else echo FAIL; exit 1; fi
