"""Training: the ConfigMap carrying a training spec, its Job, and the retraining CronJob.

A training Job is keyed on the hash of the fields that change what is trained (``data``,
``training``, ``registry``), not on ``metadata.generation``: editing ``serving`` rolls out without
training, editing ``validation`` applies to the next candidate, and only a change to what is
trained starts a new Job.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from fraud_operator.builders.common import (
    STORAGE_ERROR_EXIT_CODE,
    USER_ERROR_EXIT_CODE,
    audit_database_env,
    child_metadata,
    fail_on_user_error,
    resources,
    restricted_security_context,
)
from fraud_operator.config import OperatorConfig
from fraud_operator.naming import (
    LABEL_GENERATION,
    LABEL_RETRAINING_REASON,
    LABEL_TRAINING_HASH,
    registered_model_name,
    retrain_cronjob_name,
    retraining_job_name,
    training_job_name,
)

COMPONENT = "training"
CONTAINER = "train"
SPEC_KEY = "spec.json"
#: Set by the Job controller on its pods, whether the Job came from us or from the CronJob.
JOB_NAME_FIELD = "metadata.labels['batch.kubernetes.io/job-name']"
#: The spec fields whose change means a different model, hence a new training Job.
TRAINING_FIELDS = ("data", "training", "registry")
#: Fields of spec.training that only the Job's pod uses, not the training code: its ConfigMap
#: leaves them out (they are in the training hash all the same, so that a Job that failed for
#: want of memory or of access runs again once they are changed).
POD_ONLY_FIELDS = ("resources", "serviceAccountName")
HASH_LENGTH = 10
#: The training Job's variables for a retraining: why, and how much production traffic to add.
RETRAINING_REASON_ENV = "FRAUDOPS_RETRAINING_REASON"
PRODUCTION_WINDOW_ENV = "FRAUDOPS_PRODUCTION_WINDOW"
SCHEDULE = "Schedule"
#: The keys a ``data.s3.credentialsSecret`` holds, read by the SDK under the same names.
CREDENTIAL_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def tracking_uri(spec: Mapping[str, Any], config: OperatorConfig) -> str:
    """The spec's MLflow tracking URI override, or the operator's."""
    return (spec.get("registry") or {}).get("trackingUri") or config.tracking_uri


def training_hash(spec: Mapping[str, Any]) -> str:
    """A short digest of the training-relevant spec (CRD defaults applied), stable across key
    order; it names the training Job and its ConfigMap."""
    relevant = {key: spec.get(key) for key in TRAINING_FIELDS}
    canonical = json.dumps(relevant, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:HASH_LENGTH]


def _training_labels(fm: Mapping[str, Any], reason: str | None = None) -> dict[str, str]:
    labels = {
        LABEL_TRAINING_HASH: training_hash(fm["spec"]),
        LABEL_GENERATION: str(fm["metadata"]["generation"]),
    }
    if reason:
        labels[LABEL_RETRAINING_REASON] = reason
    return labels


def retraining_env(
    fm: Mapping[str, Any], config: OperatorConfig, reason: str
) -> list[dict[str, Any]]:
    """What a retraining Job adds to a training Job's environment: its reason (tagged on the
    version) and, when the operator has an audit trail, the recent labelled production window to
    train on as well (``retraining.productionWindow``), read from the same database as serving."""
    env: list[dict[str, Any]] = [{"name": RETRAINING_REASON_ENV, "value": reason}]
    database = audit_database_env(config)
    window = (fm["spec"].get("retraining") or {}).get("productionWindow")
    if database is not None and window:
        env += [database, {"name": PRODUCTION_WINDOW_ENV, "value": window}]
    return env


def object_store_env(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """How the training Job reaches the object store of an ``s3://`` ``data.uri``, as the AWS
    SDK's own variables: the S3-only endpoint (so IRSA's STS calls still go to AWS), the region,
    and the keys by ``secretKeyRef`` only, never as values (the kubelet reads the Secret, not the
    operator). Nothing without ``data.s3``: the SDK's default chain applies."""
    s3 = data.get("s3") or {}
    env: list[dict[str, Any]] = []
    if endpoint := s3.get("endpoint"):
        env.append({"name": "AWS_ENDPOINT_URL_S3", "value": endpoint})
    if region := s3.get("region"):
        env.append({"name": "AWS_REGION", "value": region})
    if secret := s3.get("credentialsSecret"):
        env += [
            {"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
            for key in CREDENTIAL_KEYS
        ]
    return env


def training_job_spec(fm: Mapping[str, Any], config: OperatorConfig) -> dict[str, Any]:
    """What the training Job is asked to do, as the JSON document it reads.

    ``generation`` is the FraudModel's generation when this training spec was first seen; the
    Job tags the version with it.
    """
    meta, spec = fm["metadata"], fm["spec"]
    return {
        "fraudModel": {
            "namespace": meta["namespace"],
            "name": meta["name"],
            "uid": meta["uid"],
            "generation": meta["generation"],
        },
        "data": spec["data"],
        "training": {k: v for k, v in spec["training"].items() if k not in POD_ONLY_FIELDS},
        "registry": {
            "modelName": registered_model_name(meta["namespace"], meta["name"], spec),
            "trackingUri": tracking_uri(spec, config),
        },
    }


def build_training_configmap(fm: Mapping[str, Any], config: OperatorConfig) -> dict[str, Any]:
    """The training spec its Job (and the retraining CronJob) read."""
    name = training_job_name(fm["metadata"]["name"], training_hash(fm["spec"]))
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": child_metadata(fm, name, COMPONENT, _training_labels(fm)),
        "data": {SPEC_KEY: json.dumps(training_job_spec(fm, config), sort_keys=True, indent=2)},
    }


