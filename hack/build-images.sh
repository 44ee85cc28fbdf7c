#!/usr/bin/env bash
# Builds the operator, training and serving images (Dockerfile targets) without a container
# engine: a Debian bookworm base made by mmdebstrap from apt's configured sources, then buildah
# (vfs storage, chroot isolation, --pull=never) on top of it. Results are OCI archives in
# $IMAGES_DIR (default ~/.cache/fraudops/images), named by a hash of everything that goes in, so an
# unchanged tree costs nothing and a code change only adds a new code layer (seconds).
#
#   hack/build-images.sh [--manifest FILE] [component ...]   (default: operator training serving)
#
# Components: the Dockerfile's targets, the node's single-binary images (pause, coredns,
# metrics-server), the bundled services' devcluster images (postgresql, redis, prometheus,
# seaweedfs) and KServe's controller (kserve).
#
# The manifest (one line per image: component, image reference, archive path) is what the
# devcluster imports into its node's containerd. pip/uv inside the build trust the host's CA
# bundle through a bind mount, never baked into a layer; the host's uv cache is mounted too, so
# wheels downloaded once on this machine are not downloaded again.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGES_DIR="${IMAGES_DIR:-$HOME/.cache/fraudops/images}"
manifest=""
components=()
while (($#)); do
  case "$1" in
    --manifest) manifest="$2"; shift 2 ;;
    *) components+=("$1"); shift ;;
  esac
