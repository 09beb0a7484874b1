#!/bin/sh
# Usage, from a folder holding bench/ (written by alpharl-dev bench-offline, AlphaRL.DevTools): benchmarks/watch-writer.sh & alpharl watch wrun --base bench/base --store wstore --out wpred ...
# Writes bench/step-N into wrun/global_step_N as a trainer would: config first, the weights in two halves with a pause.
for s in 10 20 30 40 50 60; do
  d=wrun/global_step_$s; mkdir -p $d; cp bench/step-$s/config.json bench/step-$s/tokenizer.json $d/
  f=bench/step-$s/model.safetensors; size=$(stat -c %s $f); half=$((size / 2))
  head -c $half $f > $d/model.safetensors; sleep 2
  tail -c +$((half + 1)) $f >> $d/model.safetensors
  echo "writer: step $s written at $(date +%T)"; sleep 3
done
