# FraudOps — the two commands a newcomer runs are the first two targets: `make demo` and `make test`.
# Every install step the demo and the tests need lives here, so that a fresh machine gets there alone.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON      ?= python3
VENV        := .venv
VPY         := $(VENV)/bin/python
CACHE_DIR   ?= $(HOME)/.cache/fraudops
# One definition of the pinned release: hack/devcluster/versions.py (hack/go.mod must match it).
K8S_VERSION := $(shell sed -n 's/^K8S_VERSION = "\(.*\)"$$/\1/p' hack/devcluster/versions.py)
BIN_DIR     := $(CACHE_DIR)/bin/$(K8S_VERSION)
DEVCLUSTER_BINS := kube-apiserver kube-controller-manager kubectl etcd helm
export FRAUDOPS_BIN_DIR := $(BIN_DIR)
# The linter of the users' CI workflow (.github/workflows), built from its Go module.
ACTIONLINT_VERSION := v1.7.7
export FRAUDOPS_ACTIONLINT := $(CACHE_DIR)/bin/actionlint-$(ACTIONLINT_VERSION)
# The tests' real S3-compatible store (SeaweedFS), built from its Go module (hack/weed/go.mod pins it).
WEED_VERSION := $(shell sed -n 's/^require github.com\/seaweedfs\/seaweedfs \(.*\)$$/\1/p' hack/weed/go.mod)
export FRAUDOPS_WEED := $(CACHE_DIR)/bin/weed-$(WEED_VERSION)
# The devcluster's in-cluster Prometheus, built from its Go module (hack/prometheus/go.mod pins it).
PROMETHEUS_VERSION := $(shell sed -n 's/^require github.com\/prometheus\/prometheus \(.*\)$$/\1/p' hack/prometheus/go.mod)
export FRAUDOPS_PROMETHEUS := $(CACHE_DIR)/bin/prometheus-$(PROMETHEUS_VERSION)
# KServe's controller manager for the devcluster's `runtime: kserve` path, built from its Go module
# (hack/kserve/go.mod pins it); its CRDs, RBAC and webhooks come from the same module's config/.
KSERVE_VERSION := $(shell sed -n 's/^require github.com\/kserve\/kserve \(.*\)$$/\1/p' hack/kserve/go.mod)
export FRAUDOPS_KSERVE := $(CACHE_DIR)/bin/kserve-manager-$(KSERVE_VERSION)

.PHONY: demo demo-kserve demo-down test demo-local venv system-deps node-deps devcluster-bin \
	devcluster-node-bin images weed prometheus kserve devcluster-up devcluster-down lint bench clean

## demo: the main job — devcluster (a real node), MLflow, the operator (helm, from its image), a
## FraudModel trained and served from the project's images
demo: venv system-deps images
	PYTHONPATH=hack $(VPY) -m clusterdemo up

## demo-kserve: the same, with KServe's controller (built here) serving the model (runtime: kserve)
demo-kserve: venv system-deps images
	PYTHONPATH=hack $(VPY) -m clusterdemo up --kserve

## demo-down: stop everything `make demo` left running
demo-down: venv
	PYTHONPATH=hack $(VPY) -m clusterdemo down

