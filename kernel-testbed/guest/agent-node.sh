# Guest script of the node agent's proof on a real kernel (e2e KernelNodeIT,
# `mvn -Pkernel verify`): this guest is one of two Kubernetes nodes. The real
# node agent process (dev.vfio.agent.NodeAgent, kernel backend) runs on the
# host's JDK in a chroot and talks to the API server on the host; a "pod" is
# two workload processes in the pod's cgroup v2 directory, each holding one
# vfio_mig_test mdev. The host test drives everything through custom
# resources; guest and host meet through files in $NODE_DIR:
#
# NODE_ROLE=source (the first node; its pod is the source of everything)
#   host writes  agent.env (the agent's environment), pod.uid
#   guest writes pod.ready        the workloads hold their devices, filled
#   host writes  snapshot.done    its VfioSnapshot of the pod is Ready
#   guest writes kill.ready       it watches for the next save; the host makes
#                                 one, the guest SIGKILLs the agent while it
#                                 holds a migration data fd and restarts it
#   host writes  killed.done      that snapshot failed AgentRestarted
#   guest writes source.ready     the devices run again, memory intact
#   host writes  live.done        the live migration to the other node ended
# NODE_ROLE=target (the second node; its pod opted in as a restore target)
#   host writes  agent.env, pod.uid
#   guest writes pod.ready        the workloads hold their devices, filled
#   host writes  restore.done     the first snapshot was restored into the pod
#   guest writes overwritten      it checked the state and overwrote it
#   host writes  live.done        the live migration from the first node ended
#
# Needs AGENT_JAVA and AGENT_CLASSPATH (host paths), API_PORT, NODE_ROLE,
# NODE_DIR (host path), PEER_IP (this guest's address on the two guests'
# network), passed with GUEST_VARS, and run.sh's GUEST_NET=1 and PEER_NET.
# Prints one "PASS name: ..." or "FAIL name: ..." line per check; exits 1 if
# any check failed.
set -u
H=/mnt/host
N=/mnt/hostroot$NODE_DIR
R=/mnt/hostroot
TYPES=/sys/devices/virtual/vfio_mig_test/vfio_mig_test/mdev_supported_types
# Devices pair by address across nodes: the source's first with the target's first.
if [ "$NODE_ROLE" = source ]; then
    DEV1=7a3d1c2e-5b4f-4e61-9a8b-0c1d2e3f4a51
    DEV2=7a3d1c2e-5b4f-4e61-9a8b-0c1d2e3f4a52
else
    DEV1=8b4e2d3f-6c5a-4f72-8b9c-1d2e3f4a5b61
    DEV2=8b4e2d3f-6c5a-4f72-8b9c-1d2e3f4a5b62
fi
# The host test's own deadline is longer: the guest gives up first and says why.
PATIENCE=${NODE_PATIENCE:-480}
rc=0

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; rc=1; }
# arcs, last_arc, p2p_order, order_check: the P2P order from the driver's log.
. /mnt/host/p2p-order.sh
# await FILE: waits for the host to write FILE, at most $PATIENCE seconds.
await() {
    i=0
    while [ ! -e "$1" ]; do
        i=$((i + 1))
        [ $i -gt "$PATIENCE" ] && return 1
        sleep 1
    done
}
# await_host FILE NAME WHAT: a check that the host wrote FILE.
await_host() {
    if await "$N/$1"; then pass "$2: the host saw $3"; else fail "$2: no word from the host in ${PATIENCE}s"; fi
}

echo "== network: the API server at 127.0.0.1:$API_PORT through a relay; the other node on eth1"
ip link set lo up
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 \
    || fail "network: eth0 not configured"
ip link set eth1 up && ip addr add "$PEER_IP/24" dev eth1 || fail "network: eth1 not configured"
"$H/relay" "$API_PORT" 10.0.2.2 &

echo "== cgroup v2, for the guest and inside the chroot"
mkdir -p /sys/fs/cgroup
mount -t cgroup2 none /sys/fs/cgroup || fail "cgroup2: mount"
mount -t cgroup2 none "$R/sys/fs/cgroup" || fail "cgroup2: mount in the chroot"

