"""Serving the champion: a Deployment + HPA (``fastapi``) or KServe InferenceServices (a stable one
and, while a new champion soaks, a canary), behind one Service of ours either way.

``fastapi`` pods load ``models:/<name>@champion`` when they start; a new champion reaches running
pods through their ``/reload`` endpoint, which swaps the model atomically, so promotion never drops
a request. The Deployment's own rolling update (``maxUnavailable: 0``) covers image and spec
changes. A KServe predictor is pinned to one version (``models:/<name>/<version>``): a new
champion is a new predictor revision, which KServe rolls out as it rolls out any spec change, and
a pod that restarts loads what its revision says, never a newer alias (see
:mod:`fraud_operator.kserve_serving` for the canary).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import metadata
from typing import Any

from fraud_operator.builders.common import (
    child_metadata,
    env_list,
    resources,
    restricted_security_context,
    secret_env_list,
)
from fraud_operator.builders.training import tracking_uri
from fraud_operator.config import OperatorConfig
from fraud_operator.naming import (
    LABEL_MODEL_VERSION,
    LABEL_TRACK,
    SERVING_PORT,
    TRACK_CANARY,
    TRACK_STABLE,
    admin_secret_name,
    canary_serving_name,
    registered_model_name,
    selector,
    serving_name,
)

#: The images serving runs when spec.serving.image is unset, of the operator's own release: the
#: slim serving image scores the ONNX payload XGBoost bundles carry; the other learners are
#: scored from their estimator, which only the all-in-one image has.
PROJECT_VERSION = metadata.version("fraudops")
SERVING_IMAGE = f"ghcr.io/fraudops/fraudops-serving:{PROJECT_VERSION}"
ESTIMATOR_SERVING_IMAGE = f"ghcr.io/fraudops/fraudops:{PROJECT_VERSION}"
ONNX_SERVED_ALGORITHMS = frozenset({"xgboost"})


def default_serving_image(spec: Mapping[str, Any]) -> str:
    """The serving image a FraudModel gets when it names none (see SERVING_IMAGE)."""
    algorithm = (spec.get("training") or {}).get("algorithm", "xgboost")
    return SERVING_IMAGE if algorithm in ONNX_SERVED_ALGORITHMS else ESTIMATOR_SERVING_IMAGE


#: Seconds a terminating serving pod keeps serving before it is signalled (see `lifecycle`): the
#: time kube-proxy (or a load balancer) may take to stop routing to it. 5 s let a request reach a
#: stopped pod on a busy node.
PRESTOP_DRAIN_SECONDS = 10

COMPONENT = "serving"
CONTAINER = "predictor"
KSERVE_CONTAINER = "kserve-container"
ADMIN_TOKEN_KEY = "token"


def _registered_model(fm: Mapping[str, Any]) -> str:
    meta = fm["metadata"]
    return registered_model_name(meta["namespace"], meta["name"], fm["spec"])


def champion_uri(fm: Mapping[str, Any]) -> str:
    """The model URI serving pods load: whatever version holds the champion alias."""
    return f"models:/{_registered_model(fm)}@champion"


def version_uri(fm: Mapping[str, Any], version: str) -> str:
    """The model URI of one registered version of this FraudModel's model."""
    return f"models:/{_registered_model(fm)}/{version}"


def endpoint(fm: Mapping[str, Any]) -> str:
    """Where clients inside the cluster send transactions: the operator's Service, in front of
    every serving pod of either runtime (a KServe canary's included)."""
    meta = fm["metadata"]
    host = f"{serving_name(meta['name'])}.{meta['namespace']}.svc.cluster.local:{SERVING_PORT}"
    if fm["spec"]["serving"]["runtime"] == "kserve":
        return f"http://{host}/v2/models/{meta['name']}/infer"
    return f"http://{host}/predict"


def _container(
    fm: Mapping[str, Any], config: OperatorConfig, name: str, model_uri: str
) -> dict[str, Any]:
    """The predictor container, the same for both runtimes but for the model it loads."""
    serving = fm["spec"]["serving"]
    env = env_list(
        {
            **config.serving_env,
            "MODEL_URI": model_uri,
            "MODEL_NAME": fm["metadata"]["name"],
            "MLFLOW_TRACKING_URI": tracking_uri(fm["spec"], config),
            "PORT": str(SERVING_PORT),
            "AUDIT_SPOOL_DIR": "/tmp/audit-spool",
            "TMPDIR": "/tmp",
        }
    )
    env.extend(secret_env_list(config.serving_secrets))
    # No HOST: the server binds 0.0.0.0, which kubectl port-forward and KServe's queue-proxy
    # (both reaching the container on localhost) need.
    env.append(
        {
            "name": "ADMIN_TOKEN",
            "valueFrom": {
                "secretKeyRef": {
                    "name": admin_secret_name(fm["metadata"]["name"]),
                    "key": ADMIN_TOKEN_KEY,
                }
            },
        }
    )
    return {
        "name": name,
        "image": serving.get("image") or default_serving_image(fm["spec"]),
        "command": ["python", "-m", "fraud_inference"],
        "env": env,
        "ports": [{"name": "http", "containerPort": SERVING_PORT, "protocol": "TCP"}],
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": SERVING_PORT},
            "periodSeconds": 2,
            "failureThreshold": 3,
        },
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": SERVING_PORT},
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
            "failureThreshold": 6,
        },
        # A pod being replaced keeps answering while kube-proxy and ingress controllers take it
        # out of the Service's endpoints (they learn of it at the same time as the kubelet), so a
        # rollout or scale-in drops no request.
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRESTOP_DRAIN_SECONDS)]}}},
        "resources": resources(serving["resources"]),
        "securityContext": restricted_security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def _pod_security_context() -> dict[str, Any]:
    """The serving pod's own security context (the container's is the restricted one): the
    image's non-root user, owning the volumes."""
    return {"runAsNonRoot": True, "fsGroup": 10001}


