"""The monitoring pass: a CronJob running ``python -m fraud_training.monitoring`` on a schedule.

A CronJob rather than a kopf timer, for the reasons the retraining schedule is one: the pass is
heavy work (a window of the audit trail, the champion's bundle, an MLflow run), it must survive
operator restarts, and a person sees its history with kubectl. The pass writes its result document
to the container's termination message, where the operator reads it (see
:mod:`fraud_operator.monitoring`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fraud_operator.builders.common import (
    audit_database_env,
    child_metadata,
    fail_on_user_error,
    resources,
    restricted_security_context,
)
from fraud_operator.builders.serving import champion_uri
from fraud_operator.builders.training import tracking_uri
from fraud_operator.config import OperatorConfig
from fraud_operator.naming import monitor_cronjob_name

COMPONENT = "monitoring"
CONTAINER = "monitor"
#: Where the pass writes its result; the kubelet makes the file's content the termination message.
RESULT_PATH = "/dev/termination-log"
#: One pass reads a window of the audit trail and one bundle: far less than training. Fixed by
#: design, like the gate's.
RESOURCES = {
    "requests": {"cpu": "250m", "memory": "512Mi"},
    "limits": {"cpu": "1", "memory": "2Gi"},
}
#: A pass that could not run (database or registry down) is retried twice; bad input (exit 2)
#: fails at once. The next scheduled pass is the real retry.
BACKOFF_LIMIT = 2
ACTIVE_DEADLINE_SECONDS = 1800
#: Enough finished Jobs for the operator to read the newest and a person to see a few.
HISTORY = 3


def monitor_command(fm: Mapping[str, Any]) -> list[str]:
    """The pass as ``spec.monitoring`` asks for it, against the champion the pods serve."""
    meta, monitoring = fm["metadata"], fm["spec"]["monitoring"]
    bands = monitoring["psiBands"]
    return [
        "python",
        "-m",
        "fraud_training.monitoring",
        "--model-uri",
        champion_uri(fm),
        "--window",
        str(monitoring["window"]),
        "--min-rows",
        str(monitoring["minRows"]),
        "--psi-moderate",
        str(bands["moderate"]),
        "--psi-major",
        str(bands["major"]),
        "--fdr",
        str(monitoring["falseDiscoveryRate"]),
        "--fraudmodel",
        f"{meta['namespace']}/{meta['name']}",
        "--result-file",
        RESULT_PATH,
    ]


def build_monitor_cronjob(fm: Mapping[str, Any], config: OperatorConfig) -> dict[str, Any] | None:
    """The FraudModel's monitoring CronJob, or None when the operator has no audit trail to read
    (no ``DATABASE_URL`` for serving pods): a pass would only fail."""
    database = audit_database_env(config)
    if database is None:
        return None
    monitoring = fm["spec"]["monitoring"]
    name = monitor_cronjob_name(fm["metadata"]["name"])
    labels = child_metadata(fm, "", COMPONENT)["labels"]
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": child_metadata(fm, name, COMPONENT),
        "spec": {
            "schedule": monitoring["schedule"],
            "suspend": bool(monitoring["suspend"]),
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 600,
            "successfulJobsHistoryLimit": HISTORY,
            "failedJobsHistoryLimit": HISTORY,
            "jobTemplate": {
                "metadata": {"labels": labels},
                "spec": {
                    "backoffLimit": BACKOFF_LIMIT,
                    "activeDeadlineSeconds": ACTIVE_DEADLINE_SECONDS,
                    "ttlSecondsAfterFinished": config.job_ttl_seconds,
                    "podFailurePolicy": fail_on_user_error(CONTAINER),
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "restartPolicy": "Never",
                            "securityContext": {
                                "runAsNonRoot": True,
                                "runAsUser": 10001,
                                "fsGroup": 10001,
                            },
                            "containers": [
                                {
                                    "name": CONTAINER,
                                    "image": fm["spec"]["training"]["image"],
                                    "command": monitor_command(fm),
                                    "env": [
                                        database,
                                        {
                                            "name": "MLFLOW_TRACKING_URI",
                                            "value": tracking_uri(fm["spec"], config),
                                        },
                                        {"name": "TMPDIR", "value": "/tmp"},
                                    ],
                                    "resources": resources(RESOURCES),
                                    "terminationMessagePath": RESULT_PATH,
                                    # The result on success; the log tail saying why on failure.
                                    "terminationMessagePolicy": "FallbackToLogsOnError",
                                    "securityContext": restricted_security_context(),
                                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                                }
                            ],
                            "volumes": [{"name": "tmp", "emptyDir": {}}],
                        },
                    },
                },
            },
        },
    }
