"""The one reconcile: look at the world, take the next step, write what is true into status.

Called from ``on.create``, ``on.update``, ``on.resume`` and a timer alike. Every step is idempotent
and derived from the cluster and the registry, never from memory: names come from the object and
its generation, the gate's decision lives on the model version, the serving version is asked of the
pods themselves.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from typing import Any

from fraud_operator.builders.serving import (
    ADMIN_TOKEN_KEY,
    build_admin_secret,
    build_deployment,
    build_hpa,
    build_inference_service,
    build_service,
    endpoint,
)
from fraud_operator.builders.training import (
    build_retrain_cronjob,
    build_training_configmap,
    build_training_job,
    tracking_uri,
)
from fraud_operator.cluster import Cluster, KindNotServed
from fraud_operator.config import OperatorConfig
from fraud_operator.decide import Observation, decide
from fraud_operator.gate import policy, summary
from fraud_operator.naming import (
    LABEL_MODEL,
    registered_model_name,
    retrain_cronjob_name,
    selector,
    serving_name,
)
from fraud_operator.observed import SUCCEEDED, Serving, TrainingRun, newest, training_run
from fraud_operator.registry import Registry, VersionInfo
from fraud_operator.rollout import converge
from fraud_operator.status import merge_conditions, now_iso
from fraud_operator.validation import spec_problem


async def ensure_training(
    cluster: Cluster, fm: Mapping[str, Any], config: OperatorConfig
) -> int | None:
    """The current generation's ConfigMap and Job exist; returns the generation to record.

    ``status.trainingGeneration`` records that a generation's Job was started, so that a Job removed
    by its TTL is not started again; None when it already says so.
    """
    generation = fm["metadata"]["generation"]
    if (fm.get("status") or {}).get("trainingGeneration") == generation:
        return None
    await cluster.apply(build_training_configmap(fm, config))
    await cluster.create_if_absent(build_training_job(fm, config))
    return generation


async def ensure_schedule(cluster: Cluster, fm: Mapping[str, Any], config: OperatorConfig) -> None:
    """The retraining CronJob matches ``retraining.schedule``, or is gone without one."""
    cronjob = build_retrain_cronjob(fm, config)
    if cronjob is None:
        meta = fm["metadata"]
        await cluster.delete(
            "batch/v1", "CronJob", meta["namespace"], retrain_cronjob_name(meta["name"])
        )
    else:
        await cluster.apply(cronjob)


async def latest_run(cluster: Cluster, fm: Mapping[str, Any]) -> TrainingRun | None:
    """The newest training Job (the generation's or a scheduled one) and how it went."""
    meta = fm["metadata"]
    jobs = await cluster.list("batch/v1", "Job", meta["namespace"], {LABEL_MODEL: meta["name"]})
    job = newest(jobs)
    if job is None:
        return None
    pods = await cluster.list(
        "v1", "Pod", meta["namespace"], {"batch.kubernetes.io/job-name": job["metadata"]["name"]}
    )
    return training_run(job, pods)


async def gate_and_promote(
    registry: Registry,
    model: str,
    candidate: VersionInfo,
    champion: VersionInfo | None,
    validation: Mapping[str, Any],
) -> tuple[VersionInfo, VersionInfo | None]:
    """Decide the gate once for ``candidate``; promote it when it passes."""
    if candidate.gate is None:
        report = await registry.judge(model, candidate.version, policy(validation))
        await registry.record_gate(model, candidate.version, report.passed, summary(report))
        candidate = (
            await registry.version_for_job(model, candidate.tags["fraudops.io/job"]) or candidate
        )
    if candidate.gate == "passed" and (champion is None or champion.version != candidate.version):
        await registry.promote(model, candidate.version)
        champion = await registry.champion(model)
    return candidate, champion


async def admin_token(cluster: Cluster, fm: Mapping[str, Any]) -> str:
    """The serving pods' admin token, created once per FraudModel."""
    secret, _ = await cluster.create_if_absent(build_admin_secret(fm, secrets.token_urlsafe(32)))
    if "stringData" in secret:
        return secret["stringData"][ADMIN_TOKEN_KEY]
    return base64.b64decode(secret["data"][ADMIN_TOKEN_KEY]).decode()


async def _remove_other_runtime(cluster: Cluster, fm: Mapping[str, Any], runtime: str) -> None:
    """Switching ``serving.runtime`` removes what the other runtime had created."""
    meta = fm["metadata"]
    name, namespace = serving_name(meta["name"]), meta["namespace"]
    if runtime == "kserve":
        for api_version, kind in (
            ("autoscaling/v2", "HorizontalPodAutoscaler"),
            ("v1", "Service"),
            ("apps/v1", "Deployment"),
        ):
            await cluster.delete(api_version, kind, namespace, name)
    else:
        await cluster.delete("serving.kserve.io/v1beta1", "InferenceService", namespace, name)


async def ensure_serving(
    cluster: Cluster, fm: Mapping[str, Any], config: OperatorConfig, champion: VersionInfo
) -> Serving:
    """Serving objects exist for the chosen runtime and every ready pod serves the champion."""
    meta, serving_spec = fm["metadata"], fm["spec"].get("serving", {})
    runtime = serving_spec.get("runtime", "fastapi")
    token = await admin_token(cluster, fm)
    await _remove_other_runtime(cluster, fm, runtime)
    if runtime == "kserve":
        try:
            await cluster.apply(build_inference_service(fm, config))
        except KindNotServed as error:
            return Serving(problem=f"{error}: install KServe or use serving.runtime fastapi")
    else:
        deployment = build_deployment(fm, config)
        existing = await cluster.get(
            "apps/v1", "Deployment", meta["namespace"], serving_name(meta["name"])
        )
        if existing is not None:
            del deployment["spec"]["replicas"]  # the HPA owns the replica count once it exists
        await cluster.apply(deployment)
        await cluster.apply(build_service(fm))
        await cluster.apply(build_hpa(fm))
    pods = await cluster.list("v1", "Pod", meta["namespace"], selector(meta["name"], "serving"))
    wanted = serving_spec.get("minReplicas", 1)
    return await converge(pods, wanted, champion.version, token)


def status_patch(
    fm: Mapping[str, Any], obs: Observation, training_generation: int | None
) -> dict[str, Any]:
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
    if training_generation is not None:
        new["trainingGeneration"] = training_generation
    if obs.run is not None:
        new["trainingJob"] = obs.run.name
        if obs.run.state == SUCCEEDED and obs.run.completed_at:
            new["lastTrainedAt"] = obs.run.completed_at
    if obs.candidate is not None:
        new["candidateVersion"] = obs.candidate.version
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
    cluster: Cluster, fm: Mapping[str, Any], config: OperatorConfig
) -> dict[str, Any]:
    """One pass over a FraudModel; returns the status it should have now."""
    meta, spec = fm["metadata"], fm["spec"]
    problem = spec_problem(spec)
    if problem:
        return status_patch(fm, Observation(spec_error=problem), None)

    training_generation = await ensure_training(cluster, fm, config)
    await ensure_schedule(cluster, fm, config)
    run = await latest_run(cluster, fm)

    model = registered_model_name(meta["namespace"], meta["name"], spec)
    registry = Registry(tracking_uri(spec, config))
    champion = await registry.champion(model)
    candidate = None
    if run is not None and run.state == SUCCEEDED:
        candidate = await registry.version_for_job(model, run.name)
        if candidate is not None:
            candidate, champion = await gate_and_promote(
                registry, model, candidate, champion, spec.get("validation", {})
            )
    serving = await ensure_serving(cluster, fm, config, champion) if champion else None
    obs = Observation(run=run, candidate=candidate, champion=champion, serving=serving)
    return status_patch(fm, obs, training_generation)