done
((${#components[@]})) || components=(operator training serving)

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/pyproject.toml" | head -1)"
registry="ghcr.io/fraudops"
storage=(--root "$IMAGES_DIR/storage" --runroot "$IMAGES_DIR/run" --storage-driver vfs)
mkdir -p "$IMAGES_DIR"
[[ -z "$manifest" ]] || : >"$manifest"

# --- the base: Debian bookworm, python3 and its venv module, libgomp for the learners ---------
base_packages="python3,python3-venv,libgomp1,ca-certificates"
base_recipe="mmdebstrap --variant=apt bookworm $base_packages, recipe 1"
base_key="$(printf '%s' "$base_recipe" | sha256sum | cut -c1-16)"
base_ref="localhost/fraudops-base:$base_key"
# Built on the first component that needs it, so a run where every archive exists touches no
# container storage at all (and never waits for another build's storage lock).
ensure_base() {
  if buildah "${storage[@]}" inspect --type image "$base_ref" >/dev/null 2>&1; then
    return
  fi
  echo "building base image $base_ref (mmdebstrap, Debian bookworm)"
  t0=$(date +%s)
  work="$(mktemp -d "$IMAGES_DIR/.base.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  mmdebstrap --quiet --variant=apt --include="$base_packages" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    bookworm "$work/rootfs.tar"
  ctr="$(buildah "${storage[@]}" from --pull=never scratch)"
  buildah "${storage[@]}" add "$ctr" "$work/rootfs.tar" / >/dev/null
  buildah "${storage[@]}" config --env PATH=/usr/local/bin:/usr/bin:/bin --cmd /bin/bash "$ctr"
  buildah "${storage[@]}" commit -q --rm "$ctr" "$base_ref" >/dev/null
  rm -rf "$work"
  trap - EXIT
  echo "base image built in $(( $(date +%s) - t0 ))s"
}

# --- single-binary images: the pod sandbox (pause) and the node's add-ons -----------------------
# FROM scratch plus one static binary from the devcluster's binary cache, named by its hash.
BIN_DIR="${BIN_DIR:-${FRAUDOPS_BIN_DIR:-$HOME/.cache/fraudops/bin/$(sed -n 's/^K8S_VERSION = "\(.*\)"$/\1/p' "$repo/hack/devcluster/versions.py")}}"
declare -A single_binary=(
  [pause]="localhost/fraudops/pause:devcluster /pause"
  [coredns]="localhost/fraudops/coredns:devcluster /coredns"
  [metrics-server]="localhost/fraudops/metrics-server:devcluster /metrics-server"
)
binary_image() {
  local component="$1" ref entry binary key archive ctr
  read -r ref entry <<<"${single_binary[$component]}"
  binary="$BIN_DIR/$component"
  [[ -x "$binary" ]] || { echo "$binary is missing: run make devcluster-node-bin" >&2; return 1; }
  key="$(sha256sum "$binary" | cut -c1-16)"
  archive="$IMAGES_DIR/$component-$key.oci.tar"
  if [[ ! -s "$archive" ]]; then
    ctr="$(buildah "${storage[@]}" from --pull=never scratch)"
    buildah "${storage[@]}" copy "$ctr" "$binary" "$entry" >/dev/null
    buildah "${storage[@]}" config --entrypoint "[\"$entry\"]" --user 65535:65535 "$ctr"
    buildah "${storage[@]}" commit -q --rm "$ctr" "$ref" >/dev/null
    buildah "${storage[@]}" push -q "$ref" "oci-archive:$archive.part:$ref"
    mv -f "$archive.part" "$archive"
    buildah "${storage[@]}" rmi "$ref" >/dev/null
    echo "built $ref from $binary"
  fi
  [[ -z "$manifest" ]] || printf '%s %s %s\n' "$component" "$ref" "$archive" >>"$manifest"
}

# --- the bundled services' images for the devcluster (charts/fraudops/values-devcluster.yaml) ---
# Users get the upstream images (values.yaml); here nothing can be pulled, so each is a Debian
# bookworm root filesystem by mmdebstrap with Debian's own package (PostgreSQL 15, Redis 7), or a
# binary built from its Go module (SeaweedFS's weed; Prometheus, whose Debian build leaves out the
# Kubernetes service discovery the chart's scrape configs use), keeping the upstream
# image's interface: entrypoint, user id and, for PostgreSQL, the POSTGRES_* variables and
# /docker-entrypoint-initdb.d (hack/images/postgres-entrypoint.sh). Keyed by the recipe.
declare -A service_packages=(
  [postgresql]="postgresql-15"
  [redis]="redis-server"
  [prometheus]=""
  [seaweedfs]=""
  [kserve]=""
)
declare -A service_refs=(
  [postgresql]="localhost/fraudops-devcluster/postgresql:15"
  [redis]="localhost/fraudops-devcluster/redis:7"
  [prometheus]="localhost/fraudops-devcluster/prometheus:dev"
  [seaweedfs]="localhost/fraudops-devcluster/seaweedfs:dev"
  [kserve]="localhost/fraudops-devcluster/kserve-controller:dev"
)
weed_binary="${FRAUDOPS_WEED:-}"
prometheus_binary="${FRAUDOPS_PROMETHEUS:-}"
kserve_binary="${FRAUDOPS_KSERVE:-}"
service_image() {
  local component="$1" ref="${service_refs[$1]}" packages="${service_packages[$1]}"
  local recipe key archive work ctr t0
  local -a hooks=() config=()
  case "$component" in
    postgresql)
      # No "main" cluster from the package's postinst: the entrypoint creates one on the volume.
      # Upstream's postgres user is 999, which initdb must find in /etc/passwd.
      hooks=(--customize-hook='rm -rf "$1"/etc/postgresql/15 "$1"/var/lib/postgresql/15'
        --customize-hook='sed -i "s/^postgres:x:[0-9]*:[0-9]*:/postgres:x:999:999:/" "$1"/etc/passwd'
        --customize-hook='sed -i "s/^postgres:x:[0-9]*:/postgres:x:999:/" "$1"/etc/group')
      config=(--entrypoint '["/usr/local/bin/docker-entrypoint.sh"]' --cmd postgres --user 999:999
        --env PATH=/usr/lib/postgresql/15/bin:/usr/bin:/bin --env PGDATA=/var/lib/postgresql/data
        --port 5432)
      recipe="$(sha256sum <"$repo/hack/images/postgres-entrypoint.sh" | cut -c1-64)" ;;
    redis)
      config=(--entrypoint '[]' --cmd redis-server --user 999:999 --port 6379)
      recipe="" ;;
    prometheus)
      [[ -x "$prometheus_binary" ]] || { echo "prometheus is missing ($prometheus_binary): run make prometheus" >&2; return 1; }
      config=(--entrypoint '["/bin/prometheus"]' --cmd '' --user 65534:65534 --port 9090)
      recipe="$(sha256sum "$prometheus_binary" | cut -c1-64)" ;;
    seaweedfs)
      [[ -x "$weed_binary" ]] || { echo "weed is missing ($weed_binary): run make weed" >&2; return 1; }
      config=(--entrypoint '["/usr/bin/weed"]' --cmd '' --user 1000:1000 --port 8333)
      recipe="$(sha256sum "$weed_binary" | cut -c1-64)" ;;
    kserve)
      # upstream's image is distroless, user 65532, /manager as its entrypoint
      [[ -x "$kserve_binary" ]] || { echo "kserve's manager is missing ($kserve_binary): run make kserve" >&2; return 1; }
      config=(--entrypoint '["/manager"]' --cmd '' --user 65532:65532 --port 9443)
      recipe="$(sha256sum "$kserve_binary" | cut -c1-64)" ;;
  esac
  recipe="$ref: mmdebstrap --variant=essential bookworm [$packages] ${hooks[*]} ${config[*]} $recipe, recipe 1"
  key="$(printf '%s' "$recipe" | sha256sum | cut -c1-16)"
  archive="$IMAGES_DIR/service-$component-$key.oci.tar"
  if [[ ! -s "$archive" ]]; then
    echo "building $ref (mmdebstrap ${packages:-essential} + extras)"
    t0=$(date +%s)
    work="$(mktemp -d "$IMAGES_DIR/.service.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    mmdebstrap --quiet --variant=essential ${packages:+--include="$packages"} "${hooks[@]}" \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/usr/share/doc/*' \
      bookworm "$work/rootfs.tar"
    ctr="$(buildah "${storage[@]}" from --pull=never scratch)"
    buildah "${storage[@]}" add "$ctr" "$work/rootfs.tar" / >/dev/null
    case "$component" in
      postgresql)
        buildah "${storage[@]}" copy --chmod 0755 "$ctr" "$repo/hack/images/postgres-entrypoint.sh" \
          /usr/local/bin/docker-entrypoint.sh >/dev/null ;;
      seaweedfs)
        buildah "${storage[@]}" copy --chmod 0755 "$ctr" "$weed_binary" /usr/bin/weed >/dev/null ;;
      prometheus)
        buildah "${storage[@]}" copy --chmod 0755 "$ctr" "$prometheus_binary" /bin/prometheus >/dev/null ;;
      kserve)
        buildah "${storage[@]}" copy --chmod 0755 "$ctr" "$kserve_binary" /manager >/dev/null ;;
    esac
    buildah "${storage[@]}" config "${config[@]}" "$ctr"
    buildah "${storage[@]}" commit -q --rm "$ctr" "$ref" >/dev/null
    buildah "${storage[@]}" push -q "$ref" "oci-archive:$archive.part:$ref"
    mv -f "$archive.part" "$archive"
    buildah "${storage[@]}" rmi "$ref" >/dev/null
    rm -rf "$work"
    trap - EXIT
    find "$IMAGES_DIR" -maxdepth 1 -name "service-$component-*.oci.tar" ! -path "$archive" -delete
    echo "built $ref in $(( $(date +%s) - t0 ))s: $(du -h "$archive" | cut -f1) archive"
  fi
  [[ -z "$manifest" ]] || printf '%s %s %s\n' "$component" "$ref" "$archive" >>"$manifest"
}

# --- the components -----------------------------------------------------------------------------
# Two keys: the stack (base, Dockerfile, the component's resolved dependency group) and the code
# (the project's packages). buildah builds the `<component>-stack` target only when its stack key
# changes — an edit of pyproject.toml that leaves the group's requirements alone keeps it; the
# code goes on top as one layer made by hack/images/code_layer.py in seconds (the Dockerfile's
# last step, done without copying the root filesystem once per step as buildah does on vfs).
stack_key() {
  cd "$repo"
  {
    echo "$base_ref"
    # The instructions, not the comments: rewording an explanation rebuilds nothing.
    grep -hv '^[[:space:]]*\(#\|$\)' Dockerfile .dockerignore
    sha256sum hack/images/requirements.py
    python3 hack/images/requirements.py pyproject.toml "$1"
  } | sha256sum | cut -c1-16
}
code_key="$(
  cd "$repo"
  find pyproject.toml training-jobs inference operator manifests/crds -type f \
    -not -path '*/__pycache__/*' -not -name '*.pyc' -not -path '*.egg-info/*' -print0 |
    sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
)"
python="${CODE_LAYER_PYTHON:-$repo/.venv/bin/python}"
code_dir="$IMAGES_DIR/code-$code_key"
host_ca=/etc/ssl/certs/ca-certificates.crt
uv_cache="${UV_CACHE_DIR:-$HOME/.cache/uv}"
mkdir -p "$uv_cache"
for component in "${components[@]}"; do
  if [[ -n "${single_binary[$component]:-}" ]]; then
    binary_image "$component"
    continue
  fi
  if [[ -n "${service_refs[$component]:-}" ]]; then
    service_image "$component"
    continue
  fi
  ref="$registry/fraudops-$component:$version"
  stack_key="$(stack_key "$component")"
  stack="$IMAGES_DIR/fraudops-$component-stack-$stack_key.oci.tar"
  archive="$IMAGES_DIR/fraudops-$component-$stack_key-$code_key.oci.tar"
  if [[ ! -s "$stack" ]]; then
    ensure_base
    echo "building $ref's stack ($stack_key)"
    t0=$(date +%s)
    buildah "${storage[@]}" bud -q --layers --pull=never --isolation chroot \
      --build-arg BASE="$base_ref" --build-arg PIP_CERT=/run/fraudops-host-ca.crt \
      -v "$host_ca:/run/fraudops-host-ca.crt:ro" -v "$uv_cache:/root/.cache/uv" \
      --target "$component-stack" -t "$ref-stack" -f "$repo/Dockerfile" "$repo" >/dev/null
    buildah "${storage[@]}" push -q "$ref-stack" "oci-archive:$stack.part:$ref-stack"
    mv -f "$stack.part" "$stack"
    # The archive is what the node imports. vfs keeps a full copy of the root filesystem per
    # layer, so the build's images go (the base stays): storage stays near the base's size.
    buildah "${storage[@]}" rmi "$ref-stack" >/dev/null
    buildah "${storage[@]}" rmi --prune >/dev/null 2>&1 || true
    find "$IMAGES_DIR" -maxdepth 1 -name "fraudops-$component-stack-*.oci.tar" ! -path "$stack" -delete
    echo "built $ref's stack in $(( $(date +%s) - t0 ))s: $(du -h "$stack" | cut -f1) archive"
  fi
  if [[ ! -s "$archive" ]]; then
    t0=$(date +%s)
    [[ -d "$code_dir" ]] || "$python" "$repo/hack/images/code_layer.py" code-dir "$repo" "$code_dir"
    "$python" "$repo/hack/images/code_layer.py" append "$stack" "$code_dir" "$archive" "$ref"
    # Older code layers of this component are never used again: keep the cache from growing.
    find "$IMAGES_DIR" -maxdepth 1 -name "fraudops-$component-*-*.oci.tar" \
      ! -name "fraudops-$component-stack-*" ! -path "$archive" -delete
    echo "added the code ($code_key) to $ref in $(( $(date +%s) - t0 ))s"
  fi
  [[ -z "$manifest" ]] || printf '%s %s %s\n' "$component" "$ref" "$archive" >>"$manifest"
done
find "$IMAGES_DIR" -maxdepth 1 -name 'code-*' -type d ! -path "$code_dir" -exec rm -rf {} +
