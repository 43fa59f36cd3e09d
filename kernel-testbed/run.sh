#!/bin/bash
# Boots the Debian 6.1 kernel under QEMU with the VFIO stack and the
# vfio_mig_test driver, runs a guest script and fails if it fails or times out.
#
#   kernel-testbed/run.sh                 # builds everything, runs guest/guest.sh
#   GUEST_SCRIPT=my.sh kernel-testbed/run.sh
#
# Environment:
#   KVER          kernel version to boot and build for (default: newest installed
#                 linux-image that has headers)
#   OUT           work dir shared into the guest as 9p tag "host" (default:
#                 kernel-testbed/out); the guest sees it at /mnt/host
#   GUEST_SCRIPT  script the guest runs with busybox sh (default: guest/guest.sh)
#   TIMEOUT       seconds before the guest is killed (default 540)
#   ACCEL         QEMU accelerator (default tcg). kvm does not work on this
#                 workplace's machines although /dev/kvm exists: nested KVM
#                 aborts setting MSR 0x10a, or hangs with -arch-capabilities
#   CPU           QEMU -cpu model (default max under tcg, host under kvm)
#   VMT_MEM_SIZE_MB  BAR0 size of each test device (default 16)
#   RUN_JAVA      1 (default) runs `java -version` in the guest; 0 skips it
#   GUEST_VARS    names of further variables to export to the guest script,
#                 e.g. GUEST_VARS="AGENT_CLASSPATH AGENT_JAVA"
#   GUEST_NET     1 gives the guest a virtio NIC on QEMU's user network (the
#                 host is 10.0.2.2 there); default 0, no network at all
#   PEER_NET      listen:PORT or connect:PORT: one more NIC, on a network of
#                 two guests (QEMU's socket netdev on 127.0.0.1:PORT; start the
#                 listening guest first); PEER_MAC is its MAC address
#   SHARE         a host directory shared read-write too (9p tag "share"), at
#                 its host path inside the chroot: what several guests hold in
#                 common, such as a cluster's storage, keys and certificates
# The host's / is shared read-only as tag "hostroot" (/mnt/hostroot in the
# guest) with the guest's /proc, /sys, /dev, a tmpfs /tmp and the rw work dir
# (at its host path, $HOST_OUT in the guest) mounted on top, so a guest script
# can run the host JDK and any jar with `chroot /mnt/hostroot ...`.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$HERE/out}
GUEST_SCRIPT=${GUEST_SCRIPT:-$HERE/guest/guest.sh}
TIMEOUT=${TIMEOUT:-540}
ACCEL=${ACCEL:-tcg}
# -cpu max under nested KVM fails to set MSR 0x10a; host is the KVM choice.
if [ "$ACCEL" = kvm ]; then CPU=${CPU:-host}; else CPU=${CPU:-max}; fi
VMT_MEM_SIZE_MB=${VMT_MEM_SIZE_MB:-16}
RUN_JAVA=${RUN_JAVA:-1}
GUEST_NET=${GUEST_NET:-0}
MODULES="virtio_pci 9pnet_virtio 9p vfio vfio_iommu_type1 mdev"
NIC="-nic none"
if [ "$GUEST_NET" = 1 ]; then
    MODULES="$MODULES virtio_net"
    NIC="-nic user,model=virtio-net-pci"
fi
if [ -n "${PEER_NET:-}" ]; then
    case "$PEER_NET" in
        listen:*|connect:*) ;;
        *) die "PEER_NET is listen:PORT or connect:PORT, not $PEER_NET" ;;
    esac
    MODULES="$MODULES virtio_net"
    NIC="$NIC -netdev socket,id=peer,${PEER_NET%%:*}=127.0.0.1:${PEER_NET#*:}"
    NIC="$NIC -device virtio-net-pci,netdev=peer,mac=${PEER_MAC:-52:54:00:00:00:01}"
fi
SHARE_ARGS=()
if [ -n "${SHARE:-}" ]; then
    SHARE_ARGS=(-virtfs "local,path=$SHARE,mount_tag=share,security_model=none,multidevs=remap")
fi

die() { echo "run.sh: $*" >&2; exit 1; }

if [ -z "${KVER:-}" ]; then
    for d in $(ls /lib/modules 2>/dev/null | sort -V -r); do
        if [ -e "/boot/vmlinuz-$d" ] && [ -e "/lib/modules/$d/build/Makefile" ]; then
            KVER=$d; break
        fi
    done
