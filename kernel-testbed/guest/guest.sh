# Default guest script: runs migtest, the uAPI proof.
# Runs under busybox sh in the guest, cwd-independent; exit status = result.
set -u
H=/mnt/host
rc=0

echo "== migtest"
"$H/migtest" 8a1c6b5e-3f0d-4c2a-9e7b-0d5f1a2b3c4d /tmp/vmt-stream.bin || rc=1

exit $rc
