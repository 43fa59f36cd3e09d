# Guest script of the agent's kernel proof (KernelBedIT, `mvn -Pkernel verify`):
# the node agent's real code, as `vfioctl` on the host's JDK in a chroot, drives
# vfio_mig_test devices through the real 6.1 VFIO uAPI, while `workload` (a
# static C program) holds a device open and uses its memory like a VM would.
#
# Needs AGENT_JAVA (a JDK's java on the host) and AGENT_CLASSPATH (the node
# agent jar and its dependencies, host paths), passed with GUEST_VARS.
# Prints one "PASS name: ..." or "FAIL name: ..." line per check; exits 1 if
# any check failed. KernelBedIT requires every check by name.
set -u
H=/mnt/host
B=$HOST_OUT/blobs          # the same directory inside and outside the chroot
G=/mnt/hostroot$B
MIG=5b0e4c9a-7d1f-4e43-a6a2-2f0c8e1d3b71
MIG2=9d3a7f21-4c6b-4e8d-a1f0-3b5c7d9e2f64
PLAIN=0c6f2d1e-93a4-4b8e-b5d7-6e1a2c3f4d50
V1=7e2b9c40-1d5a-4f63-8b27-c4e0a9f1d385
TYPES=/sys/devices/virtual/vfio_mig_test/vfio_mig_test/mdev_supported_types
rc=0
mkdir -p "$G/group"
rm -f "$G"/*.vfs "$G"/group/*.vfs

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; rc=1; }

# vfioctl ARGS...: runs the CLI, leaves its exit status in $status and its
# stdout and stderr in /tmp/out and /tmp/err, and shows both.
# Each start costs 10-20 s under TCG. Bytecode verification is a quarter of it
# (picocli ships Java 5 class files, checked by the old inference verifier) and
# proves nothing here: the classes are the build's own jars. Picocli's probe
# for Groovy closures would miss on every jar of the class path, opening each.
vfioctl() { run_cli "" "$AGENT_CLASSPATH" "$@"; }
# The same as user nobody: no CAP_SYS_PTRACE, not the workload's user. The full
# path, or busybox chroot runs its own setpriv applet, which cannot change uid.
# nobody cannot read the jars under /root/.m2, so it runs copies in the chroot's /tmp.
vfioctl_as_nobody() {
    lib=/tmp/agent-lib
    mkdir -p "/mnt/hostroot$lib"
    nobody_cp=
    for jar in $(echo "$AGENT_CLASSPATH" | tr ':' ' '); do
        cp "/mnt/hostroot$jar" "/mnt/hostroot$lib/"
        nobody_cp="$nobody_cp${nobody_cp:+:}$lib/${jar##*/}"
    done
    chmod -R a+rX "/mnt/hostroot$lib"
    run_cli "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups" "$nobody_cp" "$@"
}
run_cli() {
    as=$1 classpath=$2; shift 2
    t0=$(cut -d' ' -f1 /proc/uptime)
    # $as is a command prefix or nothing: split on purpose.
    chroot /mnt/hostroot $as "$AGENT_JAVA" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
        -XX:-UsePerfData -XX:+UnlockDiagnosticVMOptions -XX:-BytecodeVerificationRemote \
        -Dpicocli.disable.closures=true -Djna.tmpdir=/tmp -cp "$classpath" \
        dev.vfio.agent.cli.VfioCtl "$@" >/tmp/out 2>/tmp/err
    status=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    echo "\$ ${as:+$as }vfioctl $* -> exit $status ($(awk "BEGIN{print $t1-$t0}")s)"
    sed 's/^/  | /' /tmp/out /tmp/err
}
# Exit status and the patterns stdout+stderr must contain.
expect() {
    name=$1 want=$2; shift 2
    ok=1
    [ "$status" = "$want" ] || ok=0
    for pattern in "$@"; do
        cat /tmp/out /tmp/err | grep -q -- "$pattern" || { ok=0; echo "  (missing: $pattern)"; }
    done
    if [ $ok = 1 ]; then pass "$name: exit $status"; else fail "$name: exit $status, wanted $want"; fi
}

# The P2P order checks (arcs, last_arc, p2p_order, order_check): run.sh copies them here.
. /mnt/host/p2p-order.sh

# ask CMD: one command to the workload, its reply in $reply.
ask() {
    echo "$*" >&3
    read -r reply <&4
    echo "  workload: $* -> $reply"
}
# want NAME CMD REPLY: the workload answers CMD with REPLY.
want() {
    ask "$2"
    if [ "$reply" = "$3" ]; then pass "$1: $2 -> $reply"; else fail "$1: $2 -> $reply, wanted $3"; fi
}