def service_account(training: Mapping[str, Any]) -> dict[str, str]:
    """The pod spec's ServiceAccount when the training spec names one (else the namespace's
    default applies)."""
    name = training.get("serviceAccountName")
    return {"serviceAccountName": name} if name else {}


def _job_spec(
    fm: Mapping[str, Any], config: OperatorConfig, configmap: str, reason: str | None = None
) -> dict[str, Any]:
    """The Job spec shared by the generation's Job, the CronJob's template and the retraining
    Jobs (``reason`` set)."""
    training = fm["spec"]["training"]
    extra_env = retraining_env(fm, config, reason) if reason else []
    return {
        "backoffLimit": training["backoffLimit"],
        "activeDeadlineSeconds": training["activeDeadlineSeconds"],
        "ttlSecondsAfterFinished": config.job_ttl_seconds,
        "podFailurePolicy": fail_on_user_error(
            CONTAINER, (USER_ERROR_EXIT_CODE, STORAGE_ERROR_EXIT_CODE)
        ),
        "template": {
            "metadata": {
                "labels": child_metadata(fm, "", COMPONENT, _training_labels(fm, reason))["labels"]
            },
            "spec": {
                **service_account(training),
                "restartPolicy": "Never",
                "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001},
                "containers": [
                    {
                        "name": CONTAINER,
                        "image": training["image"],
                        "command": ["python", "-m", "fraud_training.job"],
                        "env": [
                            {
                                "name": "FRAUDOPS_JOB_SPEC",
                                "valueFrom": {
                                    "configMapKeyRef": {"name": configmap, "key": SPEC_KEY}
                                },
                            },
                            {
                                "name": "FRAUDOPS_JOB_NAME",
                                "valueFrom": {"fieldRef": {"fieldPath": JOB_NAME_FIELD}},
                            },
                            {
                                "name": "MLFLOW_TRACKING_URI",
                                "value": tracking_uri(fm["spec"], config),
                            },
                            {"name": "TMPDIR", "value": "/tmp"},
                            *object_store_env(fm["spec"]["data"]),
                            *extra_env,
                        ],
                        "resources": resources(training["resources"]),
                        "terminationMessagePolicy": "FallbackToLogsOnError",
                        "securityContext": restricted_security_context(),
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                    }
                ],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
            },
        },
    }


def build_training_job(fm: Mapping[str, Any], config: OperatorConfig) -> dict[str, Any]:
    """The one training Job of the FraudModel's current training spec."""
    name = training_job_name(fm["metadata"]["name"], training_hash(fm["spec"]))
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": child_metadata(fm, name, COMPONENT, _training_labels(fm)),
        "spec": _job_spec(fm, config, configmap=name),
    }


def build_retraining_job(
    fm: Mapping[str, Any], config: OperatorConfig, reason: str, sequence: int
) -> dict[str, Any]:
    """A retraining the operator starts (drift or falling precision): the current training spec
    (its ConfigMap, its hash label, so the newest-run lookup, the gate and the promotion policy
    treat it like any training Job) under a name of its own."""
    meta = fm["metadata"]
    configmap = training_job_name(meta["name"], training_hash(fm["spec"]))
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": child_metadata(
            fm,
            retraining_job_name(meta["name"], reason, sequence),
            COMPONENT,
            _training_labels(fm, reason),
        ),
        "spec": _job_spec(fm, config, configmap=configmap, reason=reason),
    }


def build_retrain_cronjob(fm: Mapping[str, Any], config: OperatorConfig) -> dict[str, Any] | None:
    """A CronJob retraining on ``retraining.schedule`` with the current training spec.

    A CronJob rather than a kopf timer: the schedule then survives operator restarts and downtime
    (missed runs are caught up by the controller within ``startingDeadlineSeconds``), and a person
    sees it, its history and its next run with kubectl. ``Forbid`` keeps retrainings from piling up.
    """
    schedule = (fm["spec"].get("retraining") or {}).get("schedule")
    if not schedule:
        return None
    meta = fm["metadata"]
    configmap = training_job_name(meta["name"], training_hash(fm["spec"]))
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": child_metadata(fm, retrain_cronjob_name(meta["name"]), COMPONENT),
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {
                    "labels": child_metadata(fm, "", COMPONENT, _training_labels(fm, SCHEDULE))[
                        "labels"
                    ]
                },
                "spec": _job_spec(fm, config, configmap=configmap, reason=SCHEDULE),
            },
        },
    }
