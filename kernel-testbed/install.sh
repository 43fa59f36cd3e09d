#!/bin/sh
# Installs what the kernel test bed needs on a fresh Debian 12 machine (run as root).
# Idempotent: apt-get install is a no-op for packages already present, and the
# package lists are refreshed only when apt has none yet or they are older than a day.
set -eu

PKGS="qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static \
      cpio gzip gcc make kmod libc6-dev"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "install.sh: all packages present"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# Refresh the lists unless a recent update already happened.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
    apt-get update
fi
# --no-install-recommends keeps qemu from pulling in a desktop's worth of GUI libraries.
apt-get install -y --no-install-recommends $missing
