#!/usr/bin/env bash
# The GPU checks in one short job, for a machine with an NVIDIA GPU and driver (see README, "Running on a GPU"):
#   1. the device tests (NUnit category Device and the device-name tests) on the CUDA build; a CUDA case that is
#      skipped (CUDA not available) fails the job instead of passing quietly;
#   2. the quick speedup benchmark on the device;
#   3. the BenchmarkDotNet snapshot suite (tracker snapshot of a realistic model, top triplet) on the device;
#   4. the session-memory harness on the device: a session's device memory per jump method, and what keeping the
#      velocity's sums in host memory (StateOnCpu) costs per snapshot, the device-to-host copy included.
# Everything is written to one folder (default benchmarks/results/gpu-<UTC time>).
#
# Usage: benchmarks/gpu-checks.sh [--bundle TorchSharp-cuda-linux] [--device cuda] [--dtype fp32] [--out DIR]
#                                 [--steps tests,speedup,bdn,memory] [--dry-run]
#   --dry-run prints the commands without running them. On a machine without a GPU, the plumbing can be checked
#   with --bundle TorchSharp-cpu --device cpu (for example --steps tests).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bundle=TorchSharp-cuda-linux
device=cuda
dtype=fp32
steps=tests,speedup,bdn,memory
out=""
dry_run=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bundle) bundle="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --dtype) dtype="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "gpu-checks.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for step in ${steps//,/ }; do
  case "$step" in tests|speedup|bdn|memory) ;; *) echo "gpu-checks.sh: --steps: unknown step '$step' (use tests, speedup, bdn, memory)" >&2; exit 2 ;; esac
done
[[ -n "$out" ]] || out="$root/benchmarks/results/gpu-$(date -u +%Y%m%d-%H%M%S)"

# MSBuild reads environment variables as properties: every build below, BenchmarkDotNet's own included, gets the bundle.
export TorchBundle="$bundle"
export ALPHARL_BENCH_DEVICE="$device"
benchmarks_dll="$root/AlphaRL.Benchmarks/bin/Release/net10.0/AlphaRL.Benchmarks.dll"

run() {
  echo "+ $*"
  if ! $dry_run; then "$@"; fi
}
wants() { [[ ",$steps," == *",$1,"* ]]; }

echo "GPU checks: bundle $bundle, device $device, dtype $dtype, steps $steps, results to $out"
cd "$root"
run mkdir -p "$out"
run dotnet build AlphaRL.sln -c Release -p:TorchBundle="$bundle"

if wants tests; then
  # The CUDA cases call Assert.Ignore when CUDA is absent; on a GPU job that must be a failure, not a skip.
  run dotnet test AlphaRL.Tests -c Release --no-build -p:TorchBundle="$bundle" \
    --filter "TestCategory=Device|FullyQualifiedName~ComputeDeviceTests" \
    --logger "console;verbosity=normal" --logger "trx;LogFileName=device-tests.trx" --results-directory "$out" \
    | { if $dry_run; then cat; else tee "$out/device-tests.log"; fi }
  if ! $dry_run && [[ "$device" != cpu ]] && grep -q "^  Skipped " "$out/device-tests.log"; then
    echo "gpu-checks.sh: device tests were skipped (is CUDA available to TorchSharp? see $out/device-tests.log)" >&2
    exit 1
  fi
fi

if wants speedup; then
  run dotnet "$benchmarks_dll" speedup --quick --device "$device" --dtype "$dtype" --out "$out/speedup-quick" \
    | { if $dry_run; then cat; else tee "$out/speedup-quick.log"; fi }
fi

if wants bdn; then
  run dotnet "$benchmarks_dll" --filter '*SnapshotOfRealisticModel*' '*TorchTopTripletVsReadOnce*' --artifacts "$out/bdn" \
    | { if $dry_run; then cat; else tee "$out/bdn.log"; fi }
fi

if wants memory; then
  run dotnet "$benchmarks_dll" session-memory 1024 "$out/session-memory" \
    | { if $dry_run; then cat; else tee "$out/session-memory.log"; fi }
fi

echo "GPU checks finished; results in $out"
