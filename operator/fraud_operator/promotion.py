"""Who should be champion and challenger, decided from the registry alone (pure).

The policy, in the order it is applied:

1. **A pin wins.** ``spec.serving.version`` set: that version becomes champion (if it exists and
   did not fail the gate) and nothing is promoted automatically while the pin stays. A pin to a
   missing or failed version changes nothing; the status says why (``PinnedVersionInvalid``).
2. **Unpinning resumes the policy.** A champion the operator put there *for a pin* is replaced,
   once the pin is gone, by the newest version the policy itself had promoted.
3. **Each passed candidate is promoted once.** A candidate that passed the gate and was never
   champion (no ``promoted_by`` tag) is announced (phase Promoting) and promoted on the next pass.
   Having been promoted once, it is never promoted again by the policy.
4. **A rolled-back canary stays rolled back.** A version the operator rolled back after its
   canary (``rolled_back`` tag) is neither promoted again nor challenger; the old champion
   serves and the status says why (``CanaryRolledBack``).
5. **People are respected.** A champion someone else chose (``fraudctl promote``) stays; the status
   says so (``ExternalPromotion``) instead of reverting it.

``challenger`` is the newest candidate under evaluation or passed and not champion; a version that
failed or became champion loses it. Failure itself is the ``gate`` tag, never an alias.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fraud_training import version_tags

from fraud_operator.registry import CHALLENGER, CHAMPION, VersionInfo, by_alias, by_number
from fraud_operator.status import NO_CHAMPION, PROMOTED, Condition

PINNED = "Pinned"
PIN_INVALID = "PinnedVersionInvalid"
EXTERNAL = "ExternalPromotion"
PROMOTING = "Promoting"
CANARY_ROLLED_BACK = "CanaryRolledBack"
#: Reasons the operator itself writes when it is the policy, not a pin, that chose a champion.
POLICY_REASONS = frozenset({version_tags.REASON_GATE_PASSED, version_tags.REASON_UNPINNED})


@dataclass(frozen=True)
class Promote:
    """Make ``version`` champion, recording ``reason`` on it."""

    version: str
    reason: str


@dataclass(frozen=True)
class SetChallenger:
    version: str


@dataclass(frozen=True)
class DropChallenger:
    pass


Action = Promote | SetChallenger | DropChallenger


@dataclass(frozen=True)
class Plan:
    """What to change in the registry, and what the status says about promotion."""

    actions: tuple[Action, ...]
    champion: str | None
    promoted: Condition
    promoting: bool = False
    pin_problem: str | None = None


def _by_operator(version: VersionInfo | None, reasons: frozenset[str]) -> bool:
    return (
        version is not None
        and version.promoted_by == version_tags.OPERATOR
        and version.promoted_reason in reasons
    )


def _pin_problem(versions: Sequence[VersionInfo], pin: int, model: str) -> str | None:
    target = by_number(versions, pin)
    if target is None:
        existing = ", ".join(v.version for v in versions) or "none"
        return (
            f"spec.serving.version {pin}: model {model} has no version {pin} (versions: {existing})"
        )
    if target.gate == version_tags.GATE_FAILED:
        return f"spec.serving.version {pin}: version {pin} failed the gate: {target.gate_message}"
    return None


def _champion_plan(
    versions: Sequence[VersionInfo],
    model: str,
    candidate: VersionInfo | None,
    pin: int | None,
    announced: bool,
) -> Plan:
    champion = by_alias(versions, CHAMPION)
    current = champion.version if champion else None
    if pin is not None:
        if problem := _pin_problem(versions, pin, model):
            kept = f"; version {current} keeps serving" if current else ""
            return Plan(
                (),
                current,
                Condition(PROMOTED, "False", PIN_INVALID, problem + kept),
                pin_problem=problem,
            )
        message = f"version {pin} is pinned by spec.serving.version"
        actions = () if current == str(pin) else (Promote(str(pin), version_tags.REASON_PINNED),)
        return Plan(actions, str(pin), Condition(PROMOTED, "True", PINNED, message))
    if _by_operator(champion, frozenset({version_tags.REASON_PINNED})):
        chosen = [
            v
            for v in versions
            if _by_operator(v, POLICY_REASONS) and v.version != current and not v.rolled_back
        ]
        if chosen:
            target = max(chosen, key=lambda v: v.number)
            message = f"pin removed: version {target.version} is champion again"
            return Plan(
                (Promote(target.version, version_tags.REASON_UNPINNED),),
                target.version,
                Condition(PROMOTED, "True", "Champion", message),
            )
    if (
        candidate is not None
        and candidate.gate == version_tags.GATE_PASSED
        and candidate.promoted_by is None
        and candidate.version != current
    ):
        if announced:
            message = f"version {candidate.version} passed the gate and is champion"
            return Plan(
                (Promote(candidate.version, version_tags.REASON_GATE_PASSED),),
                candidate.version,
                Condition(PROMOTED, "True", "Champion", message),
            )
        message = f"version {candidate.version} passed the gate; promoting it to champion"
        return Plan((), current, Condition(PROMOTED, "Unknown", PROMOTING, message), promoting=True)
    if champion is None:
        return Plan(
            (),
            None,
            Condition(PROMOTED, "False", NO_CHAMPION, "no version holds the champion alias"),
        )
    if candidate is not None and candidate.rolled_back and candidate.version != current:
        message = f"{candidate.rolled_back}; version {current} is champion again"
        return Plan((), current, Condition(PROMOTED, "False", CANARY_ROLLED_BACK, message))
    if champion.promoted_by != version_tags.OPERATOR:
        who = champion.promoted_by or "someone outside the operator"
        why = f" ({champion.promoted_reason})" if champion.promoted_reason else ""
        message = (
            f"version {current} was made champion by {who}{why}; the operator keeps it "
            "(pin it with spec.serving.version to make that explicit)"
        )
        return Plan((), current, Condition(PROMOTED, "True", EXTERNAL, message))
    if candidate is not None and candidate.gate == version_tags.GATE_FAILED:
        message = f"version {candidate.version} failed the gate; version {current} remains champion"
        return Plan((), current, Condition(PROMOTED, "False", "ChampionKept", message))
    return Plan(
        (), current, Condition(PROMOTED, "True", "Champion", f"version {current} is champion")
    )


def _challenger_actions(
    versions: Sequence[VersionInfo], candidate: VersionInfo | None, champion: str | None
) -> tuple[Action, ...]:
    current = by_alias(versions, CHALLENGER)
    wanted: str | None = None
    if (
        candidate is not None
        and candidate.version != champion
        and candidate.gate in (None, version_tags.GATE_PASSED)
        and not candidate.rolled_back
    ):
        wanted = candidate.version
    if wanted is not None:
        return () if current is not None and current.version == wanted else (SetChallenger(wanted),)
    if current is not None and (
        current.version == champion
        or current.gate == version_tags.GATE_FAILED
        or current.rolled_back
    ):
        return (DropChallenger(),)
    return ()


def plan(
    versions: Sequence[VersionInfo],
    model: str,
    candidate: VersionInfo | None,
    pin: int | None,
    announced: bool,
) -> Plan:
    """The registry changes this pass makes and the Promoted condition they lead to.

    ``announced``: the last status already said Promoting for this candidate, so the promotion
    that was announced (and evented) is carried out now.
    """
    champion_plan = _champion_plan(versions, model, candidate, pin, announced)
    challenger = _challenger_actions(versions, candidate, champion_plan.champion)
    return Plan(
        champion_plan.actions + challenger,
        champion_plan.champion,
        champion_plan.promoted,
        champion_plan.promoting,
        champion_plan.pin_problem,
    )