echo "== a pod of two workloads, each holding one migratable mdev"
echo "$DEV1" > "$TYPES/vfio_mig_test-mem/create" || fail "create $DEV1"
echo "$DEV2" > "$TYPES/vfio_mig_test-mem/create" || fail "create $DEV2"
POD=/sys/fs/cgroup/kubepods/besteffort/pod$(cat "$N/pod.uid")
mkdir -p "$POD/workload"
# start_workload N UUID: workload N in the pod's container cgroup, talking over two FIFOs.
start_workload() {
    mkfifo "/tmp/wl$1.cmd" "/tmp/wl$1.reply"
    sh -c "echo \$\$ > $POD/workload/cgroup.procs && exec $H/workload $2 /tmp/wl$1.cmd /tmp/wl$1.reply" \
        </dev/null &
}
start_workload 1 "$DEV1"
exec 3>/tmp/wl1.cmd
exec 4</tmp/wl1.reply
read -r ready1 <&4
start_workload 2 "$DEV2"
exec 5>/tmp/wl2.cmd
exec 6</tmp/wl2.reply
read -r ready2 <&6
echo "  workload 1: $ready1; workload 2: $ready2"
# ask N CMD: one command to workload N, its reply in $reply.
ask() {
    if [ "$1" = 1 ]; then echo "$2" >&3; read -r reply <&4; else echo "$2" >&5; read -r reply <&6; fi
    echo "  workload $1: $2 -> $reply"
}
want() {
    ask "$2" "$3"
    if [ "$reply" = "$4" ]; then pass "$1: $3 -> $reply"; else fail "$1: $3 -> $reply, wanted $4"; fi
}
# holds NAME SEED1 SEED2: the devices run, hold those patterns and take writes.
holds() {
    want "device-1-running-$1" 1 state RUNNING
    want "device-2-running-$1" 2 state RUNNING
    want "memory-1-$1" 1 "check $2" match
    want "memory-2-$1" 2 "check $3" match
    want "workload-1-writes-$1" 1 rewrite ok
    want "workload-2-writes-$1" 2 rewrite ok
}
# thawed NAME: waits for the pod's cgroup to thaw (a frozen workload would never answer).
thawed() {
    i=0
    while [ "$(cat "$POD/cgroup.freeze")" != 0 ] && [ $i -lt "$PATIENCE" ]; do
        i=$((i + 1))
        sleep 1
    done
    if [ "$(cat "$POD/cgroup.freeze")" = 0 ]; then
        pass "pod-thawed-$1: cgroup.freeze 0"
    else
        fail "pod-thawed-$1: still frozen after ${PATIENCE}s"
        exit 1
    fi
}
if [ "$NODE_ROLE" = source ]; then
    want workload-1-fills 1 "fill 11" ok
    want workload-2-fills 2 "fill 22" ok
else
    want workload-1-fills 1 "fill 33" ok
    want workload-2-fills 2 "fill 44" ok
fi
procs=$(wc -l < "$POD/workload/cgroup.procs")
if [ "$procs" = 2 ]; then pass "pod-cgroup: 2 processes"; else fail "pod-cgroup: $procs processes"; fi

echo "== the node agent"
. "$N/agent.env"
# start_agent: the agent in the background, its pid in $AGENT, its output appended to agent.log.
start_agent() {
    chroot "$R" "$AGENT_JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData \
        -XX:+UnlockDiagnosticVMOptions -XX:-BytecodeVerificationRemote -Djna.tmpdir=/tmp \
        -cp "$AGENT_CLASSPATH" dev.vfio.agent.NodeAgent >> "$N/agent.log" 2>&1 &
    AGENT=$!
}
start_agent
: > "$N/pod.ready"

