#!/usr/bin/env bash
# alpharl record and predict --store against an independent read baseline (cat > /dev/null of the same files),
# run interleaved, RUNS times; prints medians, ratios and the tool's peak resident memory (GNU time's max RSS).
#   dotnet build AlphaRL.DevTools -c Release && benchmarks/offline-store.sh /tmp/alpharl-bench 5   # builds alpharl too
#   benchmarks/offline-store.sh /tmp/alpharl-big 5 --hidden 2048 --intermediate 8192    # 1.1 GB checkpoints
# The series is the one alpharl-dev bench-offline (AlphaRL.DevTools) writes (default 8 layers, d=1024, ff=4096, vocab 4096, BF16, base + steps
# 10..60); options after RUNS go to bench-offline and choose another size (a folder keeps the size it was made with).
# COLD=1 empties the page cache before every timed command (sync; echo 3 > /proc/sys/vm/drop_caches, root only), so
# that every command, cat included, reads from disk, as with checkpoints too large to stay cached:
#   COLD=1 benchmarks/offline-store.sh /tmp/alpharl-big 5 --hidden 2048 --intermediate 8192
# COLD=checkpoint empties it too, then reads W0 and the tool back in (untimed) before every timed command: the
# checkpoint comes from disk, W0 from the cache, as in a run whose W0 is read by every record while each new checkpoint
# is read once.
# ALPHARL is the tool's command (default: dotnet on the Release build's AlphaRL.Cli.dll), e.g. the precompiled publish:
#   dotnet publish AlphaRL.Cli -c Release -r linux-x64 -o /tmp/alpharl-r2r && ALPHARL=/tmp/alpharl-r2r/AlphaRL.Cli benchmarks/offline-store.sh /tmp/alpharl-bench 5
# COMPARE is a second command of the tool, timed interleaved with the first (rows ending in -compare), e.g. the build's dll
# against the publish. VELOCITY=off records without the velocity's running sums (record --velocity off: rank-1 snapshots
# only). JSON=FILE also writes the medians and ratios there.
set -euo pipefail
COLD=${COLD:-0}
case "$COLD" in 0|1|checkpoint) ;; *) echo "COLD is 0, 1 or checkpoint, not '$COLD'" >&2; exit 2;; esac
if [ "$COLD" != 0 ] && ! [ -w /proc/sys/vm/drop_caches ]; then echo "COLD=$COLD needs root (it writes /proc/sys/vm/drop_caches)" >&2; exit 2; fi
DIR=${1:-/tmp/alpharl-bench}
RUNS=${2:-5}
shift $(( $# < 2 ? $# : 2 ))
VELOCITY=${VELOCITY:-on}
case "$VELOCITY" in on|off) ;; *) echo "VELOCITY is on or off, not '$VELOCITY'" >&2; exit 2;; esac
read -r -a CLI <<< "${ALPHARL:-dotnet $(dirname "$0")/../AlphaRL.Cli/bin/Release/net10.0/AlphaRL.Cli.dll}"
read -r -a COMPARE_CLI <<< "${COMPARE:-}"
DEV=(dotnet "$(dirname "$0")/../AlphaRL.DevTools/bin/Release/net10.0/AlphaRL.DevTools.dll")
"${DEV[@]}" bench-offline --dir "$DIR" --runs 0 "$@"
rm -rf "$DIR/store-50" "$DIR"/store-run-* "$DIR"/pred-*
for s in 10 20 30 40 50; do "${CLI[@]}" record "$DIR/step-$s" --step "$s" --base "$DIR/base" --store "$DIR/store-50" --velocity "$VELOCITY" > /dev/null; done
cat "$DIR"/base/*.safetensors "$DIR"/step-60/*.safetensors > /dev/null # warm the page cache (COLD=1 empties it again)
timed() { # timed LABEL CMD...: appends "LABEL seconds maxrss_kb" to $OUT
  local label=$1; shift
  sync # no command pays for the previous one's writes still being flushed
  if [ "$COLD" != 0 ]; then echo 3 > /proc/sys/vm/drop_caches; fi
  if [ "$COLD" = checkpoint ]; then cat "$DIR"/base/*.safetensors > /dev/null; "${CLI[@]}" --version > /dev/null; fi
  /usr/bin/time -f "%e %M" -o "$DIR/.time" "$@" > /dev/null
  echo "$label $(cat "$DIR/.time")" >> "$OUT"
}
OUT="$DIR/times.txt"; : > "$OUT"
RAM=$(mktemp -d -p /dev/shm alpharl-bench.XXXXXX); trap 'rm -rf "$RAM"' EXIT
for i in $(seq 1 "$RUNS"); do
  cp -r "$DIR/store-50" "$DIR/store-run-$i"
  timed cat-last sh -c "cat '$DIR'/step-60/*.safetensors > /dev/null"
  timed record "${CLI[@]}" record "$DIR/step-60" --step 60 --store "$DIR/store-run-$i"
  timed cat-base-last sh -c "cat '$DIR'/base/*.safetensors '$DIR'/step-60/*.safetensors > /dev/null"
  timed predict "${CLI[@]}" predict --store "$DIR/store-run-$i" --target-step 180 --out "$DIR/pred-$i"
  timed cp-last cp -r "$DIR/step-60" "$DIR/copy-$i"
  timed cp-last-ram cp -r "$DIR/step-60" "$RAM/copy-$i" # into tmpfs: writing without a disk behind it
  # dd reads and writes through user memory, as predict must; cp copies inside the kernel (copy_file_range).
  timed dd-last sh -c "mkdir '$DIR/dd-$i' && for f in '$DIR'/step-60/*.safetensors; do dd if=\"\$f\" of='$DIR/dd-$i'/\"\$(basename \"\$f\")\" bs=4M status=none; done"
  timed analyze "${CLI[@]}" analyze --store "$DIR/store-run-$i"
  timed startup "${CLI[@]}" --version
  rm -rf "$DIR/store-run-$i" "$DIR/pred-$i" "$DIR/copy-$i" "$RAM/copy-$i" "$DIR/dd-$i"
  if [ ${#COMPARE_CLI[@]} -gt 0 ]; then
    cp -r "$DIR/store-50" "$DIR/store-run-$i"
    timed record-compare "${COMPARE_CLI[@]}" record "$DIR/step-60" --step 60 --store "$DIR/store-run-$i"
    timed predict-compare "${COMPARE_CLI[@]}" predict --store "$DIR/store-run-$i" --target-step 180 --out "$DIR/pred-$i"
    timed analyze-compare "${COMPARE_CLI[@]}" analyze --store "$DIR/store-run-$i"
    timed startup-compare "${COMPARE_CLI[@]}" --version
    rm -rf "$DIR/store-run-$i" "$DIR/pred-$i"
  fi
done
python3 - "$OUT" "$COLD" "$VELOCITY" "${JSON:-}" <<'PY'
import sys, json, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
t = {}; m = {}
for label, sec, rss in rows:
    t.setdefault(label, []).append(float(sec)); m.setdefault(label, []).append(int(rss))
med = {k: st.median(v) for k, v in t.items()}
for k, v in t.items():
    print(f"{k:14s} median {med[k]:6.2f} s  runs {' '.join(f'{x:.2f}' for x in v)}  max RSS {max(m[k]) / 1024:.0f} MB")
print(f"record / cat(step-60)            = {med['record'] / med['cat-last']:.2f}x")
print(f"record / cat(base + step-60)     = {med['record'] / med['cat-base-last']:.2f}x")
print(f"predict --store / cat(base + step-60) = {med['predict'] / med['cat-base-last']:.2f}x")
print(f"predict --store / cp -r step-60 (read it and write as much) = {med['predict'] / med['cp-last']:.2f}x")
print(f"predict --store / dd of step-60's weights (read and written through user memory) = {med['predict'] / med['dd-last']:.2f}x")
print(f"cp -r step-60 into tmpfs / cat(base + step-60) = {med['cp-last-ram'] / med['cat-base-last']:.2f}x (writing the output, without a disk)")
print({"1": "page cache emptied before every timed command (COLD=1): every read is from disk",
       "checkpoint": "page cache emptied, then W0 read back in, before every timed command (COLD=checkpoint): checkpoints from disk, W0 cached"}
      .get(sys.argv[2], "inputs in the page cache"))
print(f"(.NET start-up alone, alpharl --version: {med['startup']:.2f} s, included in both tool timings)")
print(f"record --velocity {sys.argv[3]}")
for k in ("record", "predict", "analyze", "startup"):
    if k + "-compare" in med:
        print(f"{k}: ALPHARL / COMPARE = {med[k] / med[k + '-compare']:.2f}x ({med[k]:.2f} s / {med[k + '-compare']:.2f} s)")
if sys.argv[4]:
    ratios = {"record_over_cat_checkpoint": med['record'] / med['cat-last'],
              "record_over_cat_base_and_checkpoint": med['record'] / med['cat-base-last'],
              "predict_store_over_cat_base_and_checkpoint": med['predict'] / med['cat-base-last'],
              "predict_store_over_cp": med['predict'] / med['cp-last'],
              "predict_store_over_dd": med['predict'] / med['dd-last']}
    json.dump({"cold": sys.argv[2], "velocity": sys.argv[3], "runs": len(t['record']),
               "median_seconds": med, "max_rss_mb": {k: max(v) / 1024 for k, v in m.items()}, "ratios": ratios},
              open(sys.argv[4], "w"), indent=2)
PY
