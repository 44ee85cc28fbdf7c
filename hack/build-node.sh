#!/usr/bin/env bash
# Builds what the devcluster's real node runs besides Debian's containerd and runc: kubelet,
# kube-scheduler and kube-proxy from the same pinned k8s.io/kubernetes module (and the same patched
# copy) as build-devcluster.sh, and the pause binary from the release's own pause.c.
#
# Idempotent and cached like build-devcluster.sh: when every binary is in BIN_DIR and the recipe
# stamp matches, it returns at once; a build happens in a temporary folder and is moved in whole.
# Run after build-devcluster.sh, so the packages the binaries share come from Go's build cache.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version_file="$here/devcluster/versions.py"
K8S_VERSION="${K8S_VERSION:-$(sed -n 's/^K8S_VERSION = "\(.*\)"$/\1/p' "$version_file")}"
BIN_DIR="${BIN_DIR:-${FRAUDOPS_BIN_DIR:-$HOME/.cache/fraudops/bin/$K8S_VERSION}}"
BINS=(kubelet kube-scheduler kube-proxy pause)
recipe="kubernetes $K8S_VERSION node: kubelet kube-scheduler kube-proxy pause, recipe 1"
stamp="$BIN_DIR/.node-recipe"

missing=()
for b in "${BINS[@]}"; do
  [[ -x "$BIN_DIR/$b" ]] || missing+=("$b")
done
if ((${#missing[@]} == 0)) && [[ "$(cat "$stamp" 2>/dev/null)" == "$recipe" ]]; then
  echo "node binaries for $K8S_VERSION already in $BIN_DIR"
  exit 0
fi

if ! grep -q "k8s.io/kubernetes $K8S_VERSION\$" "$here/go.mod"; then
  echo "hack/go.mod does not pin k8s.io/kubernetes $K8S_VERSION (versions.py says so)" >&2
  exit 1
fi

echo "building ${BINS[*]} ($K8S_VERSION) into $BIN_DIR with $(go version)"
start=$(date +%s)
mkdir -p "$BIN_DIR"
stage="$(mktemp -d "$BIN_DIR/.build-node.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

source "$here/lib/k8s-build.sh"
cd "$here"
k8s_patched_modfile "$here" "$stage"

# The sandbox ("pause") container's only process: upstream's pause.c, static, so its image needs
# nothing else (see devcluster/images.py).
gcc -Os -static -Wall -Werror -DVERSION="$K8S_VERSION" -o "$stage/pause" \
  "$stage/kubernetes/build/pause/linux/pause.c"

CGO_ENABLED=0 go build -trimpath -modfile="$stage/go.mod" -ldflags="$(k8s_ldflags "$K8S_VERSION")" \
  -o "$stage/" ./cmd/kubelet ./cmd/kube-scheduler ./cmd/kube-proxy

for b in "${BINS[@]}"; do
  mv -f "$stage/$b" "$BIN_DIR/$b"
done
echo "$recipe" >"$stamp"
echo "built node binaries in $(( $(date +%s) - start ))s: $BIN_DIR"
