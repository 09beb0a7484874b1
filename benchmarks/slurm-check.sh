#!/usr/bin/env bash
# predict --shard i/n and merge on a real Slurm: installs Slurm and MUNGE from Debian's packages if missing, starts a
# one-node cluster on this machine, submits benchmarks/slurm/predict-array.sbatch as an array of N tasks and
# benchmarks/slurm/merge.sbatch with --dependency=afterok on it (the commands and files docs/offline.md shows), then
# checks the merged checkpoint byte-identical to the same predict run as one process. Prints PASS or FAIL; exits 1 on
# FAIL. Not part of the unit suite. Needs root (apt-get, munged, slurmd) and a Debian with slurm-wlm.
#   benchmarks/slurm-check.sh [WORK [N]]     # defaults: /tmp/alpharl-slurm, 3 parts
# WORK holds everything: the series (benchmarks/slurm/make-series.py), the snapshot store, the published tool, the
# cluster's slurm.conf, state and logs, the job outputs. Re-runnable: the series and the store are kept, the outputs,
# the cluster state and the daemons of an earlier run are replaced. The daemons started here are stopped at the end;
# a munged already running is used and left running.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
WORK=$(mkdir -p "${1:-/tmp/alpharl-slurm}" && cd "${1:-/tmp/alpharl-slurm}" && pwd)
N=${2:-3}
TARGET=180
NODE=$(hostname -s)
START=$SECONDS
say() { printf '[%4ds] %s\n' $((SECONDS - START)) "$*"; }
[ "$(id -u)" = 0 ] || { echo "FAIL: run as root (apt-get, munged and slurmd need it)"; exit 1; }

# 1. Slurm and MUNGE from Debian's packages.
if ! command -v slurmctld > /dev/null || ! command -v slurmd > /dev/null || ! command -v munged > /dev/null; then
  say "installing slurm-wlm and munge (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=1800 slurm-wlm munge > "$WORK/apt.log" 2>&1 \
    || { tail -20 "$WORK/apt.log"; echo "FAIL: apt-get install slurm-wlm munge"; exit 1; }
fi
say "$(slurmctld -V), munge $(dpkg-query -W -f='${Version}' munge)"

# 2. Stop what an earlier run left (by the pid files it wrote), then the cluster's files.
C="$WORK/cluster"
for d in slurmd slurmctld; do
  if [ -s "$C/$d.pid" ] && kill -0 "$(cat "$C/$d.pid")" 2> /dev/null; then kill "$(cat "$C/$d.pid")"; sleep 1; fi
done
rm -rf "$C" "$WORK"/out "$WORK"/single-* "$WORK"/slurm-*.out
mkdir -p "$C/state" "$C/spool" "$C/log" "$WORK/out"
PIDS=()
MUNGED_PID=
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2> /dev/null || true; done
  if [ -n "$MUNGED_PID" ]; then kill "$MUNGED_PID" 2> /dev/null || true; fi
  say "daemons stopped"
}
trap cleanup EXIT

# 3. MUNGE: a key if there is none, munged if none answers.
if [ ! -s /etc/munge/munge.key ]; then
  say "creating /etc/munge/munge.key"
  mkdir -p /etc/munge
  if command -v mungekey > /dev/null; then mungekey --create --keyfile=/etc/munge/munge.key; else dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
if ! munge -n 2> /dev/null | unmunge > /dev/null 2>&1; then
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge
  chmod 755 /run/munge
  runuser -u munge -- /usr/sbin/munged
  MUNGED_PID=$(cat /run/munge/munged.pid)
  say "munged started (pid $MUNGED_PID)"
fi
munge -n | unmunge | grep -q 'STATUS: *Success' || { echo "FAIL: munge -n | unmunge does not succeed"; exit 1; }