## test: install what the tests need, then run the whole suite (the harness starts the real
## services and a devcluster whose node runs the images built here)
test: venv system-deps images $(FRAUDOPS_ACTIONLINT) $(FRAUDOPS_WEED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

## demo-local: the laptop pipeline (generate → validate → train → gate → promote), no cluster
demo-local: venv
	$(VPY) -m fraud_training.demo

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --disable-pip-version-check uv
	$(VENV)/bin/uv pip install -q --python $(VPY) --only-binary :all: -e '.[test]'
	touch $@

## system-deps: Debian packages the test harness starts (PostgreSQL, Redis, Prometheus and its promtool),
## the benchmarks use (wrk) and the monitor-report screenshot test drives (headless Chromium)
system-deps:
	@missing=""; \
	for pair in redis-server:redis-server postgres:postgresql-15 wrk:wrk promtool:prometheus chromium:chromium; do \
	  cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  if ! command -v $$cmd >/dev/null 2>&1 && ! test -x /usr/lib/postgresql/15/bin/$$cmd; then missing="$$missing $$pkg"; fi; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

## devcluster-bin: build kube-apiserver, kube-controller-manager, kubectl, etcd and helm once per machine
devcluster-bin:
	@BIN_DIR="$(BIN_DIR)" K8S_VERSION="$(K8S_VERSION)" hack/build-devcluster.sh

## node-deps: Debian packages of the real node (containerd, runc, CNI plugins, iptables for
## kube-proxy, iproute2 and util-linux for its namespaces), of the pause build (gcc, libc6-dev for
## -static) and of the image builds (mmdebstrap, buildah)
NODE_DEBS := containerd runc containernetworking-plugins iptables iproute2 util-linux gcc libc6-dev 	buildah mmdebstrap curl
node-deps:
	@missing=""; \
	for pkg in $(NODE_DEBS); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

## devcluster-node-bin: kubelet, kube-scheduler, kube-proxy, pause, CoreDNS and metrics-server,
## built once per machine into the same cache as devcluster-bin
devcluster-node-bin: devcluster-bin
	@BIN_DIR="$(BIN_DIR)" K8S_VERSION="$(K8S_VERSION)" hack/build-node.sh
	@BIN_DIR="$(BIN_DIR)" K8S_VERSION="$(K8S_VERSION)" hack/build-addons.sh

## images: the operator, training and serving images (Dockerfile targets), the node's own images
## and the bundled services' devcluster images (Debian's PostgreSQL, Redis, Prometheus; weed),
## and KServe's controller, built with buildah into ~/.cache/fraudops/images/ (a no-op when nothing
## changed)
images: venv node-deps devcluster-node-bin $(FRAUDOPS_WEED) $(FRAUDOPS_PROMETHEUS) $(FRAUDOPS_KSERVE)
	BIN_DIR="$(BIN_DIR)" CODE_LAYER_PYTHON=$(VPY) hack/build-images.sh pause coredns metrics-server \
	  operator training serving postgresql redis prometheus seaweedfs kserve

## $(FRAUDOPS_ACTIONLINT): actionlint, built once per machine from github.com/rhysd/actionlint
$(FRAUDOPS_ACTIONLINT):
	mkdir -p $(@D)
	gobin=$$(mktemp -d) && GOBIN=$$gobin go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION) \
	  && mv $$gobin/actionlint $@ && rmdir $$gobin

## $(FRAUDOPS_WEED): SeaweedFS's weed, built once per machine from hack/weed (a wrapper module that
## repeats seaweedfs's replace directives); the tests start it as their S3 store. Keyed by the
## pinned version in its name, like actionlint: a fresh checkout's newer go.mod does not rebuild it.
weed: $(FRAUDOPS_WEED)
$(FRAUDOPS_WEED):
	mkdir -p $(@D)
	cd hack/weed && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o $@.part github.com/seaweedfs/seaweedfs/weed
	mv -f $@.part $@

## $(FRAUDOPS_PROMETHEUS): Prometheus built from its Go module (hack/prometheus pins it) for the
## devcluster's in-cluster Prometheus: Debian's build has no Kubernetes service discovery.
prometheus: $(FRAUDOPS_PROMETHEUS)
$(FRAUDOPS_PROMETHEUS):
	mkdir -p $(@D)
	cd hack/prometheus && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o $@.part github.com/prometheus/prometheus/cmd/prometheus
	mv -f $@.part $@

## $(FRAUDOPS_KSERVE): KServe's controller manager, built from hack/kserve (a wrapper module that
## repeats kserve's replace directive); the devcluster runs it as an image for `runtime: kserve`.
kserve: $(FRAUDOPS_KSERVE)
$(FRAUDOPS_KSERVE):
	mkdir -p $(@D)
	cd hack/kserve && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o $@.part github.com/kserve/kserve/cmd/manager
	mv -f $@.part $@

## devcluster-up: start a devcluster in the background and print its kubeconfig path
devcluster-up: venv images
	PYTHONPATH=hack $(VPY) -m devcluster up

## devcluster-down: stop the devcluster started by devcluster-up, leaving no process behind
devcluster-down: venv
	PYTHONPATH=hack $(VPY) -m devcluster down

lint: venv
	$(VENV)/bin/ruff check .

## bench: every benchmark in benchmarks/ (the training pipeline; serving against MLServer 1.7, own
## venv made on first run); not in `make test`
bench: venv system-deps
	for script in benchmarks/bench_*.py; do $(VPY) "$$script"; done

clean:
	rm -rf $(VENV) .pytest_cache mlruns mlflow.db .fraudops
