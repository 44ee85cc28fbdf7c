"""Serving on KServe: the stable predictor pinned to the champion, and while a new champion soaks
a canary predictor beside it (see :mod:`fraud_operator.canary` for why the operator splits the
traffic itself, and how the canary is judged).

Everything is read from the cluster on every pass: the stable InferenceService's version label
says what the stable revision serves, the pods' labels which revision each belongs to;
``status.canary`` only keeps when the canary became ready and the stable counters then. A canary
ends in one of two ways: promoted (the stable predictor is pinned to the new version, and the
canary goes once every stable pod serves it) or rolled back (the canary goes at once, and the
reconciler gives the champion alias back to the stable version).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fraud_operator import canary
from fraud_operator.builders.serving import build_inference_service
from fraud_operator.config import OperatorConfig
from fraud_operator.monitoring import parse_time
from fraud_operator.naming import (
    LABEL_MODEL_VERSION,
    LABEL_TRACK,
    TRACK_CANARY,
    TRACK_STABLE,
    canary_serving_name,
    selector,
    serving_name,
)
from fraud_operator.observed import Serving, pods_not_starting, serving_ip
from fraud_operator.status import now_iso
from fraud_operator.world import World

ISVC = ("serving.kserve.io/v1beta1", "InferenceService")


@dataclass(frozen=True)
class ServingOutcome:
    """What a serving pass found and did (either runtime): the serving pods, ``status.canary``
    to write (None: no canary), and a rollback the reconciler must carry out in the registry."""

    serving: Serving
    canary: dict[str, Any] | None = None
    #: The canary was rolled back: (stable version to make champion again, why).
    rolled_back: tuple[str, str] | None = None


def pinned_version(isvc: Mapping[str, Any] | None) -> str | None:
    """The version an InferenceService the operator made serves (its label, or for one made
    before the label existed the ``models:/<name>/<version>`` it loads)."""
    if isvc is None:
        return None
    labels = isvc["metadata"].get("labels") or {}
    if LABEL_MODEL_VERSION in labels:
        return str(labels[LABEL_MODEL_VERSION])
    for container in isvc["spec"]["predictor"].get("containers") or []:
        for env in container.get("env") or []:
            if env["name"] == "MODEL_URI" and env.get("value", "").rsplit("/", 1)[-1].isdigit():
                return env["value"].rsplit("/", 1)[-1]
    return None


def _track(pod: Mapping[str, Any]) -> str:
    return (pod["metadata"].get("labels") or {}).get(LABEL_TRACK, TRACK_STABLE)


def _version(pod: Mapping[str, Any]) -> str | None:
    return (pod["metadata"].get("labels") or {}).get(LABEL_MODEL_VERSION)


def _ready_versions(pods: Sequence[Mapping[str, Any]]) -> dict[str, str | None]:
    """The ready pods' IPs, each with the version its labels say it serves."""
    return {ip: _version(p) for p in pods if (ip := serving_ip(p))}


def traffic(pod_versions: Mapping[str, str | None], canary_ips: Sequence[str]) -> tuple[dict, ...]:
    """``status.traffic``: ready pods per (track, version), and their share of connections."""
    counts = Counter(
        (TRACK_CANARY if ip in canary_ips else TRACK_STABLE, version or "unknown")
        for ip, version in pod_versions.items()
    )
    ready = sum(counts.values())
    stable_first = sorted(counts.items(), key=lambda kv: (kv[0][0] != TRACK_STABLE, kv))
    return tuple(
        {"track": track, "version": version, "pods": n, "percent": round(100 * n / ready)}
        for (track, version), n in stable_first
    )


def _only(serving: Serving, ips: Sequence[str]) -> Serving:
    """The observation of the pods at ``ips`` alone (the stable ones, once a canary is gone)."""
    versions = {ip: v for ip, v in serving.pod_versions.items() if ip in ips}
    return replace(
        serving,
        ready_pods=len(versions),
        pod_versions=versions,
        traffic=traffic(versions, ()),
    )


def _seconds_since(started: str, now: str) -> float:
    return (parse_time(now) - parse_time(started)).total_seconds()


async def _serve_stable_only(
    world: World,
    fm: Mapping[str, Any],
    config: OperatorConfig,
    champion: str,
    pods: Sequence[Mapping[str, Any]],
) -> ServingOutcome:
    """The stable predictor serves the champion; a canary left over goes once it has."""
    meta, serving_spec = fm["metadata"], fm["spec"]["serving"]
    await world.cluster.apply(build_inference_service(fm, config, champion))
    stable = [p for p in pods if _track(p) != TRACK_CANARY]
    serving = await world.converge(stable, serving_spec["minReplicas"], champion, None)
    if serving.serves(champion):
        await world.cluster.delete(*ISVC, meta["namespace"], canary_serving_name(meta["name"]))
    leftover = _ready_versions([p for p in pods if _track(p) == TRACK_CANARY])
    return ServingOutcome(
        replace(serving, traffic=traffic({**serving.pod_versions, **leftover}, list(leftover)))
    )


