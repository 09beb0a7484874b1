#!/usr/bin/env bash
# The tool compiled ahead of time (Native AOT) writes the bytes the precompiled publish (ReadyToRun + JIT) writes on this
# machine: publishes both, runs the same commands with each on a BF16 series (alpharl-dev bench-offline) and an F32 one
# (benchmarks/slurm/make-series.py, Python standard library), and compares every output file byte for byte; then times
# both on the 285 MB series from the page cache (benchmarks/offline-store.sh, ALPHARL = AOT, COMPARE = ReadyToRun).
# Prints PASS or FAIL; exits 1 on FAIL. Needs clang and zlib1g-dev (apt-get install clang zlib1g-dev). Not part of the
# unit suite.
#   benchmarks/aot-check.sh [WORK [RUNS]]      # defaults: /tmp/alpharl-aot, 5 timed runs (0: compare outputs only)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
WORK=$(mkdir -p "${1:-/tmp/alpharl-aot}" && cd "${1:-/tmp/alpharl-aot}" && pwd)
RUNS=${2:-5}
RID=linux-x64
START=$SECONDS
say() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*"; }
command -v clang > /dev/null || { echo "FAIL: Native AOT needs clang (apt-get install clang zlib1g-dev)"; exit 1; }

say "publishing ReadyToRun and Native AOT"
dotnet build "$REPO/AlphaRL.DevTools" -c Release --nologo -v q > "$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log"; echo "FAIL: build"; exit 1; }
dotnet publish "$REPO/AlphaRL.Cli" -c Release -r $RID -o "$WORK/r2r" --nologo -v q > "$WORK/r2r.log" 2>&1 || { tail -20 "$WORK/r2r.log"; echo "FAIL: ReadyToRun publish"; exit 1; }
dotnet publish "$REPO/AlphaRL.Cli" -c Release -r $RID -p:PublishAot=true -o "$WORK/aot" --nologo -v q > "$WORK/aot.log" 2>&1 || { tail -20 "$WORK/aot.log"; echo "FAIL: Native AOT publish"; exit 1; }
DEV=(dotnet "$REPO/AlphaRL.DevTools/bin/Release/net10.0/AlphaRL.DevTools.dll")
[ -d "$WORK/bf16/base" ] || "${DEV[@]}" bench-offline --dir "$WORK/bf16" --runs 0 --layers 2 --hidden 520 --intermediate 1400 --vocab 512 > /dev/null
[ -d "$WORK/f32/base" ] || python3 "$HERE/slurm/make-series.py" "$WORK/f32" --layers 3 --rows 200 --cols 333 > /dev/null

run() { # run TOOL OUT: every command on both series, outputs under OUT
  local tool=$1 out=$2 s
  rm -rf "$out"; mkdir -p "$out"
  for s in 10 20 30 40 50; do "$tool" record "$WORK/bf16/step-$s" --step $s --base "$WORK/bf16/base" --store "$out/bf16-store" > /dev/null; done
  "$tool" predict --store "$out/bf16-store" --target-step 150 --out "$out/bf16-rank1" --json "$out/bf16-rank1.json" --force > /dev/null
  "$tool" predict --store "$out/bf16-store" --method velocity --target-step 150 --out "$out/bf16-velocity" > /dev/null
  "$tool" analyze --store "$out/bf16-store" --json "$out/bf16-analyze.json" > /dev/null
  local checkpoints=()
  for s in 10 20 30 40 50 60; do checkpoints+=(--checkpoint "$s:$WORK/f32/checkpoint-$s"); done
  "$tool" predict --base "$WORK/f32/base" "${checkpoints[@]}" --target-step 180 --out "$out/f32-rank1" --json "$out/f32-rank1.json" > /dev/null
  "$tool" predict --base "$WORK/f32/base" "${checkpoints[@]}" --method velocity --all-tensors --target-step 180 --out "$out/f32-velocity" > /dev/null
  "$tool" predict --base "$WORK/f32/base" "${checkpoints[@]}" --method direction --lengths 0,1,2 --out "$out/f32-direction" > /dev/null
  for s in 0 1; do "$tool" predict --base "$WORK/f32/base" "${checkpoints[@]}" --target-step 180 --out "$out/f32-sharded" --shard "$s/2" > /dev/null; done
  "$tool" merge --out "$out/f32-sharded" > /dev/null
  "$tool" analyze --base "$WORK/f32/base" "${checkpoints[@]}" --json "$out/f32-analyze.json" > /dev/null
}
say "running the commands with each"
run "$WORK/r2r/AlphaRL.Cli" "$WORK/out-r2r"
run "$WORK/aot/AlphaRL.Cli" "$WORK/out-aot"
# The JSON records name the folders they wrote: compare them with the folder names made equal.
files=$(cd "$WORK/out-r2r" && find . -type f | sort)
count=0 fail=
for f in $files; do
  count=$((count + 1))
  case "$f" in
    *.json) cmp -s <(sed "s#out-r2r#OUT#g" "$WORK/out-r2r/$f") <(sed "s#out-aot#OUT#g" "$WORK/out-aot/$f") || fail="$fail ${f#./}" ;;
    *) cmp -s "$WORK/out-r2r/$f" "$WORK/out-aot/$f" || fail="$fail ${f#./}" ;;
  esac
done
[ "$(cd "$WORK/out-aot" && find . -type f | sort)" = "$files" ] || fail="$fail (different file lists)"
if [ -n "$fail" ]; then echo "FAIL: Native AOT and ReadyToRun outputs differ:$fail"; exit 1; fi
say "$count output files byte-identical (JSON with the output folder's name made equal)"
if [ "$RUNS" != 0 ]; then
  say "timing on the 285 MB series, page cache warm, $RUNS runs (benchmarks/offline-store.sh)"
  VELOCITY=off ALPHARL="$WORK/aot/AlphaRL.Cli" COMPARE="$WORK/r2r/AlphaRL.Cli" JSON="$WORK/times.json" \
    "$HERE/offline-store.sh" "$WORK/bench" "$RUNS"
fi
echo "PASS: Native AOT writes the ReadyToRun publish's bytes ($count files, $((SECONDS - START)) s)"
