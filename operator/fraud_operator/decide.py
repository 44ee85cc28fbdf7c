"""From what was observed to what the status says: phase, message and conditions (pure).

The phase is derived from the world every time, never advanced from the previous phase, so a missed
event or a restart cannot leave a FraudModel stuck: the next look puts it right.
"""

from __future__ import annotations

from dataclasses import dataclass

from fraud_operator.observed import ACTIVE, FAILED, Serving, TrainingRun
from fraud_operator.registry import VersionInfo
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
#: ServingReady's reason while a KServe canary soaks beside the stable revision (phase Promoting).
CANARY = "Canary"
#: ServingReady's reason on the pass that found the canary healthy and promoted it.
CANARY_PROMOTED = "CanaryPromoted"
#: Validated's reason when the gate Job itself failed (registry down past its retries, bad input).
GATE_ERROR = "GateError"


@dataclass(frozen=True)
class Observation:
    """Everything the status is derived from."""

    spec_error: str | None = None
    run: TrainingRun | None = None
    candidate: VersionInfo | None = None
    #: The candidate's gate Job, while the candidate has no decision yet.
    gate_run: TrainingRun | None = None
    champion: VersionInfo | None = None
    #: The promotion policy's verdict (:func:`fraud_operator.promotion.plan`).
    promoted: Condition | None = None
    promoting: bool = False
    pin_problem: str | None = None
    serving: Serving | None = None

    @property
    def gate_error(self) -> bool:
        """The candidate's gate Job failed without recording a decision."""
        return (
            self.candidate is not None
            and self.candidate.gate is None
            and self.gate_run is not None
            and self.gate_run.state == FAILED
        )


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
        reason = "PodNotStarting" if run.reason == "PodNotStarting" else "Training"
        return Condition(TRAINING_SUCCEEDED, "Unknown", reason, run.message)
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
    message = candidate.gate_message
    if candidate.gate == "passed":
        return Condition(VALIDATED, "True", "GatePassed", f"version {candidate.version}: {message}")
    if candidate.gate == "failed":
        return Condition(
            VALIDATED, "False", "GateFailed", f"version {candidate.version}: {message}"
        )
    if obs.gate_error and obs.gate_run is not None:
        return Condition(
            VALIDATED,
            "False",
            GATE_ERROR,
            f"version {candidate.version} could not be validated: {obs.gate_run.message}",
        )
    doing = obs.gate_run.message if obs.gate_run else "starting the gate Job"
    return Condition(VALIDATED, "Unknown", "Validating", f"version {candidate.version}: {doing}")


def _promoted(obs: Observation) -> Condition:
    if obs.promoted is not None:
        return obs.promoted
    if obs.champion is None:
        return Condition(PROMOTED, "False", NO_CHAMPION, "no version holds the champion alias")
    return Condition(PROMOTED, "True", "Champion", f"version {obs.champion.version} is champion")


def _serving(obs: Observation) -> Condition:
    serving, champion = obs.serving, obs.champion
    if champion is None or serving is None:
        return Condition(SERVING_READY, "False", NOTHING_TO_SERVE, "no champion to serve yet")
    if serving.problem:
        return Condition(SERVING_READY, "False", "ServingUnavailable", serving.problem)
    if serving.canary:
        reason = CANARY_PROMOTED if serving.canary_promoted else CANARY
        return Condition(SERVING_READY, "True", reason, serving.canary)
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
    if candidate is not None and candidate.gate is None and not obs.gate_error:
        return "Validating", conditions[VALIDATED].message
    if obs.promoting:
        return "Promoting", conditions[PROMOTED].message
    if champion is None:
        if run is None:
            return "Pending", "waiting for the training Job"
        failing = next(c for c in conditions.values() if c.status == "False")
        return "Failed", failing.message
    if obs.pin_problem:
        return "Degraded", conditions[PROMOTED].message
    serving = conditions[SERVING_READY]
    if serving.reason in (CANARY, CANARY_PROMOTED):
        return "Promoting", serving.message
    if serving.status == "True":
        note = ""
        if run is not None and run.state == FAILED:
            note = f"; latest training failed: {run.reason}"
        elif candidate is not None and candidate.gate == "failed":
            note = f"; version {candidate.version} failed the gate"
        elif obs.gate_error and candidate is not None:
            note = f"; version {candidate.version} could not be validated ({GATE_ERROR})"
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
