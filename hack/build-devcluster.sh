#!/usr/bin/env bash
# Builds the devcluster's binaries (kube-apiserver, kube-controller-manager, kubectl, etcd, helm)
# from hack/go.mod with this machine's Go toolchain, into a per-version cache outside the repo.
#
# Idempotent: when every binary is already in BIN_DIR it returns at once, so a warm machine never
# rebuilds. All five are built by ONE `go build` so the packages they share (client-go,
# apimachinery, grpc, ...) compile once; on 2 cores that is the difference that matters.
# Binaries are built into a temporary folder and moved in only when the build succeeded, so an
# interrupted build never leaves a half-populated cache that looks complete.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version_file="$here/devcluster/versions.py"
K8S_VERSION="${K8S_VERSION:-$(sed -n 's/^K8S_VERSION = "\(.*\)"$/\1/p' "$version_file")}"
HELM_VERSION="$(sed -n 's/^HELM_VERSION = "\(.*\)"$/\1/p' "$version_file")"
BIN_DIR="${BIN_DIR:-${FRAUDOPS_BIN_DIR:-$HOME/.cache/fraudops/bin/$K8S_VERSION}}"
BINS=(kube-apiserver kube-controller-manager kubectl etcd helm)
# What the binaries were built from; change it when the build itself changes (flags, patch), so
# machines with an older cache rebuild once.
recipe="kubernetes $K8S_VERSION, helm $HELM_VERSION, loopback-endpoints patch 1"
stamp="$BIN_DIR/.recipe"

missing=()
for b in "${BINS[@]}"; do
  [[ -x "$BIN_DIR/$b" ]] || missing+=("$b")
done
if ((${#missing[@]} == 0)) && [[ "$(cat "$stamp" 2>/dev/null)" == "$recipe" ]]; then
  echo "devcluster binaries for $K8S_VERSION already in $BIN_DIR"
  exit 0
fi
((${#missing[@]} > 0)) || missing=("${BINS[@]}")

if ! grep -q "k8s.io/kubernetes $K8S_VERSION\$" "$here/go.mod"; then
  echo "hack/go.mod does not pin k8s.io/kubernetes $K8S_VERSION (versions.py says so)" >&2
  exit 1
fi

echo "building ${missing[*]} ($K8S_VERSION) into $BIN_DIR with $(go version)"
start=$(date +%s)
mkdir -p "$BIN_DIR"
stage="$(mktemp -d "$BIN_DIR/.build.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

source "$here/lib/k8s-build.sh"
ldflags="$(k8s_ldflags "$K8S_VERSION")"
ldflags+=" -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"

cd "$here"
# The one deviation from upstream: the API server refuses loopback addresses in Endpoints and
# EndpointSlices, but devcluster pods are local processes whose pod IPs are 127.x.y.z (this machine
# may only talk to loopback), so the EndpointSlice controller could never publish them. We build
# from a copy of the pinned k8s.io/kubernetes module with only that check dropped, selected by a
# generated go.mod (-modfile) so hack/go.mod itself stays plain upstream pins.
k8s_patched_modfile "$here" "$stage"

CGO_ENABLED=0 go build -trimpath -modfile="$stage/go.mod" -ldflags="$ldflags" -o "$stage/" \
  ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kubectl ./cmd/etcd \
  helm.sh/helm/v3/cmd/helm

for b in "${BINS[@]}"; do
  mv -f "$stage/$b" "$BIN_DIR/$b"
done
echo "$recipe" >"$stamp"
echo "built devcluster binaries in $(( $(date +%s) - start ))s: $BIN_DIR"