if [ "$NODE_ROLE" = source ]; then
    echo "== a snapshot of the pod"
    seq0=$(last_arc)
    await_host snapshot.done snapshot "it Ready"
    thawed save
    # Per device RUNNING > RUNNING_P2P > STOP > STOP_COPY > STOP > RUNNING_P2P > RUNNING.
    order_check p2p-order-snapshot 0 "^in order: 12 arcs$" "${seq0:-0}" "$DEV1" "$DEV2"
    holds save 11 22

    echo "== the agent killed in the middle of the next save"
    # The agent holds a migration data fd from STOP_COPY until the save's end.
    holds_data_fd() { ls -l "/proc/$AGENT/fd" 2>/dev/null | grep -q vfio_mig_test_mig; }
    : > "$N/kill.ready"
    i=0
    while ! holds_data_fd && [ $i -lt $((PATIENCE * 10)) ]; do
        i=$((i + 1))
        sleep 0.1
    done
    if holds_data_fd; then
        frozen=$(cat "$POD/cgroup.freeze")
        kill -9 "$AGENT"
        wait "$AGENT"
        pass "killed-mid-save: SIGKILL while the agent held a migration data fd (pod freeze $frozen)"
    else
        fail "killed-mid-save: the agent never opened a migration data fd in ${PATIENCE}s"
    fi
    start_agent
    await_host killed.done killed-snapshot "it fail AgentRestarted"
    thawed restart
    # What the restarted agent found and did, in its own words: the states the devices were in.
    replayed=$(grep "replayed journal entry" "$N/agent.log" | sed 's/.*JournalReplay *- //')
    case "$replayed" in
        *"back to RUNNING"*"thawed"*) pass "journal-replayed: $replayed";;
        *) fail "journal-replayed: nothing returned the devices to RUNNING (${replayed:-none})";;
    esac
    holds restart 11 22
    : > "$N/source.ready"

    echo "== a live migration to the other node"
    seq0=$(last_arc)
    await_host live.done live "it Succeeded"
    # Per device RUNNING > RUNNING_P2P > STOP > STOP_COPY > STOP, where it stays.
    order_check p2p-order-live-source 0 "^in order: 8 arcs$" "${seq0:-0}" "$DEV1" "$DEV2"
    # The target runs the state now: the source stays frozen with its devices stopped, so that
    # the two never diverge (docs/workload-contract.md), until its pod is deleted.
    frozen=$(cat "$POD/cgroup.freeze")
    if [ "$frozen" = 1 ]; then pass "source-frozen: cgroup.freeze 1"; else fail "source-frozen: cgroup.freeze $frozen"; fi
    # What deleting the pod would find: thawed by hand, the devices are stopped and refuse writes.
    echo 0 > "$POD/cgroup.freeze"
    want device-1-stopped 1 state STOP
    want device-2-stopped 2 state STOP
    ask 1 rewrite
    case "$reply" in "error "*) pass "source-refuses-writes: rewrite -> $reply";; *) fail "source-refuses-writes: rewrite -> $reply";; esac
else
    echo "== the first snapshot restored into this pod"
    seq0=$(last_arc)
    await_host restore.done restore "it Succeeded"
    thawed restore
    # Per device RUNNING > RUNNING_P2P > STOP > RESUMING > STOP > RUNNING_P2P > RUNNING.
    order_check p2p-order-restore 0 "^in order: 12 arcs$" "${seq0:-0}" "$DEV1" "$DEV2"
    holds restore 11 22
    want workload-1-overwrites 1 "fill 55" ok
    want workload-2-overwrites 2 "fill 66" ok
    : > "$N/overwritten"

    echo "== a live migration from the other node"
    seq0=$(last_arc)
    await_host live.done live "it Succeeded"
    thawed live
    order_check p2p-order-live-target 0 "^in order: 12 arcs$" "${seq0:-0}" "$DEV1" "$DEV2"
    holds live 11 22
fi

echo "== the end"
kill "$AGENT"
wait "$AGENT"
want workload-1-quits 1 quit bye
want workload-2-quits 2 quit bye
exec 3>&- 4<&- 5>&- 6<&-
sleep 1
echo 1 > "/sys/bus/mdev/devices/$DEV1/remove" || fail "remove $DEV1"
echo 1 > "/sys/bus/mdev/devices/$DEV2/remove" || fail "remove $DEV2"
exit $rc
