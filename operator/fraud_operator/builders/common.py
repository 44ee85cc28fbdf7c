"""Pieces every child body shares: metadata with owner reference, resources, security context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fraud_operator.config import OperatorConfig, SecretKey
from fraud_operator.naming import API_VERSION, KIND, labels


def owner_reference(fm: Mapping[str, Any]) -> dict[str, Any]:
    """Makes the FraudModel the controller of a child, so deleting it garbage-collects the child."""
    meta = fm["metadata"]
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def child_metadata(
    fm: Mapping[str, Any], name: str, component: str, extra_labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Metadata of a child: its name, the FraudModel's namespace, labels and owner reference."""
    return {
        "name": name,
        "namespace": fm["metadata"]["namespace"],
        "labels": {**labels(fm["metadata"]["name"], component), **(extra_labels or {})},
        "ownerReferences": [owner_reference(fm)],
    }


def resources(spec_resources: Mapping[str, Any]) -> dict[str, Any]:
    """Container resources as the spec gives them (the CRD defaults requests and limits, so
    nothing runs unbounded), quantities as strings."""
    return {
        part: {k: str(v) for k, v in (spec_resources.get(part) or {}).items()}
        for part in ("requests", "limits")
    }


def restricted_security_context() -> dict[str, Any]:
    """The 'restricted' Pod Security Standard: non-root, read-only root, no capabilities."""
    return {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def env_list(values: Mapping[str, str]) -> list[dict[str, str]]:
    """``{"A": "1"}`` as a container's ``env`` list, sorted so bodies compare stably."""
    return [{"name": k, "value": str(v)} for k, v in sorted(values.items())]


def secret_env_list(secrets: Mapping[str, SecretKey]) -> list[dict[str, Any]]:
    """Variables read from Secrets (``secretKeyRef``), sorted like :func:`env_list`."""
    return [
        {"name": k, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}
        for k, ref in sorted(secrets.items())
    ]


#: fraudctl and the Jobs' entrypoints exit 2 on a user error (bad data, a missing file, a version
#: that does not exist): retrying cannot help.
USER_ERROR_EXIT_CODE = 2
#: The training Job exits 3 when the object store refuses or cannot serve its data (credentials,
#: bucket, object, endpoint: ``fraud_training.object_store.StorageError``); the SDK has already
#: retried, so a person must act. The operator reports it as ``StorageError``.
STORAGE_ERROR_EXIT_CODE = 3


def fail_on_user_error(
    container: str, exit_codes: tuple[int, ...] = (USER_ERROR_EXIT_CODE,)
) -> dict[str, Any]:
    """A Job's podFailurePolicy that fails the Job at once when ``container`` exits with one of
    ``exit_codes`` (a user error by default), instead of spending its backoff on retries that
    cannot succeed."""
    return {
        "rules": [
            {
                "action": "FailJob",
                "onExitCodes": {
                    "containerName": container,
                    "operator": "In",
                    "values": list(exit_codes),
                },
            }
        ]
    }


#: The variable that names the audit trail, for serving pods and for the Jobs that read it.
DATABASE_URL = "DATABASE_URL"


def audit_database_env(config: OperatorConfig) -> dict[str, Any] | None:
    """The audit trail's ``DATABASE_URL`` exactly as serving pods get it (a ``secretKeyRef`` or a
    plain value from the operator's config), or None when the operator has no audit trail."""
    if (ref := config.serving_secrets.get(DATABASE_URL)) is not None:
        return secret_env_list({DATABASE_URL: ref})[0]
    if (value := config.serving_env.get(DATABASE_URL)) is not None:
        return {"name": DATABASE_URL, "value": value}
    return None
