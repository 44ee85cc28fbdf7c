"""Status that speaks to a person: a phase, standard conditions, and what changed between two.

Pure functions over plain dicts. ``lastTransitionTime`` moves only when a condition's status
changes, as the Kubernetes API conventions ask, so a reconcile that finds nothing new writes nothing
new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TRAINING_SUCCEEDED = "TrainingSucceeded"
VALIDATED = "Validated"
PROMOTED = "Promoted"
SERVING_READY = "ServingReady"
DRIFTING = "Drifting"
PERFORMANCE_DEGRADED = "PerformanceDegraded"
CONDITION_TYPES = (
    TRAINING_SUCCEEDED,
    VALIDATED,
    PROMOTED,
    SERVING_READY,
    DRIFTING,
    PERFORMANCE_DEGRADED,
)
#: Conditions that report a problem when True (the monitoring findings), unlike the others.
PROBLEM_WHEN_TRUE = frozenset({DRIFTING, PERFORMANCE_DEGRADED})

#: Reasons of a condition that is False only because its step has not come yet: no champion
#: before the first promotion, nothing to serve before it, pods still rolling out. Announced as
#: Normal Events; every other False condition is a Warning.
NO_CHAMPION = "NoChampion"
NOTHING_TO_SERVE = "NothingToServe"
ROLLING_OUT = "RollingOut"
NOT_YET_REASONS = frozenset({NO_CHAMPION, NOTHING_TO_SERVE, ROLLING_OUT})


def now_iso() -> str:
    """The current time as Kubernetes writes it (RFC 3339, seconds, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Condition:
    """One observation: ``status`` is "True", "False" or "Unknown"; reason is CamelCase."""

    type: str
    status: str
    reason: str
    message: str


def merge_conditions(
    previous: Iterable[Mapping[str, Any]], updates: Iterable[Condition], generation: int, now: str
) -> list[dict[str, Any]]:
    """The condition list after ``updates``, in :data:`CONDITION_TYPES` order.

    Conditions not updated are kept as they were; an update that does not change ``status`` keeps
    the earlier ``lastTransitionTime``.
    """
    by_type = {c["type"]: dict(c) for c in previous}
    for update in updates:
        old = by_type.get(update.type)
        moved = old is None or old.get("status") != update.status
        by_type[update.type] = {
            "type": update.type,
            "status": update.status,
            "reason": update.reason,
            "message": update.message,
            "lastTransitionTime": now if moved else old.get("lastTransitionTime", now),
            "observedGeneration": generation,
        }
    ordered = [by_type.pop(t) for t in CONDITION_TYPES if t in by_type]
    return ordered + list(by_type.values())


def condition(conditions: Iterable[Mapping[str, Any]], type_: str) -> Mapping[str, Any] | None:
    """The condition of ``type_`` in a status, if any."""
    return next((c for c in conditions if c.get("type") == type_), None)


@dataclass(frozen=True)
class Change:
    """A transition worth an Event: what moved and how a person should read it."""

    type: str  # "Normal" or "Warning"
    reason: str
    message: str


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Events for a status transition: every condition whose status or reason moved, and the phase.

    Comparing old and new status (both read from the object) rather than remembering what was
    announced keeps Events right across operator restarts.
    """
    out: list[Change] = []
    old_conditions = old.get("conditions", [])
    for cond in new.get("conditions", []):
        before = condition(old_conditions, cond["type"])
        if before and (before.get("status"), before.get("reason")) == (
            cond["status"],
            cond["reason"],
        ):
            continue
        if cond["type"] in PROBLEM_WHEN_TRUE:
            problem = cond["status"] == "True"
        else:
            problem = cond["status"] == "False" and cond["reason"] not in NOT_YET_REASONS
        kind = "Warning" if problem else "Normal"
        out.append(
            Change(kind, cond["reason"], f"{cond['type']}={cond['status']}: {cond['message']}")
        )
    started = (new.get("retraining") or {}).get("job")
    if started and started != (old.get("retraining") or {}).get("job"):
        retraining = new["retraining"]
        out.append(
            Change(
                "Normal",
                f"Retraining{retraining['reason']}",
                f"started retraining Job {started}: {retraining.get('message', '')}".rstrip(": "),
            )
        )
    if old.get("phase") != new.get("phase") and new.get("phase"):
        kind = "Warning" if new["phase"] in ("Failed", "Degraded") else "Normal"
        message = f"phase {old.get('phase') or '-'} -> {new['phase']}"
        if new.get("message"):
            message += f": {new['message']}"
        out.append(Change(kind, f"Phase{new['phase']}", message))
    return out
