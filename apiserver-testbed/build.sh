#!/bin/sh
# Builds kube-apiserver, etcd, kubectl and kube-controller-manager from the upstream Go modules pinned in go.mod/go.sum
# (k8s.io/kubernetes with its staging modules, and go.etcd.io/etcd/server/v3 at the version
# Kubernetes requires) into the layout Fabric8's kube-api-test (and envtest) reads:
#
#   ${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/k8s/<version>-linux-<arch>/{kube-apiserver,etcd,kubectl}
#
# kube-controller-manager goes beside them: the harness runs only its garbage collector, which
# deletes what an owner reference ties to a deleted object, as in any cluster.
#
# Nothing is built when the binaries are already there, whoever put them there (this script
# or an envtest download). Go's module and build caches live outside the repository, so a second
# build after a `go clean` still downloads nothing it has. Safe to run concurrently: one build
# at a time holds a lock, the others wait and then find the binaries.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's/^[[:space:]]*k8s.io\/kubernetes v\([0-9.]*\).*$/\1/p' "$here/go.mod" | head -n 1)
[ -n "$version" ] || { echo "build.sh: no k8s.io/kubernetes version in $here/go.mod" >&2; exit 1; }
minor=$(echo "$version" | cut -d. -f2)
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) echo "build.sh: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
root=${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}
target="$root/k8s/$version-linux-$arch"

complete() {
  [ -x "$target/kube-apiserver" ] && [ -x "$target/etcd" ] && [ -x "$target/kubectl" ] \
    && [ -x "$target/kube-controller-manager" ]
}

if complete; then
  echo "build.sh: Kubernetes $version binaries present in $target"
  exit 0
fi
command -v go >/dev/null || { echo "build.sh: Go is needed to build the Kubernetes $version binaries" >&2; exit 1; }

mkdir -p "$root/k8s"
exec 9>"$root/k8s/.build-$version.lock"
flock 9
if complete; then
  echo "build.sh: Kubernetes $version binaries present in $target (built meanwhile)"
  exit 0
fi

# The toolchain on the machine, never a downloaded one; no VCS stamp of this repository in
# binaries that are upstream's; the version information kubectl and /version report, as the
# upstream release build stamps it.
export GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false"
stamp="-s -w -X k8s.io/component-base/version.gitVersion=v$version -X k8s.io/component-base/version.gitMajor=1"
stamp="$stamp -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
stamp="$stamp -X k8s.io/client-go/pkg/version.gitVersion=v$version"
work=$(mktemp -d "$root/k8s/.build-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT

cd "$here"
started=$(date +%s)
echo "build.sh: building Kubernetes $version from source into $target"
echo "build.sh: a cold build downloads the modules and takes about 15 minutes on 2 cores"
echo "build.sh: [1/4] kube-apiserver"
go build -ldflags "$stamp" -o "$work/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
echo "build.sh: [2/4] etcd"
go build -ldflags "-s -w" -o "$work/etcd" go.etcd.io/etcd/server/v3
echo "build.sh: [3/4] kubectl"
go build -ldflags "$stamp" -o "$work/kubectl" k8s.io/kubernetes/cmd/kubectl
echo "build.sh: [4/4] kube-controller-manager"
go build -ldflags "$stamp" -o "$work/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager
"$work/kube-apiserver" --version
rm -rf "$target"
mv "$work" "$target"
trap - EXIT
echo "build.sh: done in $(( $(date +%s) - started )) s"
