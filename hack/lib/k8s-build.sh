# Shared by the scripts that build Kubernetes binaries from hack/go.mod (sourced, not run).
#
# k8s_ldflags VERSION           prints the -ldflags that stamp the release into the binaries.
# k8s_patched_modfile HACK STAGE
#   copies the pinned k8s.io/kubernetes module into STAGE/kubernetes with the devcluster's one
#   patch (loopback addresses accepted in Endpoints and EndpointSlices, see build-devcluster.sh)
#   and writes STAGE/go.mod selecting it. Every binary is built from this same tree, so the
#   packages they share come out of Go's build cache instead of being compiled twice.

k8s_ldflags() {
  local version="$1" minor
  minor="${version#v1.}"
  minor="${minor%%.*}"
  local flags="-s -w"
  flags+=" -X k8s.io/component-base/version.gitVersion=$version"
  flags+=" -X k8s.io/component-base/version.gitMajor=1"
  flags+=" -X k8s.io/component-base/version.gitMinor=$minor"
  flags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  flags+=" -X k8s.io/client-go/pkg/version.gitVersion=$version"
  flags+=" -X k8s.io/client-go/pkg/version.gitMajor=1"
  flags+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  printf '%s' "$flags"
}

k8s_patched_modfile() {
  local hack="$1" stage="$2" src validation
  src="$(cd "$hack" && go mod download -json k8s.io/kubernetes | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  cp -r "$src" "$stage/kubernetes"
  chmod -R u+w "$stage/kubernetes"
  validation="$stage/kubernetes/pkg/apis/core/validation/validation.go"
  sed -i 's|^\tif ip\.IsLoopback() {$|\tif false \&\& ip.IsLoopback() { // devcluster: pod IPs are loopback|' \
    "$validation"
  if [[ "$(grep -c 'devcluster: pod IPs are loopback' "$validation")" != 1 ]]; then
    echo "loopback patch did not apply exactly once to $validation" >&2
    return 1
  fi
  cp "$hack/go.mod" "$hack/go.sum" "$stage/"
  printf '\nreplace k8s.io/kubernetes => %s\n' "$stage/kubernetes" >>"$stage/go.mod"
}
