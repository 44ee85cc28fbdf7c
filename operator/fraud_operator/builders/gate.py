"""The gate Job: re-scores one candidate version and its champion, records the decision.

The heavy work (downloading two models and a hold-out, scoring them) runs here, in a Job of the
training image, never in the operator: the operator only reads the ``gate`` tag this Job writes.
Its name derives from the FraudModel and the version, so a restarted operator finds the Job it
created instead of starting a second one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fraud_operator.builders.common import (
    child_metadata,
    fail_on_user_error,
    resources,
    restricted_security_context,
)
from fraud_operator.builders.training import tracking_uri
from fraud_operator.config import OperatorConfig
from fraud_operator.naming import LABEL_MODEL_VERSION, gate_job_name, registered_model_name

COMPONENT = "gate"
CONTAINER = "gate"
#: Scoring a hold-out needs a fraction of training's resources. Fixed by design rather than a
#: spec field: the gate's cost depends on the hold-out size, which training bounds.
RESOURCES = {
    "requests": {"cpu": "250m", "memory": "512Mi"},
    "limits": {"cpu": "1", "memory": "2Gi"},
}
#: Retries of a registry outage (exit code 1); bad input (exit code 2) fails at once.
BACKOFF_LIMIT = 3
ACTIVE_DEADLINE_SECONDS = 1800
#: spec.validation field → the gate Job's option.
POLICY_OPTIONS = (
    ("minRocAuc", "--min-roc-auc"),
    ("minPrAuc", "--min-pr-auc"),
    ("maxRegression", "--max-regression"),
)


def gate_command(fm: Mapping[str, Any], version: str) -> list[str]:
    """``python -m fraud_training.gate_job`` with the model, the version and ``spec.validation``
    as it is now: a validation edit applies to the next candidate."""
    meta, spec = fm["metadata"], fm["spec"]
    command = [
        "python",
        "-m",
        "fraud_training.gate_job",
        "--model",
        registered_model_name(meta["namespace"], meta["name"], spec),
        "--version",
        str(version),
    ]
    for field, option in POLICY_OPTIONS:
        command += [option, str(spec["validation"][field])]
    return command


def build_gate_job(fm: Mapping[str, Any], config: OperatorConfig, version: str) -> dict[str, Any]:
    """The one gate Job of candidate ``version``."""
    name = gate_job_name(fm["metadata"]["name"], version)
    extra = {LABEL_MODEL_VERSION: str(version)}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": child_metadata(fm, name, COMPONENT, extra),
        "spec": {
            "backoffLimit": BACKOFF_LIMIT,
            "activeDeadlineSeconds": ACTIVE_DEADLINE_SECONDS,
            "ttlSecondsAfterFinished": config.job_ttl_seconds,
            "podFailurePolicy": fail_on_user_error(CONTAINER),
            "template": {
                "metadata": {"labels": child_metadata(fm, "", COMPONENT, extra)["labels"]},
                "spec": {
                    "restartPolicy": "Never",
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001},
                    "containers": [
                        {
                            "name": CONTAINER,
                            "image": fm["spec"]["training"]["image"],
                            "command": gate_command(fm, version),
                            "env": [
                                {
                                    "name": "MLFLOW_TRACKING_URI",
                                    "value": tracking_uri(fm["spec"], config),
                                },
                                {"name": "TMPDIR", "value": "/tmp"},
                            ],
                            "resources": resources(RESOURCES),
                            "terminationMessagePolicy": "FallbackToLogsOnError",
                            "securityContext": restricted_security_context(),
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }
