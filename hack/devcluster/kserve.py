"""KServe's controller on a devcluster, for the operator's ``runtime: kserve`` path.

Installed from the pinned module's own manifests (``config/default`` of
``github.com/kserve/kserve`` at the version ``hack/kserve/go.mod`` requires, rendered by kubectl's
kustomize), as a user installs KServe's release, with what a cluster without cert-manager,
Knative or Istio needs instead:

- only the InferenceService controller: the LLM and local-model controllers, and the auth proxy in
  front of the metrics (an image not built here), are left out;
- the controller's image is the one built from the same module (``make kserve``), never pulled;
- ``Standard`` deployment mode (a Deployment, a Service and an HPA per predictor; the old name,
  RawDeployment, leaves deletions stuck behind KServe's own webhook) and no ingress objects;
- the webhook serving certificate cert-manager would issue is made here, and its CA goes into
  every webhook configuration's ``caBundle``.

:func:`install_objects` is the pure part (manifests in, objects out), unit-tested without a
cluster; :func:`install` applies them (the CRDs server-side: they are too large for the
client-side annotation) and waits until the webhook answers.
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .cluster import DevCluster
from .pki import webhook_certificate

REPO = Path(__file__).resolve().parents[2]
MODULE = "github.com/kserve/kserve"
WRAPPER = REPO / "hack" / "kserve"
NAMESPACE = "kserve"
CONTROLLER = "kserve-controller-manager"
WEBHOOK_SERVICE = "kserve-webhook-server-service"
CERT_SECRET = "kserve-webhook-server-cert"
#: The webhook configurations of what the InferenceService controller serves.
WEBHOOKS = frozenset(
    {
        "inferenceservice.serving.kserve.io",
        "servingruntime.serving.kserve.io",
        "clusterservingruntime.serving.kserve.io",
        "trainedmodel.serving.kserve.io",
        "inferencegraph.serving.kserve.io",
    }
)
#: Kinds of cert-manager and of the LLM controller, which is not installed.
_LEFT_OUT_KINDS = frozenset({"Certificate", "Issuer", "LLMInferenceServiceConfig"})
#: Objects of the controllers and of the auth proxy left out (by name prefix or name).
_LEFT_OUT_PREFIXES = ("llmisvc", "kserve-localmodel")
_LEFT_OUT_NAMES = frozenset(
    {"kserve-proxy-role", "kserve-proxy-rolebinding", "kserve-controller-manager-metrics-service"}
)
_WEBHOOK_KINDS = frozenset({"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"})


def module_dir() -> Path:
    """Where Go keeps the pinned module's source, downloaded (checked against ``go.sum``) if it
    is not there: the controller's binary may be cached while Go's module cache was cleaned."""
    downloaded = subprocess.run(
        ["go", "mod", "download", "-json", MODULE],
        cwd=WRAPPER,
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(json.loads(downloaded.stdout)["Dir"])


def rendered_manifests(kubectl: Path, module: Path) -> list[dict[str, Any]]:
    """KServe's release manifests, as its ``config/default`` kustomization renders them."""
    rendered = subprocess.run(
        [str(kubectl), "kustomize", str(module / "config" / "default")],
        check=True,
        capture_output=True,
        text=True,
    )
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def _kept(obj: dict[str, Any]) -> bool:
    name = obj["metadata"]["name"]
    if obj["kind"] in _LEFT_OUT_KINDS or obj["kind"] == "DaemonSet":
        return False
    if obj["kind"] in _WEBHOOK_KINDS:
        return name in WEBHOOKS
    if obj["kind"] == "CustomResourceDefinition":
        return True
    return not name.startswith(_LEFT_OUT_PREFIXES) and name not in _LEFT_OUT_NAMES


def _controller(deployment: dict[str, Any], image: str) -> dict[str, Any]:
    """The controller manager alone (no auth proxy), from the image built here."""
    spec = deployment["spec"]["template"]["spec"]
    manager = next(c for c in spec["containers"] if c["name"] == "manager")
    manager["image"] = image
    manager["imagePullPolicy"] = "Never"
    # the probes wait 30 s before their first look by default; the manager is up in seconds
    for probe in ("livenessProbe", "readinessProbe"):
        manager[probe]["initialDelaySeconds"] = 2
    spec["containers"] = [manager]
    return deployment


