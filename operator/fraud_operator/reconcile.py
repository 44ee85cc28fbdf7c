"""The one reconcile: look at the world, take the next step, write what is true into status.

Called from ``on.create``, ``on.update``, ``on.resume`` and a timer alike. Every step is idempotent
and derived from the cluster and the registry, never from memory: a training Job's name comes from
the hash of the training spec, a gate Job's from the version it judges, the gate's decision and
every promotion live on the model versions, the serving version is asked of the pods themselves.
Heavy work runs in Jobs; this process only creates objects, reads tags and moves aliases.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from typing import Any

from fraud_training import version_tags

from fraud_operator.builders import monitoring as monitor_builder
from fraud_operator.builders.common import audit_database_env
from fraud_operator.builders.gate import build_gate_job
from fraud_operator.builders.monitoring import build_monitor_cronjob
from fraud_operator.builders.serving import (
    ADMIN_TOKEN_KEY,
    build_admin_secret,
    build_deployment,
    build_hpa,
    build_service,
    endpoint,
)
from fraud_operator.builders.training import (
    build_retrain_cronjob,
    build_retraining_job,
    build_training_configmap,
    build_training_job,
    tracking_uri,
    training_hash,
)
from fraud_operator.cluster import KindNotServed
from fraud_operator.config import OperatorConfig
from fraud_operator.crd import with_defaults
from fraud_operator.decide import Observation, decide
from fraud_operator.kserve_serving import ServingOutcome, ensure_kserve
from fraud_operator.monitoring import (
    drifting_condition,
    monitor_result,
    monitoring_status,
    parse_time,
    performance_condition,
    retraining_due,
)
from fraud_operator.naming import (
    LABEL_COMPONENT,
    LABEL_MODEL,
    LABEL_RETRAINING_REASON,
    LABEL_TRAINING_HASH,
    canary_serving_name,
    gate_job_name,
    monitor_cronjob_name,
    registered_model_name,
    retrain_cronjob_name,
    selector,
    serving_name,
)
from fraud_operator.observed import (
    ACTIVE,
    SUCCEEDED,
    Serving,
    TrainingRun,
    newest,
    training_run,
)
from fraud_operator.promotion import (
    CANARY_ROLLED_BACK,
    DropChallenger,
    Plan,
    Promote,
    SetChallenger,
    plan,
)
from fraud_operator.registry import (
    CHALLENGER,
    CHAMPION,
    RegistryAPI,
    VersionInfo,
    by_alias,
    by_job,
)
from fraud_operator.status import PROMOTED, Condition, merge_conditions, now_iso
from fraud_operator.validation import spec_problem
from fraud_operator.world import ClusterAPI, World

JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


async def ensure_training(
    cluster: ClusterAPI, fm: Mapping[str, Any], config: OperatorConfig, digest: str
) -> str | None:
    """The training spec's ConfigMap and Job exist; returns the hash to record.

    ``status.trainingHash`` records that the Job of a training spec was started, so that a Job
    removed by its TTL is not started again; None when it already says so.
    """
    if (fm.get("status") or {}).get("trainingHash") == digest:
        return None
    await cluster.apply(build_training_configmap(fm, config))
    await cluster.create_if_absent(build_training_job(fm, config))
    return digest


async def delete_superseded(cluster: ClusterAPI, fm: Mapping[str, Any], digest: str) -> None:
    """Training Jobs (and their ConfigMaps) of an earlier training spec are deleted, running or
    not: what they would register is no longer what the FraudModel asks for."""
    meta = fm["metadata"]
    wanted = {LABEL_MODEL: meta["name"], LABEL_COMPONENT: "training"}
    for api_version, kind in (("batch/v1", "Job"), ("v1", "ConfigMap")):
        for child in await cluster.list(api_version, kind, meta["namespace"], wanted):
            if (child["metadata"].get("labels") or {}).get(LABEL_TRAINING_HASH) != digest:
                await cluster.delete(
                    api_version, kind, meta["namespace"], child["metadata"]["name"]
                )


async def ensure_schedule(
    cluster: ClusterAPI, fm: Mapping[str, Any], config: OperatorConfig
) -> None:
    """The retraining CronJob matches ``retraining.schedule``, or is gone without one."""
    cronjob = build_retrain_cronjob(fm, config)
    if cronjob is None:
        meta = fm["metadata"]
        await cluster.delete(
            "batch/v1", "CronJob", meta["namespace"], retrain_cronjob_name(meta["name"])
        )
    else:
        await cluster.apply(cronjob)


async def _run(
    cluster: ClusterAPI, namespace: str, job: Mapping[str, Any] | None, activity: str
) -> TrainingRun | None:
    """A Job's state; its pods are read unless it completed (to say why it failed or cannot
    start)."""
    if job is None:
        return None
    run = training_run(job, [], activity)
    if run.state == SUCCEEDED:
        return run
    pods = await cluster.list("v1", "Pod", namespace, {JOB_NAME_LABEL: job["metadata"]["name"]})
    return training_run(job, pods, activity)


async def newest_training_job(
    cluster: ClusterAPI, fm: Mapping[str, Any], digest: str
) -> Mapping[str, Any] | None:
    """The newest training Job of the current training spec (its own, a scheduled one or a
    retraining)."""
    meta = fm["metadata"]
    labels = {LABEL_MODEL: meta["name"], LABEL_TRAINING_HASH: digest}
    return newest(await cluster.list("batch/v1", "Job", meta["namespace"], labels))


async def latest_run(cluster: ClusterAPI, fm: Mapping[str, Any], digest: str) -> TrainingRun | None:
    """How the newest training Job of the current training spec is doing."""
    job = await newest_training_job(cluster, fm, digest)
    return await _run(cluster, fm["metadata"]["namespace"], job, "training")


async def ensure_monitor(
    cluster: ClusterAPI, fm: Mapping[str, Any], config: OperatorConfig
) -> bool:
    """The monitoring CronJob matches ``spec.monitoring`` (suspended or not); without an audit
    trail it is gone. Whether the FraudModel is monitored. Called once there is a champion: a
    pass before it would only fail to find the model it compares with."""
    cronjob = build_monitor_cronjob(fm, config)
    if cronjob is None:
        meta = fm["metadata"]
        await cluster.delete(
            "batch/v1", "CronJob", meta["namespace"], monitor_cronjob_name(meta["name"])
        )
        return False
    await cluster.apply(cronjob)
    return True


async def latest_pass(cluster: ClusterAPI, fm: Mapping[str, Any]) -> dict[str, Any] | None:
    """``status.monitoring`` from the newest completed monitoring Job, or None when there is no
    new one to read (its pods are listed only the first time a Job is seen)."""
    meta = fm["metadata"]
    jobs = await cluster.list(
        "batch/v1", "Job", meta["namespace"], selector(meta["name"], monitor_builder.COMPONENT)
    )
    job = newest([j for j in jobs if training_run(j, []).state == SUCCEEDED])
    if job is None:
        return None
    name = job["metadata"]["name"]
    if ((fm.get("status") or {}).get("monitoring") or {}).get("job") == name:
        return None
    pods = await cluster.list("v1", "Pod", meta["namespace"], {JOB_NAME_LABEL: name})
    result = monitor_result(pods, monitor_builder.CONTAINER)
    return monitoring_status(result, name) if result is not None else None


async def ensure_retraining(
    cluster: ClusterAPI,
    fm: Mapping[str, Any],
    config: OperatorConfig,
    monitoring: Mapping[str, Any] | None,
    run: TrainingRun | None,
) -> dict[str, Any] | None:
    """Start the retraining the newest pass calls for (never while a training Job runs); the
    ``status.retraining`` to record, or None when nothing was started."""
    if run is not None and run.state == ACTIVE:
        return None
    old = (fm.get("status") or {}).get("retraining") or {}
    now = now_iso()
    trigger = retraining_due(fm["spec"], monitoring, old, parse_time(now))
    if trigger is None or monitoring is None:
        return None
    count = int(old.get("count") or 0) + 1
    job, _ = await cluster.create_if_absent(build_retraining_job(fm, config, trigger.reason, count))
    return {
        "reason": trigger.reason,
        "message": trigger.message,
        "job": job["metadata"]["name"],
        "triggeredAt": now,
        "monitorRun": monitoring["lastRun"],
        "count": count,
    }


def scheduled_retraining(
    fm: Mapping[str, Any], job: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """``status.retraining`` for a Job the retraining CronJob started, the first time it is seen
    (its cooldown counts like the operator's own retrainings)."""
    if job is None:
        return None
    labels = job["metadata"].get("labels") or {}
    old = (fm.get("status") or {}).get("retraining") or {}
    name = job["metadata"]["name"]
    if labels.get(LABEL_RETRAINING_REASON) != "Schedule" or old.get("job") == name:
        return None
    schedule = (fm["spec"].get("retraining") or {}).get("schedule")
    return {
        **old,
        "reason": "Schedule",
        "message": f"retraining.schedule {schedule!r}",
        "job": name,
        "triggeredAt": job["metadata"]["creationTimestamp"],
    }


async def ensure_gate(
    cluster: ClusterAPI, fm: Mapping[str, Any], config: OperatorConfig, candidate: VersionInfo
) -> TrainingRun | None:
    """The candidate's gate Job exists while it has no decision; how that Job is doing."""
    if candidate.gate is not None:
        return None
    meta = fm["metadata"]
    name = gate_job_name(meta["name"], candidate.version)
    job = await cluster.get("batch/v1", "Job", meta["namespace"], name)
    if job is None:
        job, _ = await cluster.create_if_absent(build_gate_job(fm, config, candidate.version))
    return await _run(cluster, meta["namespace"], job, f"validating version {candidate.version}")


async def carry_out(registry: RegistryAPI, model: str, decided: Plan, now: str) -> None:
    """Make the registry say what the policy decided (tags before the alias, as fraudctl does)."""
    for action in decided.actions:
        if isinstance(action, Promote):
            await registry.set_tags(
                model,
                action.version,
                {
                    version_tags.PROMOTED_BY: version_tags.OPERATOR,
                    version_tags.PROMOTED_REASON: action.reason,
                    version_tags.PROMOTED_AT: now,
                },
            )
            await registry.set_alias(model, CHAMPION, action.version)
        elif isinstance(action, SetChallenger):
            await registry.set_alias(model, CHALLENGER, action.version)
        elif isinstance(action, DropChallenger):
            await registry.delete_alias(model, CHALLENGER)


async def admin_token(cluster: ClusterAPI, fm: Mapping[str, Any]) -> str:
    """The serving pods' admin token, created once per FraudModel."""
    secret, _ = await cluster.create_if_absent(build_admin_secret(fm, secrets.token_urlsafe(32)))
    if "stringData" in secret:
        return secret["stringData"][ADMIN_TOKEN_KEY]
    return base64.b64decode(secret["data"][ADMIN_TOKEN_KEY]).decode()


async def _remove_other_runtime(cluster: ClusterAPI, fm: Mapping[str, Any], runtime: str) -> None:
    """Switching ``serving.runtime`` removes what the other runtime had created (the Service
    fronts either)."""
    meta = fm["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    if runtime == "kserve":
        for api_version, kind in (
            ("autoscaling/v2", "HorizontalPodAutoscaler"),
            ("apps/v1", "Deployment"),
        ):
            await cluster.delete(api_version, kind, namespace, serving_name(name))
    else:
        for isvc in (serving_name(name), canary_serving_name(name)):
            await cluster.delete("serving.kserve.io/v1beta1", "InferenceService", namespace, isvc)


async def ensure_serving(
    world: World, fm: Mapping[str, Any], config: OperatorConfig, champion: VersionInfo
) -> ServingOutcome:
    """Serving objects exist for the chosen runtime and every ready pod serves the champion (on
    KServe, possibly through a canary first)."""
    cluster = world.cluster
    meta, serving_spec = fm["metadata"], fm["spec"]["serving"]
    runtime = serving_spec["runtime"]
    token = await admin_token(cluster, fm)
    await _remove_other_runtime(cluster, fm, runtime)
    await cluster.apply(build_service(fm))
    if runtime == "kserve":
        # a KServe predictor is pinned to its version: its pods are asked what they serve
        saved = (fm.get("status") or {}).get("canary")
        try:
            return await ensure_kserve(world, fm, config, champion.version, saved)
        except KindNotServed as error:
            problem = f"{error}: install KServe or use serving.runtime fastapi"
            return ServingOutcome(Serving(problem=problem))
    deployment = build_deployment(fm, config)
    existing = await cluster.get(
        "apps/v1", "Deployment", meta["namespace"], serving_name(meta["name"])
    )
    if existing is not None:
        del deployment["spec"]["replicas"]  # the HPA owns the replica count once it exists
    await cluster.apply(deployment)
    await cluster.apply(build_hpa(fm))
    pods = await cluster.list("v1", "Pod", meta["namespace"], selector(meta["name"], "serving"))
    return ServingOutcome(
        await world.converge(pods, serving_spec["minReplicas"], champion.version, token)
    )


async def roll_back(
    registry: RegistryAPI, model: str, canary: str, stable: str, why: str, now: str
) -> Condition:
    """Give the champion alias back to the stable version and record on the canary's version
    why it was rolled back (so the policy never promotes it again); the Promoted condition."""
    message = f"version {canary} was rolled back after its canary: {why}"
    await registry.set_tags(
        model,
        canary,
        {version_tags.ROLLED_BACK: message, version_tags.ROLLED_BACK_AT: now},
    )
    await registry.set_alias(model, CHAMPION, stable)
    return Condition(
        PROMOTED, "False", CANARY_ROLLED_BACK, f"{message}; version {stable} is champion again"
    )


async def with_metrics(registry: RegistryAPI, version: VersionInfo) -> VersionInfo:
    """The version with its training run's metrics (the status shows the champion's)."""
    return VersionInfo(
        version.version,
        version.run_id,
        version.tags,
        version.aliases,
        await registry.run_metrics(version.run_id),
    )


def status_patch(fm: Mapping[str, Any], obs: Observation, digest: str | None) -> dict[str, Any]:
    """The status to write: derived from the observation, conditions merged with the old ones."""
    old = fm.get("status") or {}
    verdict = decide(obs)
    generation = fm["metadata"]["generation"]
    new: dict[str, Any] = {
        "phase": verdict.phase,
        "message": verdict.message,
        "observedGeneration": generation,
        "conditions": merge_conditions(
            old.get("conditions", []), verdict.conditions, generation, now_iso()
        ),
    }
    if digest is not None:
        new["trainingHash"] = digest
    if obs.run is not None:
        new["trainingJob"] = obs.run.name
        if obs.run.state == SUCCEEDED and obs.run.completed_at:
            new["lastTrainedAt"] = obs.run.completed_at
    if obs.candidate is not None:
        new["candidateVersion"] = obs.candidate.version
        new["gateJob"] = gate_job_name(fm["metadata"]["name"], obs.candidate.version)
    if obs.champion is not None:
        metrics = obs.champion.metrics
        new["championVersion"] = obs.champion.version
        new["metrics"] = {
            key: round(float(metrics[name]), 4)
            for key, name in (
                ("rocAuc", "roc_auc"),
                ("prAuc", "pr_auc"),
                ("threshold", "threshold_review"),
            )
            if name in metrics
        }
        new["endpoint"] = endpoint(fm)
    return new


async def reconcile(
    world: World, body: Mapping[str, Any], config: OperatorConfig
) -> dict[str, Any]:
    """One pass over a FraudModel; returns the status it should have now."""
    fm = with_defaults(body)
    meta, spec = fm["metadata"], fm["spec"]
    problem = spec_problem(spec, config)
    if problem:
        return status_patch(fm, Observation(spec_error=problem), None)

    cluster = world.cluster
    digest = training_hash(spec)
    started = await ensure_training(cluster, fm, config, digest)
    await delete_superseded(cluster, fm, digest)
    await ensure_schedule(cluster, fm, config)
    audited = audit_database_env(config) is not None
    old = fm.get("status") or {}
    monitoring = await latest_pass(cluster, fm) if audited else None
    run = await latest_run(cluster, fm, digest)
    retraining = await ensure_retraining(
        cluster, fm, config, monitoring or old.get("monitoring"), run
    )
    if retraining is not None:
        run = await latest_run(cluster, fm, digest)
    else:
        retraining = scheduled_retraining(fm, await newest_training_job(cluster, fm, digest))

    model = registered_model_name(meta["namespace"], meta["name"], spec)
    registry = world.registry(tracking_uri(spec, config))
    versions = await registry.versions(model)
    candidate = by_job(versions, run.name) if run is not None and run.state == SUCCEEDED else None
    gate_run = await ensure_gate(cluster, fm, config, candidate) if candidate else None

    announced = (
        candidate is not None
        and old.get("phase") == "Promoting"
        and old.get("candidateVersion") == candidate.version
    )
    decided = plan(versions, model, candidate, spec["serving"].get("version"), announced)
    await carry_out(registry, model, decided, now_iso())
    champion = next((v for v in versions if v.version == decided.champion), None)
    if champion is None and (held := by_alias(versions, CHAMPION)) is not None:
        champion = held
    promoted = decided.promoted
    outcome = await ensure_serving(world, fm, config, champion) if champion else None
    if outcome is not None and champion is not None and outcome.rolled_back is not None:
        stable, why = outcome.rolled_back
        promoted = await roll_back(registry, model, champion.version, stable, why, now_iso())
        champion = next((v for v in versions if v.version == stable), champion)
    if champion is not None:
        champion = await with_metrics(registry, champion)
    if champion is not None or not audited:
        await ensure_monitor(cluster, fm, config)
    obs = Observation(
        run=run,
        candidate=candidate,
        gate_run=gate_run,
        champion=champion,
        promoted=promoted,
        promoting=decided.promoting,
        pin_problem=decided.pin_problem,
        serving=outcome.serving if outcome is not None else None,
    )
    new = status_patch(fm, obs, started)
    if outcome is not None and (outcome.canary is not None or "canary" in old):
        new["canary"] = outcome.canary
    if outcome is not None and (outcome.serving.traffic or "traffic" in old):
        new["traffic"] = list(outcome.serving.traffic) or None
    seen = monitoring or old.get("monitoring")
    new["conditions"] = merge_conditions(
        new["conditions"],
        (
            drifting_condition(seen, audited),
            performance_condition(seen, (spec.get("retraining") or {}).get("performance")),
        ),
        meta["generation"],
        now_iso(),
    )
    if monitoring is not None:
        new["monitoring"] = monitoring
    if retraining is not None:
        new["retraining"] = retraining
    return new