# 4. A one-node cluster: this machine, 2 CPUs, no cgroups (processes tracked through /proc), no accounting.
export SLURM_CONF="$C/slurm.conf"
cat > "$SLURM_CONF" << EOF
ClusterName=alpharl-check
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$C/state
SlurmdSpoolDir=$C/spool
SlurmctldPidFile=$C/slurmctld.pid
SlurmdPidFile=$C/slurmd.pid
SlurmctldLogFile=$C/log/slurmctld.log
SlurmdLogFile=$C/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
DependencyParameters=kill_invalid_depend
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=2 RealMemory=4096 State=UNKNOWN
PartitionName=check Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -c -f "$SLURM_CONF" > "$C/log/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" > "$C/log/slurmd.out" 2>&1 &
PIDS+=($!)
for i in $(seq 1 60); do
  state=$(sinfo -h -n "$NODE" -o %t 2> /dev/null || true)
  [ "$state" = idle ] && break
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2> /dev/null || { tail -n 20 "$C"/log/*; echo "FAIL: a Slurm daemon exited (logs above)"; exit 1; }
  done
  sleep 1
done
[ "$state" = idle ] || { tail -n 20 "$C"/log/*; echo "FAIL: node $NODE is '${state:-unknown}' after 60 s, not idle (logs above)"; exit 1; }
say "cluster up: $(sinfo -h -o '%P %D node(s) %N %t, %c CPUs')"

# 5. The tool, published where the jobs run it from, and the inputs: a series and its snapshot store.
say "publishing AlphaRL.Cli"
dotnet publish "$REPO/AlphaRL.Cli" -c Release -o "$WORK/tool" --nologo -v quiet > "$WORK/publish.log" 2>&1 \
  || { tail -20 "$WORK/publish.log"; echo "FAIL: dotnet publish AlphaRL.Cli"; exit 1; }
mkdir -p "$WORK/bin"
printf '#!/bin/sh\nexec dotnet "%s/tool/AlphaRL.Cli.dll" "$@"\n' "$WORK" > "$WORK/bin/alpharl"
chmod +x "$WORK/bin/alpharl"
export PATH="$WORK/bin:$PATH" # sbatch exports the environment to the jobs (--export=ALL by default)
say "$(python3 "$HERE/slurm/make-series.py" "$WORK/series")"
for ckpt in "$WORK"/series/checkpoint-*; do
  alpharl record "$ckpt" --base "$WORK/series/base" --store "$WORK/series/store" > /dev/null
done
say "store: $(alpharl analyze --store "$WORK/series/store" | grep -E '^[0-9]+ covered')"

# 6. The documented submission: the array of N predict --shard tasks, then merge once all of them succeeded.
export ALPHARL_STORE="$WORK/series/store" ALPHARL_TARGET_STEP=$TARGET ALPHARL_OUT="$WORK/out/predicted-$TARGET"
cd "$WORK"
jobid=$(sbatch --parsable --array=0-$((N - 1)) "$HERE/slurm/predict-array.sbatch")
mergeid=$(sbatch --parsable --dependency=afterok:$jobid "$HERE/slurm/merge.sbatch")
say "submitted: sbatch --parsable --array=0-$((N - 1)) predict-array.sbatch -> $jobid; sbatch --dependency=afterok:$jobid merge.sbatch -> $mergeid"
job_field() { scontrol show job -o "$1" 2> /dev/null | grep -o "$2=[^ ]*" | cut -d= -f2; }
for i in $(seq 1 300); do
  case "$(job_field "$mergeid" JobState)" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|DEADLINE|BOOT_FAIL) break;; esac
  [ "$(job_field "$mergeid" Reason)" != DependencyNeverSatisfied ] || break # a task failed (kill_invalid_depend cancels it)
  sleep 1
done
say "jobs (scontrol show job):"
for id in "$jobid" "$mergeid"; do
  scontrol show job -o "$id" | while read -r line; do
    f() { grep -o " $1=[^ ]*" <<< " $line" | head -n 1 | cut -d= -f2; }
    label=$(f JobId); [ -z "$(f ArrayTaskId)" ] || label="$(f ArrayJobId)_$(f ArrayTaskId)"
    printf '         %-8s %-16s %-10s exit %-4s %s .. %s\n' "$label" "$(f JobName)" "$(f JobState)" "$(f ExitCode)" \
      "$(f StartTime | cut -dT -f2)" "$(f EndTime | cut -dT -f2)"
  done
done
for out in "$WORK"/slurm-*.out; do
  say "$(basename "$out"):"
  sed 's/^/         /' "$out"
done

# 7. The same prediction as one process, and the comparison.
fail=
alpharl predict --store "$ALPHARL_STORE" --target-step $TARGET --out "$WORK/single-$TARGET" > "$WORK/single.log" 2>&1 \
  || fail="the single-process predict failed: $(tail -n 1 "$WORK/single.log")"
say "single process: $(tail -n 1 "$WORK/single.log")"
[ -n "$fail" ] || [ "$(job_field "$mergeid" JobState)" = COMPLETED ] || fail="merge job $mergeid is $(job_field "$mergeid" JobState) ($(job_field "$mergeid" Reason))"
if [ -z "$fail" ]; then
  merged=$(cd "$ALPHARL_OUT" && find . -type f | sort)
  single=$(cd "$WORK/single-$TARGET" && find . -type f | sort)
  [ "$merged" = "$single" ] || fail="the merged output holds other files than the single process's: $(echo $merged) vs $(echo $single)"
fi
if [ -z "$fail" ]; then
  for f in $merged; do
    cmp "$ALPHARL_OUT/$f" "$WORK/single-$TARGET/$f" || fail="$f differs"
    say "cmp ${f#./}: $(sha256sum < "$ALPHARL_OUT/$f" | cut -c1-16) (merged) = $(sha256sum < "$WORK/single-$TARGET/$f" | cut -c1-16) (single)"
  done
fi
left=$(find "$WORK/out" -maxdepth 1 -name "predicted-$TARGET.part-*" | wc -l)
[ -n "$fail" ] || [ "$left" = 0 ] || fail="$left part folders left after merge"
if [ -n "$fail" ]; then
  echo "FAIL: $fail"
  exit 1
fi
echo "PASS: Slurm array of $N predict --shard tasks + merge (afterok) is byte-identical to one process ($(wc -l <<< "$merged") files, $((SECONDS - START)) s)"