echo "== devices: two migratable, one plain and one v1 vfio_mig_test mdev"
echo "$MIG" > "$TYPES/vfio_mig_test-mem/create" || fail "create $MIG"
echo "$MIG2" > "$TYPES/vfio_mig_test-mem/create" || fail "create $MIG2"
echo "$PLAIN" > "$TYPES/vfio_mig_test-plain/create" || fail "create $PLAIN"
echo "$V1" > "$TYPES/vfio_mig_test-v1/create" || fail "create $V1"

vfioctl devices
expect devices-list 0 "^$MIG .*STOP_COPY|P2P *RUNNING" "^$PLAIN .*vfio_mig_test-plain .* none"
# No v2 MIGRATION feature, but a region typed VFIO_REGION_TYPE_MIGRATION_DEPRECATED.
expect v1-listed 0 "^$V1 .*vfio_mig_test-v1 .* v1-unsupported"

vfioctl probe "$MIG"
expect probe-direct 0 "^migration: *STOP_COPY|P2P$" "^state: *RUNNING$" \
    "^state size: *unknown" "^opened as: *IOMMU group /dev/vfio/"

vfioctl probe "$PLAIN"
expect no-migration-refused 1 "$PLAIN: GET MIGRATION failed: ENOTTY (errno 25)" \
    "does not support VFIO migration"

vfioctl probe "$V1"
expect v1-refused-with-reason 1 \
    "$V1: MigrationProtocolV1: speaks the v1 migration region protocol, which vfio-operator does not support"

vfioctl probe /dev/zero
expect not-vfio-path-refused 1 "/dev/zero is not a VFIO device"

echo "== a workload holds $MIG and $MIG2 and fills the memory of $MIG"
mkfifo /tmp/wl.cmd /tmp/wl.reply
"$H/workload" "$MIG" /tmp/wl.cmd /tmp/wl.reply "$MIG2" </dev/null &
exec 3>/tmp/wl.cmd
exec 4</tmp/wl.reply
read -r ready <&4
echo "  workload: $ready"
P=$(echo "$ready" | sed -n 's/^ready pid=\([0-9]*\) fd=\([0-9]*\) fd2=\([0-9]*\)$/\1/p')
F=$(echo "$ready" | sed -n 's/^ready pid=\([0-9]*\) fd=\([0-9]*\) fd2=\([0-9]*\)$/\2/p')
F2=$(echo "$ready" | sed -n 's/^ready pid=\([0-9]*\) fd=\([0-9]*\) fd2=\([0-9]*\)$/\3/p')
if [ -z "$P" ] || [ -z "$F" ] || [ -z "$F2" ]; then
    fail "workload-ready: $ready"
    exit 1
fi
ls -l "/proc/$P/fd" | sed 's/^/  | /'
want workload-fills "fill 1" ok
want workload-reads "check 1" match

vfioctl probe "$MIG" --pid "$P" --fd "$F"
expect probe-held 0 "^device: *$MIG$" "^migration: *STOP_COPY|P2P$" "^state: *RUNNING$" \
    "^opened as: *fd $F of process $P (pidfd_getfd)$"

echo "== save through the workload's fd"
seq0=$(last_arc)
vfioctl save "$MIG" --pid "$P" --fd "$F" --out "$B/saved.vfs"
expect save-held 0 "^saved 16777248 bytes of $MIG state to $B/saved.vfs .* device RUNNING$"
# One device saved alone stops while its workload's other device runs: the
# order check must see that (it is the check's negative case).
order_check p2p-order-violation-detected 1 \
    "violation: $MIG left RUNNING_P2P for STOP (arc [0-9]*) while $MIG2 was RUNNING" \
    "${seq0:-0}" "$MIG" "$MIG2"
want running-after-save state RUNNING
want memory-intact-after-save "check 1" match
want workload-writes-after-save rewrite ok

echo "== the workload overwrites its memory; load the blob back through its fd"
want workload-overwrites "fill 2" ok
ask "check 1"
case "$reply" in "mismatch at "*) pass "overwritten: check 1 -> $reply";; *) fail "overwritten: check 1 -> $reply";; esac
vfioctl load "$MIG" --pid "$P" --fd "$F" --in "$B/saved.vfs"
expect load-held 0 "^loaded 16777248 bytes from $B/saved.vfs into $MIG .* device RUNNING$"
want running-after-load state RUNNING
want pattern-restored "check 1" match
want workload-writes-after-load rewrite ok

