"""In-memory stand-ins for the cluster, the registry and the serving pods, for reconcile tests.

They keep state the way the real ones do (objects by name, versions with tags and aliases) and
record every request the reconciler makes, so a test can say both what the world looks like after
a pass and which API verbs the operator needed to get there.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crd_defaults import fraud_model
from fraud_operator.canary import RequestStats
from fraud_operator.config import OperatorConfig, SecretKey
from fraud_operator.metrics import OperatorMetrics
from fraud_operator.naming import LABEL_MODEL_VERSION
from fraud_operator.observed import Serving, serving_ip
from fraud_operator.reconcile import reconcile
from fraud_operator.registry import VersionInfo
from fraud_operator.world import World
from fraud_training import version_tags

Key = tuple[str, str, str, str]  # apiVersion, kind, namespace, name
#: Kinds the fake cluster does not serve (KServe is not installed), unless a test adds them.
NOT_SERVED = {"InferenceService"}


def resource(api_version: str, kind: str) -> tuple[str, str]:
    """(API group, plural) as RBAC names them; our kinds pluralise with a trailing "s"."""
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return group, f"{kind.lower()}s"


class FakeCluster:
    """Objects by (apiVersion, kind, namespace, name); ``requests`` holds (verb, group, plural)."""

    def __init__(self, served_kinds: set[str] | None = None) -> None:
        self.objects: dict[Key, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, str]] = []
        self.not_served = NOT_SERVED - (served_kinds or set())
        self._clock = 0

    def _record(self, verb: str, api_version: str, kind: str) -> None:
        self.requests.append((verb, *resource(api_version, kind)))

    def _stamp(self, body: dict[str, Any]) -> dict[str, Any]:
        self._clock += 1
        body["metadata"].setdefault("creationTimestamp", f"2026-01-01T00:00:{self._clock:02d}Z")
        return body

    async def apply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        from fraud_operator.cluster import KindNotServed

        self._record("patch", body["apiVersion"], body["kind"])
        if body["kind"] in self.not_served:
            raise KindNotServed(f"the cluster does not serve {body['kind']}")
        meta = body["metadata"]
        key = (body["apiVersion"], body["kind"], meta["namespace"], meta["name"])
        existing = self.objects.get(key)
        merged = copy.deepcopy(dict(body))
        if existing is not None:
            merged["metadata"]["creationTimestamp"] = existing["metadata"]["creationTimestamp"]
            if "replicas" not in merged.get("spec", {}) and "replicas" in existing.get("spec", {}):
                merged["spec"]["replicas"] = existing["spec"]["replicas"]
        self.objects[key] = self._stamp(merged)
        return copy.deepcopy(merged)

    async def create_if_absent(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        meta = body["metadata"]
        found = await self.get(body["apiVersion"], body["kind"], meta["namespace"], meta["name"])
        if found is not None:
            return found, False
        self._record("create", body["apiVersion"], body["kind"])
        key = (body["apiVersion"], body["kind"], meta["namespace"], meta["name"])
        self.objects[key] = self._stamp(copy.deepcopy(dict(body)))
        return copy.deepcopy(self.objects[key]), True

    async def get(
        self, api_version: str, kind: str, namespace: str, name: str
    ) -> dict[str, Any] | None:
        self._record("get", api_version, kind)
        found = self.objects.get((api_version, kind, namespace, name))
        return copy.deepcopy(found) if found is not None else None

    async def list(
        self, api_version: str, kind: str, namespace: str, labels: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        self._record("list", api_version, kind)
        return [
            copy.deepcopy(body)
            for (v, k, ns, _), body in self.objects.items()
            if (v, k, ns) == (api_version, kind, namespace)
            and all((body["metadata"].get("labels") or {}).get(a) == b for a, b in labels.items())
        ]

    async def delete(self, api_version: str, kind: str, namespace: str, name: str) -> None:
        self._record("delete", api_version, kind)
        self.objects.pop((api_version, kind, namespace, name), None)

    # What KServe would do.

    def run_predictors(self, ready: bool = True) -> None:
        """Give every InferenceService its predictor pods (``minReplicas`` of them, labelled as
        it is), replacing the pods it had, as a finished KServe rollout leaves them."""
        serving = [
            key
            for key, body in self.objects.items()
            if key[1] == "Pod"
            and (body["metadata"].get("labels") or {}).get("app.kubernetes.io/component")
            == "serving"
        ]
        for key in serving:
            del self.objects[key]
        isvcs = [
            b for (_, kind, _, _), b in list(self.objects.items()) if kind == "InferenceService"
        ]
        for n, isvc in enumerate(isvcs):
            meta = isvc["metadata"]
            for i in range(isvc["spec"]["predictor"]["minReplicas"]):
                name = f"{meta['name']}-predictor-{i}"
                self.objects[("v1", "Pod", meta["namespace"], name)] = {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": name,
                        "namespace": meta["namespace"],
                        "labels": dict(meta["labels"]),
                    },
                    "status": {
                        "podIP": f"10.1.{n}.{i}",
                        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                    },
                }

    # What the Job controller would do.

    def jobs(self, component: str) -> list[dict[str, Any]]:
        return [
            body
            for (_, kind, _, _), body in self.objects.items()
            if kind == "Job"
            and body["metadata"]["labels"].get("app.kubernetes.io/component") == component
        ]

    def finish(self, job_name: str, succeeded: bool = True) -> None:
        """Mark a Job complete (or failed), as the Job controller would."""
        (job,) = [
            j
            for j in self.jobs("training") + self.jobs("gate")
            if j["metadata"]["name"] == job_name
        ]
        kind = "Complete" if succeeded else "Failed"
        job["status"] = {
            "conditions": [{"type": kind, "status": "True", "reason": "BackoffLimitExceeded"}],
            "completionTime": "2026-01-01T01:00:00Z" if succeeded else None,
        }

    def fail_with_exit(self, job_name: str, exit_code: int, log: str) -> None:
        """What the Job controller and the kubelet leave when a Job's container exits with
        ``exit_code`` and its pod failure policy fails the Job: a failed pod whose termination
        message is the log's tail (``FallbackToLogsOnError``), and the Job's Failed condition."""
        (job,) = [j for j in self.jobs("training") if j["metadata"]["name"] == job_name]
        namespace = job["metadata"]["namespace"]
        job["status"] = {
            "conditions": [
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "PodFailurePolicy",
                    "message": f"Container train for pod {namespace}/{job_name}-abcde failed "
                    f"with exit code {exit_code} matching FailJob rule at index 0",
                }
            ]
        }
        terminated = {
            "exitCode": exit_code,
            "finishedAt": "2026-01-01T01:00:00Z",
            "message": log,
        }
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{job_name}-abcde",
                "namespace": namespace,
                "labels": {"batch.kubernetes.io/job-name": job_name},
            },
            "status": {
                "containerStatuses": [{"name": "train", "state": {"terminated": terminated}}]
            },
        }
        self.objects[("v1", "Pod", namespace, pod["metadata"]["name"])] = self._stamp(pod)

    def run_monitor(self, result: Mapping[str, Any] | None, succeeded: bool = True) -> str:
        """What the CronJob controller and the kubelet do for one monitoring pass: a Job from the
        CronJob's template, finished, with a pod whose termination message is ``result``."""
        ((_, _, namespace, cronjob_name),) = [
            key for key in self.objects if key[1] == "CronJob" and key[3].endswith("-monitor")
        ]
        cronjob = self.objects[("batch/v1", "CronJob", namespace, cronjob_name)]
        self._clock += 1
        name = f"{cronjob_name}-{29_000_000 + self._clock}"
        template = copy.deepcopy(cronjob["spec"]["jobTemplate"])
        job = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {**template["metadata"], "name": name, "namespace": namespace},
            "spec": template["spec"],
        }
        self.objects[("batch/v1", "Job", namespace, name)] = self._stamp(job)
        kind = "Complete" if succeeded else "Failed"
        job["status"] = {"conditions": [{"type": kind, "status": "True"}]}
        (container,) = template["spec"]["template"]["spec"]["containers"]
        terminated = {
            "exitCode": 0 if succeeded else 1,
            "finishedAt": "2026-01-01T02:00:00Z",
            "message": json.dumps(result) if result is not None else "",
        }
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{name}-abcde",
                "namespace": namespace,
                "labels": {"batch.kubernetes.io/job-name": name},
            },
            "status": {
                "containerStatuses": [
                    {"name": container["name"], "state": {"terminated": terminated}}
                ]
            },
        }
        self.objects[("v1", "Pod", namespace, pod["metadata"]["name"])] = self._stamp(pod)
        return name