fi
[ -n "${KVER:-}" ] || die "no kernel with headers installed: run kernel-testbed/install.sh"
KERNEL=/boot/vmlinuz-$KVER
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run install.sh"
# The initramfs has no libc: only busybox-static's /bin/busybox will do.
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" \
    || die "busybox-static missing: run install.sh"

start=$(date +%s)
mkdir -p "$OUT"
# Two runs sharing one OUT would read each other's results.
exec 9>"$OUT/.lock"
flock -n 9 || die "another run.sh is using $OUT"
rm -f "$OUT/guest.rc" "$OUT/guest.log" "$OUT/console.log" "$OUT/dmesg.log"

echo "run.sh: building for $KVER"
make -s -C "$HERE/vfio-mig-test" KVER="$KVER" >"$OUT/build.log" 2>&1 \
    || { cat "$OUT/build.log"; die "module build failed"; }
# Every guest tool (migtest, workload, ...) is static: the initramfs has no libc.
for src in "$HERE"/guest/*.c; do
    tool=$(basename "$src" .c)
    gcc -O2 -Wall -static -o "$OUT/$tool" "$src" || die "$tool build failed"
done

# The initramfs: static busybox, the modules in load order, the test driver.
IRD=$OUT/initramfs
rm -rf "$IRD"
mkdir -p "$IRD"/{bin,sbin,proc,sys,dev,tmp,mnt,etc}
cp /bin/busybox "$IRD/bin/busybox"
cp "$HERE/guest/init" "$IRD/init"
chmod +x "$IRD/init"
cp "$HERE/vfio-mig-test/vfio_mig_test.ko" "$IRD/vfio_mig_test.ko"
: > "$IRD/modules.order"
for m in $MODULES; do
    modprobe -S "$KVER" --show-depends --ignore-install "$m" \
        || die "modprobe cannot resolve $m for $KVER"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
    mkdir -p "$IRD$(dirname "$ko")"
    cp "$ko" "$IRD$ko"
    echo "$ko" >> "$IRD/modules.order"
done
(cd "$IRD" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$OUT/initramfs.gz"

cp "$GUEST_SCRIPT" "$OUT/guest.sh"
# What every guest script may source.
cp "$HERE/guest/p2p-order.sh" "$OUT/p2p-order.sh"
cat > "$OUT/testbed.env" <<ENV
VMT_MEM_SIZE_MB=$VMT_MEM_SIZE_MB
RUN_JAVA=$RUN_JAVA
HOST_OUT=$OUT
SHARE_DIR=${SHARE:-}
export RUN_JAVA HOST_OUT
ENV
# Variables named in GUEST_VARS reach the guest script too, quoted for sh.
for name in ${GUEST_VARS:-}; do
    value=${!name-}
    printf "%s='%s'\nexport %s\n" "$name" "${value//\'/\'\\\'\'}" "$name" >> "$OUT/testbed.env"
done

echo "run.sh: booting $KERNEL (accel $ACCEL, timeout ${TIMEOUT}s)"
boot=$(date +%s)
set +e
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
    -accel "$ACCEL" -cpu "$CPU" -m 2G -smp 2 -nographic -no-reboot $NIC \
    -kernel "$KERNEL" -initrd "$OUT/initramfs.gz" \
    -append "console=ttyS0 panic=-1 quiet loglevel=4" \
    -virtfs "local,path=$OUT,mount_tag=host,security_model=none,multidevs=remap" \
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
    "${SHARE_ARGS[@]}" \
    </dev/null >"$OUT/console.log" 2>&1
qrc=$?
set -e
end=$(date +%s)

if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    tail -40 "$OUT/console.log"
    die "guest timed out after ${TIMEOUT}s"
fi
[ -f "$OUT/guest.log" ] && cat "$OUT/guest.log"
if [ ! -f "$OUT/guest.rc" ]; then
    tail -40 "$OUT/console.log"
    die "guest wrote no result (qemu exit $qrc)"
fi
grc=$(cat "$OUT/guest.rc")
echo "run.sh: guest exit $grc; boot+test $((end - boot))s, total $((end - start))s"
[ "$grc" = 0 ] || die "guest test failed (see $OUT/console.log)"
# A WARN or BUG in the kernel is a failure even when every check passed.
if grep -E -q "WARNING:|BUG:|Oops|Call Trace" "$OUT/dmesg.log" 2>/dev/null; then
    grep -E -B2 -A20 "WARNING:|BUG:|Oops|Call Trace" "$OUT/dmesg.log" | head -60
    die "kernel splat in the guest (see $OUT/dmesg.log)"
fi