echo "== an illegal arc: the kernel's EINVAL, then recovery to RUNNING"
vfioctl set-state "$MIG" --pid "$P" --fd "$F" --to STOP,ERROR
expect illegal-arc-einval 1 "$MIG: RUNNING -> STOP$" \
    "$MIG: STOP -> ERROR failed: EINVAL (errno 22): device left in STOP" \
    "recovered: device moved from STOP back to RUNNING"
want running-after-illegal-arc state RUNNING
want memory-intact-after-illegal-arc "check 1" match

echo "== damaged blobs are refused before the device is touched"
want workload-overwrites-again "fill 3" ok
size=$(wc -c < "$G/saved.vfs")
head -c $((size / 2)) "$G/saved.vfs" > "$G/truncated.vfs"
vfioctl load "$MIG" --pid "$P" --fd "$F" --in "$B/truncated.vfs"
expect truncated-refused 1 "blob $B/truncated.vfs: truncated at byte"
want running-after-truncated state RUNNING
# A load would have replaced BAR0, and a recovery from RESUMING resets it to zeros.
want memory-unchanged-after-truncated "check 3" match
# 16 zero bytes a third of the way in land inside a chunk's payload.
cp "$G/saved.vfs" "$G/corrupted.vfs"
dd if=/dev/zero of="$G/corrupted.vfs" bs=1 count=16 seek=$((size / 3)) conv=notrunc 2>/dev/null
vfioctl load "$MIG" --pid "$P" --fd "$F" --in "$B/corrupted.vfs"
expect corrupted-refused 1 "blob $B/corrupted.vfs: CRC mismatch in chunk"
want running-after-corrupted state RUNNING
want memory-unchanged-after-corrupted "check 3" match

echo "== bad input names the device and changes nothing"
vfioctl probe --pid "$P" --fd 0
expect not-vfio-fd-refused 1 "fd 0 of process $P is .*, not a VFIO device fd"
vfioctl probe --pid "$P" --fd 99
expect missing-fd-refused 1 "process $P has no fd 99"
vfioctl_as_nobody probe "$MIG" --pid "$P" --fd "$F"
expect no-permission-refused 1 "$MIG: pidfd_getfd(fd $F of process $P) failed: EPERM (errno 1)" \
    "CAP_SYS_PTRACE"
want running-after-bad-input state RUNNING
want memory-unchanged-after-bad-input "check 3" match

echo "== both devices of the workload saved and loaded together, in the agent's P2P order"
seq0=$(last_arc)
vfioctl save-group --pid "$P" --out "$B/group" "$MIG=$F" "$MIG2=$F2"
expect save-group 0 "^saved 16777248 bytes of $MIG state to $B/group/$MIG.vfs; device RUNNING$" \
    "^saved 16777248 bytes of $MIG2 state to $B/group/$MIG2.vfs; device RUNNING$"
# Per device RUNNING > RUNNING_P2P > STOP > STOP_COPY > STOP > RUNNING_P2P > RUNNING.
order_check p2p-order-save-group 0 "^in order: 12 arcs$" "$seq0" "$MIG" "$MIG2"
want workload-overwrites-before-group-load "fill 4" ok
seq0=$(last_arc)
vfioctl load-group --pid "$P" --in "$B/group" "$MIG=$F" "$MIG2=$F2"
expect load-group 0 "^loaded 16777248 bytes into $MIG; device RUNNING$" \
    "^loaded 16777248 bytes into $MIG2; device RUNNING$"
# Per device RUNNING > RUNNING_P2P > STOP > RESUMING > STOP > RUNNING_P2P > RUNNING.
order_check p2p-order-load-group 0 "^in order: 12 arcs$" "$seq0" "$MIG" "$MIG2"
want pattern-restored-by-group-load "check 3" match

echo "== the workload ends; the devices go"
want workload-quits quit bye
exec 3>&- 4<&-
wait
echo 1 > "/sys/bus/mdev/devices/$MIG/remove" || fail "remove $MIG"
echo 1 > "/sys/bus/mdev/devices/$MIG2/remove" || fail "remove $MIG2"
echo 1 > "/sys/bus/mdev/devices/$PLAIN/remove" || fail "remove $PLAIN"
echo 1 > "/sys/bus/mdev/devices/$V1/remove" || fail "remove $V1"
if rmmod vfio_mig_test; then pass "rmmod: the driver dropped every reference"; else fail "rmmod vfio_mig_test"; fi
exit $rc