@dataclass
class FakeVersion:
    run_id: str
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


class FakeRegistry:
    """One registered model's versions, tags and aliases, like MLflow's registry holds them."""

    def __init__(self) -> None:
        self.versions_by_number: dict[int, FakeVersion] = {}
        self.aliases: dict[str, int] = {}
        self.requests: list[str] = []

    def register(self, job: str, **tags: str) -> str:
        """What a training Job does: a new version tagged with the Job that made it."""
        number = max(self.versions_by_number, default=0) + 1
        self.versions_by_number[number] = FakeVersion(
            f"run{number}",
            {version_tags.JOB: job, **tags},
            {"roc_auc": 0.95, "pr_auc": 0.7, "threshold_review": 0.3},
        )
        return str(number)

    def decide(self, version: str, passed: bool, message: str = "checks") -> None:
        """What the gate Job records."""
        tags = self.versions_by_number[int(version)].tags
        tags[version_tags.GATE_MESSAGE] = message
        tags[version_tags.GATE] = version_tags.GATE_PASSED if passed else version_tags.GATE_FAILED

    def promote_by_hand(self, version: str, reason: str = version_tags.REASON_MANUAL) -> None:
        """What ``fraudctl promote`` does."""
        tags = self.versions_by_number[int(version)].tags
        tags[version_tags.PROMOTED_BY] = version_tags.FRAUDCTL
        tags[version_tags.PROMOTED_REASON] = reason
        self.aliases["champion"] = int(version)

    def champion(self) -> str | None:
        number = self.aliases.get("champion")
        return None if number is None else str(number)

    def tags(self, version: str) -> dict[str, str]:
        return self.versions_by_number[int(version)].tags

    async def versions(self, model: str) -> list[VersionInfo]:
        self.requests.append("versions")
        return [
            VersionInfo(
                str(number),
                v.run_id,
                dict(v.tags),
                tuple(a for a, n in self.aliases.items() if n == number),
            )
            for number, v in sorted(self.versions_by_number.items())
        ]

    async def run_metrics(self, run_id: str) -> dict[str, float]:
        self.requests.append("run_metrics")
        return next(dict(v.metrics) for v in self.versions_by_number.values() if v.run_id == run_id)

    async def set_alias(self, model: str, alias: str, version: str) -> None:
        self.requests.append(f"set_alias {alias} {version}")
        self.aliases[alias] = int(version)

    async def delete_alias(self, model: str, alias: str) -> None:
        self.requests.append(f"delete_alias {alias}")
        self.aliases.pop(alias, None)

    async def set_tags(self, model: str, version: str, tags: Mapping[str, str]) -> None:
        self.requests.append(f"set_tags {version}")
        self.versions_by_number[int(version)].tags.update(tags)


