#!/usr/bin/env bash
# Builds the real node's add-ons from their own Go modules (hack/addons/<name>/go.mod): CoreDNS
# (with only the plugins cluster DNS uses) and metrics-server, into the devcluster's binary cache.
# Idempotent and cached like build-devcluster.sh: a binary is rebuilt only when its go.mod or
# go.sum (the pins) or the recipe below change; builds go to a temporary file moved in whole.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_VERSION="${K8S_VERSION:-$(sed -n 's/^K8S_VERSION = "\(.*\)"$/\1/p' "$here/devcluster/versions.py")}"
BIN_DIR="${BIN_DIR:-${FRAUDOPS_BIN_DIR:-$HOME/.cache/fraudops/bin/$K8S_VERSION}}"
mkdir -p "$BIN_DIR"

build() {
  local name="$1" package="$2" module="$here/addons/$1" key stamp start
  key="$(cat "$module/go.mod" "$module/go.sum" "$module"/*.go | sha256sum | cut -c1-16) recipe 1"
  stamp="$BIN_DIR/.$name-recipe"
  if [[ -x "$BIN_DIR/$name" && "$(cat "$stamp" 2>/dev/null)" == "$key" ]]; then
    echo "$name already in $BIN_DIR"
    return
  fi
  echo "building $name into $BIN_DIR with $(go version)"
  start=$(date +%s)
  (cd "$module" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$BIN_DIR/.$name.part" "$package")
  mv -f "$BIN_DIR/.$name.part" "$BIN_DIR/$name"
  echo "$key" >"$stamp"
  echo "built $name in $(( $(date +%s) - start ))s"
}

build coredns .
build metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server
