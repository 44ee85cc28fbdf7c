"""The one definition of the pinned versions.

The Makefile and hack/build-devcluster.sh read these lines with sed, and hack/go.mod must pin the
same release (the build script checks it), so bumping Kubernetes starts here.
"""

K8S_VERSION = "v1.34.4"
HELM_VERSION = "v3.19.5"