class FakePods:
    """Serving pods that load whatever version they are asked to: all ready, all on the champion
    (asked to reload it, or made for it when their spec pins it: no token). Pods the fake
    cluster made for an InferenceService serve the version they are labelled with, and answer
    ``/metrics`` with what a test says each version measured (``stats``)."""

    def __init__(self) -> None:
        self.reloaded: list[str] = []
        self.observed_only: list[str] = []
        self.stats: dict[str, RequestStats] = {}
        self._version_at: dict[str, str] = {}

    async def converge(
        self, pods: Sequence[Mapping[str, Any]], wanted: int, champion: str, token: str | None
    ) -> Serving:
        (self.reloaded if token is not None else self.observed_only).append(champion)
        labelled = {
            ip: p["metadata"]["labels"][LABEL_MODEL_VERSION]
            for p in pods
            if (ip := serving_ip(p)) and LABEL_MODEL_VERSION in p["metadata"]["labels"]
        }
        if labelled:
            self._version_at.update(labelled)
            return Serving(
                ready_pods=len(labelled), wanted_pods=wanted, pod_versions=dict(labelled)
            )
        return Serving(
            ready_pods=wanted,
            wanted_pods=wanted,
            pod_versions={f"10.0.0.{i}": champion for i in range(wanted)},
        )

    async def scrape(self, ips: Sequence[str]) -> dict[str, RequestStats | None]:
        return {ip: self.stats.get(self._version_at.get(ip, "")) for ip in ips}


