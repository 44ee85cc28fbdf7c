"""What the reconciler sees of a FraudModel's children, read from their bodies (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fraud_operator.builders.common import STORAGE_ERROR_EXIT_CODE

ACTIVE, SUCCEEDED, FAILED = "Active", "Succeeded", "Failed"
#: TrainingSucceeded's reason when the Job could not read its data from object storage.
STORAGE_ERROR = "StorageError"
LOG_TAIL_LINES = 10
#: Waiting reasons of a container that will not start without a person: a missing Secret or
#: ConfigMap, an image that cannot be pulled, a process that keeps exiting.
BLOCKED_REASONS = frozenset(
    {
        "CreateContainerConfigError",
        "CreateContainerError",
        "ErrImagePull",
        "ErrImageNeverPull",
        "ImagePullBackOff",
        "InvalidImageName",
        "CrashLoopBackOff",
    }
)


@dataclass(frozen=True)
class TrainingRun:
    """A Job's outcome (training or gate), with the reason a person needs when it failed."""

    name: str
    state: str  # ACTIVE, SUCCEEDED or FAILED
    reason: str = ""
    message: str = ""
    completed_at: str | None = None


def _true_condition(job: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_ and cond.get("status") == "True":
            return cond
    return None


def _last_failure(pods: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The ``terminated`` state of the last container among a Job's pods that exited non-zero."""
    failures = [
        terminated
        for pod in pods
        for status in (pod.get("status") or {}).get("containerStatuses") or []
        if (terminated := (status.get("state") or {}).get("terminated"))
        and terminated.get("exitCode", 0) != 0
    ]
    return max(failures, key=lambda t: t.get("finishedAt") or "", default=None)


def _storage_error(job_name: str, pods: Sequence[Mapping[str, Any]]) -> TrainingRun | None:
    """A training Job that failed reading its data from object storage, reported as
    ``StorageError`` with the Job's own one line (the URI and the store's error)."""
    last = _last_failure(pods)
    if last is None or last.get("exitCode") != STORAGE_ERROR_EXIT_CODE:
        return None
    lines = [line for line in (last.get("message") or "").strip().splitlines() if line.strip()]
    said = next((line for line in reversed(lines) if line.startswith("error: ")), "")
    detail = said.removeprefix("error: ") or f"exit code {STORAGE_ERROR_EXIT_CODE}"
    return TrainingRun(job_name, FAILED, STORAGE_ERROR, f"Job {job_name}: storage error: {detail}")


def _termination(pods: Sequence[Mapping[str, Any]]) -> str:
    """Exit code and log tail of the last failed container among a Job's pods."""
    details: list[tuple[str, str]] = []
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            terminated = (status.get("state") or {}).get("terminated")
            if terminated and terminated.get("exitCode", 0) != 0:
                tail = "\n".join(
                    (terminated.get("message") or "").strip().splitlines()[-LOG_TAIL_LINES:]
                )
                text = f"container {status['name']} exited with code {terminated['exitCode']}"
                if tail:
                    text += f"; last log lines:\n{tail}"
                details.append((terminated.get("finishedAt") or "", text))
    return max(details)[1] if details else ""


def training_run(
    job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], activity: str = "training"
) -> TrainingRun:
    """The state of a Job from its conditions, and why it failed from its pods."""
    name = job["metadata"]["name"]
    if (done := _true_condition(job, "Complete")) is not None:
        completed = (job.get("status") or {}).get("completionTime") or done.get(
            "lastTransitionTime"
        )
        return TrainingRun(name, SUCCEEDED, "JobComplete", f"Job {name} completed", completed)
    if (failed := _true_condition(job, "Failed")) is not None:
        if storage := _storage_error(name, pods):
            return storage
        message = f"Job {name} failed: {failed.get('message') or failed.get('reason')}"
        if detail := _termination(pods):
            message += f"; {detail}"
        return TrainingRun(name, FAILED, failed.get("reason") or "JobFailed", message)
    if blocked := pods_not_starting(pods):
        # The Job controller only counts pods: an image that is not there or a Secret that is
        # missing leaves it active forever, so say what the kubelet says.
        return TrainingRun(name, ACTIVE, "PodNotStarting", f"Job {name} cannot start: {blocked}")
    return TrainingRun(name, ACTIVE, "JobRunning", f"Job {name} is {activity}")


def newest(objects: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The most recently created object (name breaks ties, so the choice is stable)."""
    if not objects:
        return None
    return max(objects, key=lambda o: (o["metadata"]["creationTimestamp"], o["metadata"]["name"]))


def pod_is_ready(pod: Mapping[str, Any]) -> bool:
    """Ready condition True and not being deleted."""
    if pod["metadata"].get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def serving_ip(pod: Mapping[str, Any]) -> str | None:
    """The IP a ready pod answers on; None while it is not ready (or has no IP yet)."""
    return (pod.get("status") or {}).get("podIP") if pod_is_ready(pod) else None


def pods_not_starting(pods: Sequence[Mapping[str, Any]]) -> str:
    """Why pods that are not ready cannot start, as the kubelet says it: the first such pod's
    reason and message, and how many more are blocked; empty when none is."""
    blocked: list[str] = []
    for pod in pods:
        if pod_is_ready(pod) or pod["metadata"].get("deletionTimestamp"):
            continue
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in BLOCKED_REASONS:
                detail = f"pod {pod['metadata']['name']}: {waiting['reason']}"
                if message := (waiting.get("message") or "").strip():
                    detail += f": {message}"
                last = (status.get("lastState") or {}).get("terminated") or {}
                if last:
                    # Why it keeps exiting (OOMKilled, Error) is in the last termination only.
                    detail += (
                        f" (last exit: {last.get('reason') or 'terminated'}, "
                        f"code {last.get('exitCode')})"
                    )
                blocked.append(detail)
                break
    if len(blocked) > 1:
        return f"{blocked[0]} (and {len(blocked) - 1} more pod(s))"
    return blocked[0] if blocked else ""


@dataclass(frozen=True)
class Serving:
    """The serving workload as observed: how many pods are ready and which version each serves,
    a problem with the serving objects themselves, or why pods cannot start."""

    ready_pods: int = 0
    wanted_pods: int = 0
    pod_versions: dict[str, str | None] = field(default_factory=dict)
    problem: str = ""
    not_starting: str = ""
    #: While a KServe canary is under way: what it is doing, in one sentence (else empty).
    canary: str = ""
    #: The canary was judged healthy this pass and the stable predictor now rolls out to it.
    canary_promoted: bool = False
    #: ``status.traffic``: the ready pods of each revision and the share of connections they get.
    traffic: tuple[dict[str, Any], ...] = ()

    def serves(self, version: str) -> bool:
        """Every ready pod answers with ``version`` and at least one pod is ready."""
        return self.ready_pods > 0 and all(v == version for v in self.pod_versions.values())