def _config(config_map: dict[str, Any]) -> dict[str, Any]:
    """Standard deployment mode and no ingress objects (no Knative, no Istio, no Gateway API)."""
    data = config_map["data"]
    deploy = json.loads(data["deploy"])
    deploy["defaultDeploymentMode"] = "Standard"
    data["deploy"] = json.dumps(deploy)
    ingress = json.loads(data["ingress"])
    ingress.update(disableIngressCreation=True, disableIstioVirtualHost=True)
    data["ingress"] = json.dumps(ingress)
    return config_map


def _with_ca_bundle(configuration: dict[str, Any], ca_bundle: bytes) -> dict[str, Any]:
    configuration["metadata"].get("annotations", {}).pop("cert-manager.io/inject-ca-from", None)
    for webhook in configuration["webhooks"]:
        webhook["clientConfig"]["caBundle"] = base64.b64encode(ca_bundle).decode()
    return configuration


def certificate_secret(cert: bytes, key: bytes) -> dict[str, Any]:
    """The webhook server's key pair, where the controller's Deployment mounts it from."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": CERT_SECRET, "namespace": NAMESPACE},
        "data": {
            "tls.crt": base64.b64encode(cert).decode(),
            "tls.key": base64.b64encode(key).decode(),
        },
    }


def install_objects(
    manifests: Iterable[dict[str, Any]], image: str, ca_bundle: bytes
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """KServe's CRDs, then everything else to apply (the namespace first), from its rendered
    release manifests; the inputs are left as they were."""
    crds: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for original in manifests:
        if not _kept(original):
            continue
        obj = copy.deepcopy(original)
        kind, name = obj["kind"], obj["metadata"]["name"]
        if kind == "CustomResourceDefinition":
            crds.append(obj)
            continue
        if kind == "Deployment" and name == CONTROLLER:
            obj = _controller(obj, image)
        elif kind == "ConfigMap" and name == "inferenceservice-config":
            obj = _config(obj)
        elif kind in _WEBHOOK_KINDS:
            obj = _with_ca_bundle(obj, ca_bundle)
        rest.append(obj)
    rest.sort(key=lambda obj: obj["kind"] != "Namespace")
    return crds, rest


def webhook_dns_names() -> list[str]:
    """The names the API server may dial the webhook Service by."""
    service = f"{WEBHOOK_SERVICE}.{NAMESPACE}"
    return [f"{service}.svc", f"{service}.svc.cluster.local", service]


def _apply(cluster: DevCluster, objects: list[dict[str, Any]], *flags: str) -> None:
    cluster.kubectl("apply", *flags, "-f", "-", input=yaml.safe_dump_all(objects), timeout=300)


def _webhook_answers(cluster: DevCluster) -> bool:
    """A server-side dry run of an InferenceService goes through KServe's defaulting webhook."""
    probe = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "webhook-probe", "namespace": NAMESPACE},
        "spec": {"predictor": {"containers": [{"name": "kserve-container", "image": "probe"}]}},
    }
    answer = cluster.kubectl(
        "create", "--dry-run=server", "-f", "-", input=json.dumps(probe), check=False
    )
    return answer.returncode == 0


def install(cluster: DevCluster, timeout_s: float = 180) -> float:
    """Install KServe's InferenceService controller and wait until its webhook answers; the
    seconds that took."""
    started = time.monotonic()
    certificate = webhook_certificate(cluster.workdir / "kserve-webhook", webhook_dns_names())
    crds, rest = install_objects(
        rendered_manifests(cluster.bin_dir / "kubectl", module_dir()),
        cluster.images["kserve"],
        certificate.ca_cert.read_bytes(),
    )
    _apply(cluster, crds, "--server-side", "--force-conflicts")
    cluster.kubectl(
        "wait", "--for=condition=Established", "crd", *(c["metadata"]["name"] for c in crds)
    )
    secret = certificate_secret(certificate.cert.read_bytes(), certificate.key.read_bytes())
    _apply(cluster, [rest[0], secret, *rest[1:]])
    cluster.kubectl(
        "rollout",
        "status",
        f"deployment/{CONTROLLER}",
        "-n",
        NAMESPACE,
        f"--timeout={timeout_s:.0f}s",
        timeout=timeout_s + 10,
    )
    deadline = started + timeout_s
    while not _webhook_answers(cluster):
        if time.monotonic() > deadline:
            raise RuntimeError("KServe's webhook did not answer in time")
        time.sleep(1)
    return time.monotonic() - started
