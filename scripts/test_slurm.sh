#!/usr/bin/env bash
# make test-slurm: the sweep job files of examples/slurm on a real Slurm. As root on Debian it
# installs slurm-wlm and munge when they are missing, starts a one-node cluster on this machine
# (or uses one that answers), submits examples/slurm/sweep.sbatch as an array of 4 with a small
# grid and examples/slurm/merge.sbatch with --dependency=afterok on it, cancels task 2 while it
# runs (the merge can then never start: it is cancelled), checks that a resubmission with another
# shard count is refused, resubmits task 2 alone, submits the merge again with
# --dependency=afterok on tasks 0, 1, 3 and the resubmission, and checks that the merged runs.csv
# equals a one-process `stog sweep` of the same grid, run for run (fit_seconds aside). It stops
# the daemons it started.
#
# Environment: STOG_TEST_SLURM_DIR (the work folder: config, logs, sweep; default a new one under
# /tmp, which on a running cluster of several nodes must be replaced by a folder they all see, as
# must this repository), STOG_TEST_SLURM_GRID (the grid's flags; the default gives task 2 seven
# chunks of about a second each), STOG_TEST_SLURM_WAIT (seconds to wait for jobs, default 600).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
STOG=$REPO/target/release/stog

say() { echo "test-slurm: $*"; }
fail() {
    echo "test-slurm: FAILED: $*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || fail "run as root (it installs packages and starts the Slurm daemons)"
[ -x "$STOG" ] || fail "$STOG is missing: cargo build --release --bins"
WORK=${STOG_TEST_SLURM_DIR:-$(mktemp -d /tmp/stog-test-slurm.XXXXXX)}
mkdir -p "$WORK/logs"
say "work folder $WORK"

# --- Slurm and munge -----------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge with apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >"$WORK/apt.log" 2>&1 || fail "apt-get update (see $WORK/apt.log)"
    apt-get install -y -q --no-install-recommends slurm-wlm munge >>"$WORK/apt.log" 2>&1 ||
        fail "apt-get install slurm-wlm munge (see $WORK/apt.log)"
fi
say "$(slurmd -V)"

STARTED=() # pid files of the daemons this script started, stopped on exit
stop_started() {
    local i pidfile pid
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        pidfile=${STARTED[i]}
        pid=$(cat "$pidfile" 2>/dev/null || true)
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            say "stopped $(basename "$pidfile" .pid) (pid $pid)"
        fi
    done
}
trap stop_started EXIT

# A cluster that answers (its own configuration) is used as it is; else one is started here.
if scontrol ping 2>/dev/null | grep -q "is UP" && sinfo -h -o %T 2>/dev/null | grep -qE "idle|mix"; then
    say "using the running cluster: $(sinfo -h -o '%P %D nodes %T' | head -1)"
else
    # munge: the key (the package makes one; make it if not), then munged as the munge user.
    if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        [ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create ||
            fail "cannot create /etc/munge/munge.key"
        mkdir -p /run/munge /var/log/munge /var/lib/munge
        chown munge:munge /run/munge /var/log/munge /var/lib/munge
        runuser -u munge -- munged --pid-file=/run/munge/munged.pid ||
            fail "munged did not start (see /var/log/munge/munged.log)"
        STARTED+=(/run/munge/munged.pid)
        munge -n | unmunge >/dev/null || fail "munge does not work"
        say "started munged"
    fi
    ETC=$WORK/etc
    mkdir -p "$ETC" "$WORK/state" "$WORK/spool"
    NODE=$(slurmd -C | head -1) # NodeName=<host> CPUs=... RealMemory=...
    HOST=$(hostname -s)
    cat >"$ETC/slurm.conf" <<EOF
ClusterName=stogtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=600
$NODE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    echo "CgroupPlugin=autodetect" >"$ETC/cgroup.conf"
    export SLURM_CONF=$ETC/slurm.conf
    slurmctld -i || fail "slurmctld did not start (see $WORK/slurmctld.log)"
    STARTED+=("$WORK/slurmctld.pid")
    slurmd || fail "slurmd did not start (see $WORK/slurmd.log)"
    STARTED+=("$WORK/slurmd.pid")
    for _ in $(seq 60); do
        sinfo -h -o %T 2>/dev/null | grep -q idle && break
        sleep 1
    done
    sinfo -h -o %T | grep -q idle || fail "the node did not come up: $(sinfo 2>&1; tail -5 "$WORK/slurmd.log")"
    say "started slurmctld and slurmd: $(echo "$NODE" | cut -d' ' -f1-2), partition debug idle"
fi

# --- The sweep -----------------------------------------------------------------------------------
export PATH=$REPO/target/release:$PATH
export STOG_OUT=$WORK/sweep
export STOG_GRID=${STOG_TEST_SLURM_GRID:-"--data data/breast_cancer.csv --splits data/splits_breast_cancer.csv --gates stg,ste,l1 --lambdas 0,0.01,0.1 --seeds 10"}
unset STOG_SHARDS # the job file's own default (4, as its --array line)
# On CPU: --device auto would take a GPU, which trains all seeds of a gate kind as one chunk.
export CUDA_VISIBLE_DEVICES=
say "grid: $STOG_GRID"

# The state of a job (or array task) as Slurm reports it.
state() { scontrol show job "$1" 2>/dev/null | grep -oP 'JobState=\K\S+' | head -1; }
# Waits until every job given has left PENDING/RUNNING (at most $WAIT seconds).
WAIT=${STOG_TEST_SLURM_WAIT:-600}
wait_jobs() {
    local t0=$SECONDS j s busy
    while :; do
        busy=0
        for j in "$@"; do
            s=$(state "$j")
            case $s in PENDING | RUNNING | CONFIGURING | COMPLETING | "") busy=1 ;; esac
        done
        [ $busy = 0 ] && return 0
        ((SECONDS - t0 < WAIT)) || fail "jobs $* still running after $WAIT s"
        sleep 0.5
    done
}
data_lines() { [ -f "$1" ] && echo $(($(wc -l <"$1") - 1)) || echo 0; }

ARRAY=$(sbatch --parsable --output="$WORK/logs/sweep-%A_%a.log" examples/slurm/sweep.sbatch)
ARRAY=${ARRAY%%;*}
say "submitted examples/slurm/sweep.sbatch: array job $ARRAY (tasks 0-3)"
# The merge as a user submits it at once; it can only start if every task succeeds.
EARLY=$(sbatch --parsable --output="$WORK/logs/merge-%j.log" --dependency="afterok:$ARRAY" \
    examples/slurm/merge.sbatch)
EARLY=${EARLY%%;*}
say "submitted examples/slurm/merge.sbatch: job $EARLY, --dependency=afterok:$ARRAY"

# Task 2 is cancelled once it has written its first chunk and before its last.
LAMBDAS=3
TASK2=$STOG_OUT/shards/2/runs.csv
t0=$SECONDS
while :; do
    s=$(state "${ARRAY}_2")
    n=$(data_lines "$TASK2")
    if [ "$s" = RUNNING ] && ((n >= LAMBDAS)); then break; fi
    case $s in COMPLETED | FAILED | CANCELLED | TIMEOUT) fail "task 2 ended ($s, $n runs) before it could be cancelled: a larger grid (STOG_TEST_SLURM_GRID)" ;; esac
    ((SECONDS - t0 < WAIT)) || fail "task 2 did not start"
    sleep 0.1
