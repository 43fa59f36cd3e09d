# Default guest script: runs migtest (the uAPI proof) and, if the host's JDK is
# reachable through the read-only host root share, `java -version` in a chroot.
# Runs under busybox sh in the guest, cwd-independent; exit status = result.
set -u
H=/mnt/host
rc=0

echo "== /dev/vfio (6.1: container and groups only, no devices/ cdev dir)"
ls -l /dev/vfio

echo "== migtest"
"$H/migtest" 8a1c6b5e-3f0d-4c2a-9e7b-0d5f1a2b3c4d /tmp/vmt-stream.bin || rc=1

# Unloading proves the driver drops every reference it took.
if rmmod vfio_mig_test; then echo "PASS rmmod vfio_mig_test"; else echo "FAIL rmmod vfio_mig_test"; rc=1; fi

JAVA=/usr/lib/jvm/java-17-openjdk-amd64/bin/java
if [ "${RUN_JAVA:-1}" = 1 ]; then
    echo "== java -version in chroot /mnt/hostroot"
    t0=$(cut -d' ' -f1 /proc/uptime)
    if chroot /mnt/hostroot "$JAVA" -XX:-UsePerfData -version; then
        echo "PASS java -version"
    else
        echo "FAIL java -version"; rc=1
    fi
    t1=$(cut -d' ' -f1 /proc/uptime)
    echo "java -version took $(awk "BEGIN{print $t1-$t0}")s (guest uptime $t1 s)"
    # The work dir is writable at its host path inside the chroot.
    if chroot /mnt/hostroot sh -c "echo ok > '$HOST_OUT/chroot-write-check'" &&
        [ "$(cat /mnt/host/chroot-write-check)" = ok ]; then
        echo "PASS chroot writes to $HOST_OUT"
    else
        echo "FAIL chroot writes to $HOST_OUT"; rc=1
    fi
fi
exit $rc
