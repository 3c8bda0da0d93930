#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for the tests and for trying the slurm executor.
#
#   tools/slurm_localhost.sh start DIR    # install (Debian, as root) if missing, configure, start
#   export SLURM_CONF=DIR/slurm.conf      # what sbatch, squeue, scancel ... need to find it
#   tools/slurm_localhost.sh stop DIR     # cancel every job, stop the daemons
#
# `start` installs slurm-wlm and munge with apt-get when slurmctld, slurmd or munged is
# missing (root on Debian/Ubuntu), writes DIR/slurm.conf for this machine (its hostname,
# the CPUs and memory `slurmd -C` finds, one partition `debug`), keeps every state,
# spool, log, pid and socket file under DIR (nothing under /etc or /var is used), starts
# munged, slurmctld and slurmd, and waits until the node is idle. The daemons listen on
# SLURMCTLD_PORT and SLURMD_PORT (default 6817 and 6818). Jobs run as the user who
# started the daemons. The last line `start` prints is the SLURM_CONF to export.
# Exit status: 0 when the node is idle; 3 when SLURM cannot be installed or started
# (the reason on stderr and in DIR/log/).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
conf=$dir/slurm.conf
fail() { echo "slurm_localhost: $*" >&2; exit 3; }

install_slurm() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v munged >/dev/null && return 0
    [[ $(id -u) -eq 0 ]] || fail "slurmctld/slurmd/munged are missing and only root can apt-get them"
    command -v apt-get >/dev/null || fail "slurmctld/slurmd/munged are missing and there is no apt-get"
    export DEBIAN_FRONTEND=noninteractive
    # policy-rc.d keeps the packages' own services from starting (ours run under DIR)
    apt-get install -y -q --no-install-recommends slurm-wlm munge >"$dir/apt.log" 2>&1 \
        || { apt-get update -q >>"$dir/apt.log" 2>&1 \
             && apt-get install -y -q --no-install-recommends slurm-wlm munge >>"$dir/apt.log" 2>&1; } \
        || fail "apt-get install slurm-wlm munge failed (see $dir/apt.log)"
}

write_conf() {
    local node host line
    host=$(hostname)
    node=$(hostname -s)
    # the hardware line slurmd itself detects, so the node is never invalid
    line=$(slurmd -C | head -n1)
    [[ $line == NodeName=* ]] || fail "slurmd -C printed no node line: $line"
    line=${line#NodeName=* }
    cat >"$conf" <<EOF
# one-node SLURM on $host, written by tools/slurm_localhost.sh
ClusterName=localhost
SlurmctldHost=$node(127.0.0.1)
SlurmUser=$(id -un)
SlurmdUser=root
SlurmctldPort=${SLURMCTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
KillWait=5
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 NodeHostname=$host $line State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
    mkdir -p "$dir/munge"
    chmod 700 "$dir/munge"
    [[ -s $dir/munge/munge.key ]] || {
        head -c 1024 /dev/urandom >"$dir/munge/munge.key"
        chmod 400 "$dir/munge/munge.key"
    }
    munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/munged.seed" \
        || fail "munged did not start (see $dir/log/munged.log)"
}

wait_idle() {
    local state=""
    for _ in $(seq 1 120); do
        state=$(sinfo -h -N -o %T 2>/dev/null | head -n1 || true)
        [[ $state == idle ]] && return 0
        sleep 0.5
    done
    fail "the node did not become idle within 60 s (state '${state:-none}'; see $dir/log/)"
}

start() {
    install_slurm
    mkdir -p "$dir/state" "$dir/spool" "$dir/log"
    write_conf
    export SLURM_CONF=$conf
    start_munge
    slurmctld -c -f "$conf" || fail "slurmctld did not start (see $dir/log/slurmctld.log)"
    slurmd -f "$conf" -N "$(hostname -s)" || fail "slurmd did not start (see $dir/log/slurmd.log)"
    wait_idle
    echo "SLURM_CONF=$conf"
}

stop_pid() {
    local file=$1 pid
    [[ -s $file ]] || return 0
    pid=$(cat "$file")
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

stop() {
    export SLURM_CONF=$conf
    if [[ -f $conf ]]; then
        local jobs
        jobs=$(squeue -h -o %i 2>/dev/null || true)
        [[ -z $jobs ]] || scancel $jobs 2>/dev/null || true
    fi
    stop_pid "$dir/slurmd.pid"
    stop_pid "$dir/slurmctld.pid"
    stop_pid "$dir/munge/munged.pid"
}

case $action in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
