"""Every (verb, API group, resource) the operator needs, derived from running its code.

The reconciler's own requests are recorded by the in-memory cluster while stories covering every
branch run (each runtime, a schedule set and removed, a superseded Job, the gate, a failed Job,
a monitoring pass read and a retraining started, an operator without an audit trail);
server-side apply counts as ``patch`` plus ``create`` (an apply that creates the object is
authorised as a create). What kopf itself does (watching FraudModels, patching their status and
annotations, posting Events) is not our code's to record and is listed here with the reason.
"""

from __future__ import annotations

from functools import cache

from fakes import CONFIG, Scenario
from fraud_operator.config import OperatorConfig

Need = tuple[str, str, str]  # verb, API group, resource

#: kopf's own requests, which no reconcile makes.
KOPF_NEEDS: frozenset[Need] = frozenset(
    {
        ("list", "fraudops.io", "fraudmodels"),
        ("watch", "fraudops.io", "fraudmodels"),
        # finalizer, progress and last-handled-configuration annotations
        ("patch", "fraudops.io", "fraudmodels"),
        ("patch", "fraudops.io", "fraudmodels/status"),
        ("create", "", "events"),
    }
)
#: Needed in cluster mode only: kopf re-scans served resources when CRDs change.
CLUSTER_KOPF_NEEDS: frozenset[Need] = frozenset(
    {
        ("list", "apiextensions.k8s.io", "customresourcedefinitions"),
        ("watch", "apiextensions.k8s.io", "customresourcedefinitions"),
    }
)
#: Not a request: the OwnerReferencesPermissionEnforcement admission plugin lets a client set
#: blockOwnerDeletion on a child only with update on its owner's finalizers.
ADMISSION_NEEDS: frozenset[Need] = frozenset({("update", "fraudops.io", "fraudmodels/finalizers")})

SYNTHETIC = {"data": {"synthetic": {"rows": 20_000}}}


def _stories() -> list[Scenario]:
    fastapi = Scenario({**SYNTHETIC, "retraining": {"schedule": "@daily"}})
    first = fastapi.trained()
    fastapi.edit(data={"synthetic": {"rows": 20_000, "seed": 5}}, retraining={})
    fastapi.trained(gate=None)
    fastapi.cluster.finish(f"cards-gate-v{int(first) + 1}", succeeded=False)
    fastapi.reconcile()
    fastapi.cluster.finish(fastapi.training_job(), succeeded=False)
    fastapi.reconcile()

    monitored = Scenario(
        {**SYNTHETIC, "retraining": {"drift": {"psiThreshold": 0.25, "minRows": 1000}}}
    )
    monitored.trained()
    monitored.cluster.run_monitor(
        {"verdict": "drifting", "driftScore": 0.6, "rows": 5000, "lastRun": "2999-01-01T00:00:00Z"}
    )
    monitored.reconcile()
    monitored.reconcile(OperatorConfig(tracking_uri=CONFIG.tracking_uri))  # no audit trail

    kserve = Scenario({**SYNTHETIC, "serving": {"runtime": "kserve"}}, {"InferenceService"})
    kserve.trained()
    kserve.edit(serving={"runtime": "fastapi"})
    kserve.reconcile()
    return [fastapi, monitored, kserve]


@cache
def reconciler_needs() -> frozenset[Need]:
    """What the reconciler asked of the cluster across the stories."""
    needs: set[Need] = set()
    for story in _stories():
        for verb, group, plural in story.cluster.requests:
            needs.add((verb, group, plural))
            if verb == "patch":
                needs.add(("create", group, plural))
    return frozenset(needs)


def operator_needs(cluster_wide: bool = True) -> frozenset[Need]:
    """Everything the operator's ServiceAccount must be allowed."""
    extra = CLUSTER_KOPF_NEEDS if cluster_wide else frozenset()
    return reconciler_needs() | KOPF_NEEDS | ADMISSION_NEEDS | extra