done
scancel "${ARRAY}_2"
wait_jobs "${ARRAY}_2"
CUT=$(data_lines "$TASK2")
say "cancelled task ${ARRAY}_2 mid-run: $(state "${ARRAY}_2"), $CUT runs on disk"
[ "$(state "${ARRAY}_2")" = CANCELLED ] || fail "task 2 is $(state "${ARRAY}_2"), not CANCELLED"
# With task 2 cancelled, the merge waiting on the whole array can never start.
reason() { scontrol show job "$1" 2>/dev/null | grep -oP '\bReason=\K\S+' | head -1; }
t0=$SECONDS
until [ "$(reason "$EARLY")" = DependencyNeverSatisfied ]; do
    ((SECONDS - t0 < 120)) || fail "merge job $EARLY: $(state "$EARLY") $(reason "$EARLY"), expected DependencyNeverSatisfied"
    sleep 0.5
done
say "merge job $EARLY: $(state "$EARLY") ($(reason "$EARLY")); cancelled, to be submitted again"
scancel "$EARLY"

# Resubmitted with another count, the task is refused and its folder left alone.
WRONG=$(sbatch --parsable --wait --array=2 --export=ALL,STOG_SHARDS=3 \
    --output="$WORK/logs/wrong-%A_%a.log" examples/slurm/sweep.sbatch 2>/dev/null || true)
