"""From what was observed to what the status says: phase, message and conditions (pure).

The phase is derived from the world every time, never advanced from the previous phase, so a missed
event or a restart cannot leave a FraudModel stuck: the next look puts it right.
"""

from __future__ import annotations

from dataclasses import dataclass

from fraud_operator.observed import ACTIVE, FAILED, Serving, TrainingRun
from fraud_operator.registry import TAG_GATE_MESSAGE, VersionInfo
from fraud_operator.status import (
    NO_CHAMPION,
    NOTHING_TO_SERVE,
    PROMOTED,
    ROLLING_OUT,
    SERVING_READY,
    TRAINING_SUCCEEDED,
    VALIDATED,
    Condition,
)

#: ServingReady's reason when no pod serves because the pods cannot start (the phase is Degraded).
PODS_NOT_STARTING = "PodsNotStarting"


@dataclass(frozen=True)
class Observation:
    """Everything the status is derived from."""

    spec_error: str | None = None
    run: TrainingRun | None = None
    candidate: VersionInfo | None = None
    champion: VersionInfo | None = None
    serving: Serving | None = None


@dataclass(frozen=True)
class Verdict:
    """The status the observation implies."""

    phase: str
    message: str
    conditions: tuple[Condition, ...]


def _training(obs: Observation) -> Condition:
    run = obs.run
    if run is None:
        return Condition(TRAINING_SUCCEEDED, "Unknown", "NotStarted", "no training Job yet")
    if run.state == ACTIVE:
        return Condition(TRAINING_SUCCEEDED, "Unknown", "Training", run.message)
    if run.state == FAILED:
        return Condition(TRAINING_SUCCEEDED, "False", run.reason, run.message)
    if obs.candidate is None:
        return Condition(
            TRAINING_SUCCEEDED,
            "False",
            "NoModelVersion",
            f"Job {run.name} completed but registered no model version",
        )
    return Condition(
        TRAINING_SUCCEEDED,
        "True",
        "JobComplete",
        f"Job {run.name} registered version {obs.candidate.version}",
    )


def _validated(obs: Observation) -> Condition:
    candidate = obs.candidate
    if candidate is None:
        return Condition(VALIDATED, "Unknown", "AwaitingModel", "no new model version to validate")
    message = candidate.tags.get(TAG_GATE_MESSAGE, "")
    if candidate.gate == "passed":
        return Condition(VALIDATED, "True", "GatePassed", f"version {candidate.version}: {message}")
    if candidate.gate == "failed":
        return Condition(
            VALIDATED, "False", "GateFailed", f"version {candidate.version}: {message}"
        )
    return Condition(VALIDATED, "Unknown", "Validating", f"checking version {candidate.version}")


def _promoted(obs: Observation) -> Condition:
    champion, candidate = obs.champion, obs.candidate
    if champion is None:
        return Condition(PROMOTED, "False", NO_CHAMPION, "no version holds the champion alias")
    if candidate is not None and candidate.version != champion.version:
        if candidate.gate == "failed":
            return Condition(
                PROMOTED,
                "False",
                "ChampionKept",
                f"version {candidate.version} was not promoted; version {champion.version} "
                "remains champion",
            )
        return Condition(
            PROMOTED, "Unknown", "Promoting", f"version {candidate.version} is pending"
        )
    return Condition(PROMOTED, "True", "Champion", f"version {champion.version} is champion")


def _serving(obs: Observation) -> Condition:
    serving, champion = obs.serving, obs.champion
    if champion is None or serving is None:
        return Condition(SERVING_READY, "False", NOTHING_TO_SERVE, "no champion to serve yet")
    if serving.problem:
        return Condition(SERVING_READY, "False", "ServingUnavailable", serving.problem)
    if serving.serves(champion.version):
        return Condition(
            SERVING_READY,
            "True",
            "Serving",
            f"{serving.ready_pods} ready pod(s) serve version {champion.version}",
        )
    if serving.not_starting:
        return Condition(
            SERVING_READY,
            "False",
            PODS_NOT_STARTING,
            f"{serving.ready_pods}/{serving.wanted_pods} pod(s) ready; {serving.not_starting}",
        )
    return Condition(
        SERVING_READY,
        "False",
        ROLLING_OUT,
        f"{serving.ready_pods}/{serving.wanted_pods} pod(s) ready; rolling out version "
        f"{champion.version}",
    )


def _phase(obs: Observation, conditions: dict[str, Condition]) -> tuple[str, str]:
    if obs.spec_error:
        return "Failed", obs.spec_error
    run, candidate, champion = obs.run, obs.candidate, obs.champion
    if run is not None and run.state == ACTIVE:
        return "Training", run.message
    if candidate is not None and candidate.gate is None:
        return "Validating", f"checking version {candidate.version} against the gate"
    if (
        candidate is not None
        and candidate.gate == "passed"
        and (champion is None or champion.version != candidate.version)
    ):
        return "Promoting", f"promoting version {candidate.version} to champion"
    if champion is None:
        if run is None:
            return "Pending", "waiting for the training Job"
        failing = next(c for c in conditions.values() if c.status == "False")
        return "Failed", failing.message
    serving = conditions[SERVING_READY]
    if serving.status == "True":
        note = ""
        if run is not None and run.state == FAILED:
            note = f"; latest training failed: {run.reason}"
        elif candidate is not None and candidate.gate == "failed":
            note = f"; version {candidate.version} failed the gate"
        return "Ready", f"serving version {champion.version}{note}"
    if serving.reason in ("ServingUnavailable", PODS_NOT_STARTING):
        return "Degraded", serving.message
    return "Deploying", serving.message


def decide(obs: Observation) -> Verdict:
    """The phase, its one-line message and the four standard conditions."""
    conditions = {
        c.type: c for c in (_training(obs), _validated(obs), _promoted(obs), _serving(obs))
    }
    if obs.spec_error:
        conditions[TRAINING_SUCCEEDED] = Condition(
            TRAINING_SUCCEEDED, "False", "InvalidSpec", obs.spec_error
        )
    phase, message = _phase(obs, conditions)
    return Verdict(phase, message, tuple(conditions.values()))