CONFIG = OperatorConfig(
    tracking_uri="http://mlflow.fraudops-system.svc:5000",
    serving_secrets={"DATABASE_URL": SecretKey("fraudops-audit", "url")},
)


class Scenario:
    """One FraudModel, its world, and the status it carries from one reconcile to the next."""

    def __init__(self, spec: dict[str, Any], served_kinds: set[str] | None = None) -> None:
        self.cluster = FakeCluster(served_kinds)
        self.registry = FakeRegistry()
        self.pods = FakePods()
        self.world = World(
            self.cluster, lambda _uri: self.registry, self.pods.converge, self.pods.scrape
        )
        self.fm = fraud_model(spec, name="cards")
        self.status: dict[str, Any] = {}

    def reconcile(self, config: OperatorConfig = CONFIG) -> dict[str, Any]:
        """One pass, its status patch merged into the status as kopf would patch it."""
        body = {**self.fm, "status": self.status}
        self.status = {**self.status, **asyncio.run(reconcile(self.world, body, config))}
        return self.status

    def measured(self, metrics: OperatorMetrics, config: OperatorConfig = CONFIG) -> dict[str, Any]:
        """One pass through the operator's metrics, as the kopf handlers run it."""
        body = {**self.fm, "status": self.status}
        new = asyncio.run(metrics.measured(body, lambda: reconcile(self.world, body, config)))
        self.status = {**self.status, **new}
        return self.status

    def edit(self, **spec: Any) -> None:
        """A spec edit as the API server stores it: merged, defaulted, generation + 1."""
        merged = {**self.fm["spec"], **spec}
        generation = self.fm["metadata"]["generation"] + 1
        self.fm = fraud_model(merged, name="cards", generation=generation)

    def unset_pin(self) -> None:
        serving = {k: v for k, v in self.fm["spec"]["serving"].items() if k != "version"}
        self.edit(serving=serving)

    def condition(self, type_: str) -> tuple[str, str]:
        found = next(c for c in self.status["conditions"] if c["type"] == type_)
        return found["status"], found["reason"]

    def training_job(self) -> str:
        (job,) = self.cluster.jobs("training")
        return job["metadata"]["name"]

    def trained(self, gate: bool | None = True) -> str:
        """Run until a version is trained (and, unless None, gated and acted on by the policy)."""
        self.reconcile()
        job = self.training_job()
        self.cluster.finish(job)
        version = self.registry.register(job)
        self.reconcile()
        if gate is None:
            return version
        self.registry.decide(version, gate)
        self.reconcile()
        self.reconcile()
        return version