WRONG=${WRONG%%;*}
grep -q "was made for shard 2/4, this run is shard 2/3" "$WORK"/logs/wrong-*_2.log ||
    fail "a resubmission with STOG_SHARDS=3 was not refused: $(cat "$WORK"/logs/wrong-*_2.log)"
say "resubmitted with STOG_SHARDS=3: job ${WRONG} $(state "${WRONG}_2"), $(grep -o 'error: .*was made for shard 2/4, this run is shard 2/3' "$WORK"/logs/wrong-*_2.log)"

RESUB=$(sbatch --parsable --array=2 --export=ALL,STOG_SHARDS=4 \
    --output="$WORK/logs/sweep-%A_%a.log" examples/slurm/sweep.sbatch)
RESUB=${RESUB%%;*}
say "resubmitted task 2: sbatch --array=2 --export=ALL,STOG_SHARDS=4 examples/slurm/sweep.sbatch -> job $RESUB"
MERGE=$(sbatch --parsable --output="$WORK/logs/merge-%j.log" \
    --dependency="afterok:${ARRAY}_0:${ARRAY}_1:${ARRAY}_3:${RESUB}" examples/slurm/merge.sbatch)
MERGE=${MERGE%%;*}
say "submitted examples/slurm/merge.sbatch: job $MERGE, --dependency=afterok:${ARRAY}_0:${ARRAY}_1:${ARRAY}_3:${RESUB}"

wait_jobs "${ARRAY}_0" "${ARRAY}_1" "${ARRAY}_3" "${RESUB}_2" "$MERGE"
for j in "${ARRAY}_0" "${ARRAY}_1" "${ARRAY}_3" "${RESUB}_2" "$MERGE"; do
    say "job $j: $(state "$j")"
    [ "$(state "$j")" = COMPLETED ] || fail "job $j is $(state "$j")"
done

echo "--- task 2, cancelled ($WORK/logs/sweep-${ARRAY}_2.log)"
cat "$WORK/logs/sweep-${ARRAY}_2.log"
echo "--- task 2, resubmitted ($WORK/logs/sweep-${RESUB}_2.log)"
cat "$WORK/logs/sweep-${RESUB}_2.log"
echo "--- merge ($WORK/logs/merge-$MERGE.log)"
grep -v '^|' "$WORK/logs/merge-$MERGE.log" | grep -v '^$' || true
echo "---"
grep -q "resuming: $CUT finished runs kept" "$WORK/logs/sweep-${RESUB}_2.log" ||
    fail "the resubmitted task 2 did not keep the $CUT runs of the cancelled one"

# --- The same grid in one process ----------------------------------------------------------------
say "one-process stog sweep of the same grid"
# shellcheck disable=SC2086 # STOG_GRID is a list of flags
"$STOG" sweep $STOG_GRID --device auto --threads 1 --jobs 1 --quiet --out-dir "$WORK/one" >/dev/null
python3 - "$STOG_OUT/runs.csv" "$WORK/one/runs.csv" <<'EOF' || fail "the merged runs.csv differs from the one-process sweep"
import csv, sys
def runs(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r.pop("fit_seconds")
    return rows
merged, one = runs(sys.argv[1]), runs(sys.argv[2])
if len(merged) != len(one):
    sys.exit(f"{len(merged)} merged runs, {len(one)} in one process")
for i, (a, b) in enumerate(zip(merged, one)):
    if a != b:
        diff = {k: (a[k], b[k]) for k in a if a[k] != b.get(k)}
        sys.exit(f"run {i} ({a['gate']} lambda {a['lambda']} seed {a['seed']}) differs: {diff}")
print(f"test-slurm: merged runs.csv: {len(merged)} runs, identical run for run to the one-process sweep (fit_seconds aside)")
EOF
say "PASSED"