async def ensure_kserve(
    world: World,
    fm: Mapping[str, Any],
    config: OperatorConfig,
    champion: str,
    saved: Mapping[str, Any] | None,
) -> ServingOutcome:
    """The InferenceServices for ``champion``: pinned to it directly, or as a canary beside the
    stable revision when ``serving.canaryTrafficPercent`` asks for one (never for a pin, which is
    a person's explicit choice, nor for the first version, which has nothing to compare with)."""
    cluster, meta, serving_spec = world.cluster, fm["metadata"], fm["spec"]["serving"]
    namespace = meta["namespace"]
    stable_version = pinned_version(await cluster.get(*ISVC, namespace, serving_name(meta["name"])))
    pods = await cluster.list("v1", "Pod", namespace, selector(meta["name"], "serving"))
    rules = canary.policy(serving_spec) if serving_spec.get("version") is None else None
    if rules is None or stable_version in (None, champion):
        return await _serve_stable_only(world, fm, config, champion, pods)
    return await _serve_canary(world, fm, config, (stable_version, champion), rules, pods, saved)


async def _serve_canary(
    world: World,
    fm: Mapping[str, Any],
    config: OperatorConfig,
    versions: tuple[str, str],
    rules: canary.Policy,
    pods: Sequence[Mapping[str, Any]],
    saved: Mapping[str, Any] | None,
) -> ServingOutcome:
    """One step of the canary of ``versions`` (stable, champion): both predictors applied with
    the split's replica counts, then, by what is ready and what the pods measured, keep starting
    or soaking, promote, or roll back."""
    cluster, meta, serving_spec = world.cluster, fm["metadata"], fm["spec"]["serving"]
    namespace = meta["namespace"]
    stable_version, champion = versions
    stable_pods = [p for p in pods if _track(p) != TRACK_CANARY]
    canary_pods = [p for p in pods if _track(p) == TRACK_CANARY and _version(p) == champion]
    stable_ips, canary_ips = list(_ready_versions(stable_pods)), list(_ready_versions(canary_pods))
    stable_min, canary_n = canary.replicas(
        rules.percent, serving_spec["minReplicas"], serving_spec["maxReplicas"], len(stable_ips)
    )
    await cluster.apply(
        build_inference_service(
            fm, config, stable_version, replicas=(stable_min, serving_spec["maxReplicas"])
        )
    )
    await cluster.apply(
        build_inference_service(fm, config, champion, TRACK_CANARY, (canary_n, canary_n))
    )
    serving = await world.converge(stable_pods + canary_pods, stable_min + canary_n, champion, None)
    split = traffic(serving.pod_versions, canary_ips)
    beside = f"version {champion} beside version {stable_version}"
    now = now_iso()
    saved = dict(saved or {}) if (saved or {}).get("version") == champion else {}
    saved.update(version=champion, stableVersion=stable_version)
    saved.setdefault("requestedAt", now)

    async def roll_back(why: str) -> ServingOutcome:
        await cluster.delete(*ISVC, namespace, canary_serving_name(meta["name"]))
        return ServingOutcome(_only(serving, stable_ips), None, (stable_version, why))

    if len(canary_ips) < canary_n:
        if blocked := pods_not_starting(canary_pods):
            return await roll_back(f"its pods cannot start: {blocked}")
        waited = _seconds_since(saved["requestedAt"], now)
        if waited > rules.progress_deadline_seconds:
            return await roll_back(
                f"{len(canary_ips)}/{canary_n} of its pods ready after {waited:.0f} s "
                f"(serving.canary.progressDeadlineSeconds {rules.progress_deadline_seconds})"
            )
        message = f"canary: starting {canary_n} pod(s) of {beside} ({len(canary_ips)} ready)"
        return ServingOutcome(replace(serving, canary=message, traffic=split), saved)

    measured = await world.scrape(stable_ips + canary_ips)
    stable_now = canary.total(s for ip in stable_ips if (s := measured.get(ip)) is not None)
    canary_now = canary.total(s for ip in canary_ips if (s := measured.get(ip)) is not None)
    if "startedAt" not in saved:
        saved.update(startedAt=now, stableBaseline=stable_now.to_status())
    baseline = canary.RequestStats.from_status(saved["stableBaseline"])
    verdict = canary.judge(
        rules, canary_now, stable_now.since(baseline), _seconds_since(saved["startedAt"], now)
    )
    share = canary.share(len(canary_ips), len(stable_ips))
    if verdict.action == canary.ROLL_BACK:
        return await roll_back(verdict.message)
    if verdict.action == canary.PROMOTE:
        await cluster.apply(build_inference_service(fm, config, champion))
        message = f"canary: promoting version {champion} to every pod: {verdict.message}"
        promoted = replace(serving, canary=message, canary_promoted=True, traffic=split)
        return ServingOutcome(promoted, None)
    message = f"canary: {beside} takes {share} % of connections; {verdict.message}"
    return ServingOutcome(replace(serving, canary=message, traffic=split), saved)