def _pod_metadata(fm: Mapping[str, Any]) -> dict[str, Any]:
    """Pod labels (the selector among them) and Prometheus scrape annotations."""
    return {
        "labels": child_metadata(fm, "", COMPONENT)["labels"],
        "annotations": {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(SERVING_PORT),
            "prometheus.io/path": "/metrics",
        },
    }


def build_deployment(fm: Mapping[str, Any], config: OperatorConfig) -> dict[str, Any]:
    """The serving Deployment; its replica count belongs to the HPA once created."""
    name = fm["metadata"]["name"]
    serving = fm["spec"]["serving"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": child_metadata(fm, serving_name(name), COMPONENT),
        "spec": {
            "replicas": serving["minReplicas"],
            "selector": {"matchLabels": selector(name, COMPONENT)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": _pod_metadata(fm),
                "spec": {
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": _pod_security_context(),
                    "containers": [_container(fm, config, CONTAINER, champion_uri(fm))],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }


def build_service(fm: Mapping[str, Any]) -> dict[str, Any]:
    """A ClusterIP Service in front of the serving pods, whatever made them: the Deployment, or
    KServe's stable and canary predictors (which share these labels, so the Service splits
    connections between them by their ready pods)."""
    name = fm["metadata"]["name"]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": child_metadata(fm, serving_name(name), COMPONENT),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(name, COMPONENT),
            "ports": [{"name": "http", "port": SERVING_PORT, "targetPort": SERVING_PORT}],
        },
    }


def build_admin_secret(fm: Mapping[str, Any], token: str) -> dict[str, Any]:
    """The serving pods' admin token; the operator presents it to ``POST /reload``."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": child_metadata(fm, admin_secret_name(fm["metadata"]["name"]), COMPONENT),
        "type": "Opaque",
        "stringData": {ADMIN_TOKEN_KEY: token},
    }


def build_hpa(fm: Mapping[str, Any]) -> dict[str, Any]:
    """An autoscaling/v2 HPA on CPU utilisation between min and max replicas."""
    name = fm["metadata"]["name"]
    serving = fm["spec"]["serving"]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": child_metadata(fm, serving_name(name), COMPONENT),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": serving_name(name),
            },
            "minReplicas": serving["minReplicas"],
            "maxReplicas": serving["maxReplicas"],
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": serving["targetCPUUtilizationPercentage"],
                        },
                    },
                }
            ],
        },
    }


#: KServe's deployment mode the operator asks for: a Deployment, a Service and an HPA per
#: predictor, with neither Knative nor Istio (``Standard`` is RawDeployment's name since 0.15).
KSERVE_DEPLOYMENT_MODE = "Standard"


def build_inference_service(
    fm: Mapping[str, Any],
    config: OperatorConfig,
    version: str,
    track: str = TRACK_STABLE,
    replicas: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """A KServe InferenceService with our image as a custom predictor speaking the V2 protocol,
    in KServe's ``Standard`` mode whatever the cluster's default, serving ``version``.

    ``track`` is ``stable`` (``<name>-serving``) or ``canary`` (``<name>-serving-canary``, the
    new champion beside the stable one while it soaks); ``replicas`` (min, max) overrides the
    spec's, which a canary's replica-count split needs. The version and track are labels of the
    InferenceService and so of its pods: the operator tells the revisions apart by them.
    """
    name = fm["metadata"]["name"]
    serving = fm["spec"]["serving"]
    container = _container(fm, config, KSERVE_CONTAINER, version_uri(fm, version))
    container.pop("livenessProbe")
    # Knative accepts only an unnamed, "http1" or "h2c" port on a serving container.
    container["ports"] = [{"name": "http1", "containerPort": SERVING_PORT, "protocol": "TCP"}]
    min_replicas, max_replicas = replicas or (serving["minReplicas"], serving["maxReplicas"])
    predictor: dict[str, Any] = {
        "minReplicas": min_replicas,
        "maxReplicas": max(min_replicas, max_replicas),
        "scaleMetric": "cpu",
        "scaleTarget": serving["targetCPUUtilizationPercentage"],
        "securityContext": _pod_security_context(),
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    isvc_name = canary_serving_name(name) if track == TRACK_CANARY else serving_name(name)
    metadata = child_metadata(
        fm, isvc_name, COMPONENT, {LABEL_MODEL_VERSION: version, LABEL_TRACK: track}
    )
    metadata["annotations"] = {
        "serving.kserve.io/deploymentMode": KSERVE_DEPLOYMENT_MODE,
        "serving.kserve.io/enable-prometheus-scraping": "true",
    }
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": metadata,
        "spec": {"predictor": predictor},
    }
