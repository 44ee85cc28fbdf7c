"""The operator's own Prometheus metrics: what it did (reconciles, errors, Job outcomes, promotions)
and what it sees (FraudModels by phase, the monitoring pass's drift and live metrics).

Two kinds, kept apart on purpose:

- **Counters of transitions** (training Job outcomes, gate decisions, promotions, rollbacks) are
  read from the difference between the status a FraudModel had and the status a reconcile gives
  it, as the Events are (:func:`fraud_operator.status.changes`): both are stored in the object, so
  a restart neither repeats nor loses a transition.
- **Gauges of state** (phase, ``status.monitoring``) are computed at scrape time from the objects
  the operator has observed (:meth:`OperatorMetrics.observe`, fed by kopf's watch), never from
  increments, so they are right after a restart as soon as the watch has listed the objects.

Labels name the FraudModel as ``fraudmodel_namespace`` and ``fraudmodel``: a scrape of the
operator pod sets ``namespace`` to the operator's own namespace.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from fraud_operator.crd import schema
from fraud_operator.status import TRAINING_SUCCEEDED, VALIDATED, condition

FM_LABELS = ("fraudmodel_namespace", "fraudmodel")
TRAINING_OUTCOMES = ("succeeded", "failed")
#: Validated's reasons that are a gate decision (or the gate Job failing), and their outcome label.
GATE_OUTCOMES = {"GatePassed": "passed", "GateFailed": "failed", "GateError": "error"}
#: TrainingSucceeded=False reasons that are no training Job's outcome.
NOT_A_JOB_OUTCOME = frozenset({"InvalidSpec", "NoModelVersion"})
#: status.monitoring fields exported as one gauge each (absent or null: no sample).
MONITORING_GAUGES = {
    "driftScore": ("fraudops_monitoring_drift_score", "Largest PSI (features and score)"),
    "livePrecision": ("fraudops_monitoring_live_precision", "Share of flagged labelled rows"),
    "liveRecall": ("fraudops_monitoring_live_recall", "Share of labelled frauds flagged"),
    "labelledRows": ("fraudops_monitoring_labelled_rows", "Rows with a confirmed outcome"),
}
#: The retraining policy of the spec exported beside them, so alerts compare with each model's own.
POLICY_GAUGES = {
    ("drift", "psiThreshold"): ("fraudops_monitoring_drift_threshold", "Policy's psiThreshold"),
    ("performance", "minPrecision"): (
        "fraudops_monitoring_min_precision",
        "Policy's minPrecision",
    ),
    ("performance", "minLabelledRows"): (
        "fraudops_monitoring_min_labelled_rows",
        "Policy's minLabelledRows",
    ),
}
#: Errors the reconcile expects now and then (retried sooner), started at zero like the counters
#: of each FraudModel so that their first occurrence is an increase.
KNOWN_ERRORS = ("RegistryUnavailable", "ClusterBusy")
DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def phases() -> tuple[str, ...]:
    """Every phase a FraudModel can have, from the CRD's status schema (one definition)."""
    return tuple(schema()["properties"]["status"]["properties"]["phase"]["enum"])


@dataclass(frozen=True)
class Seen:
    """What the gauges need of one observed FraudModel."""

    namespace: str
    name: str
    phase: str | None
    monitoring: Mapping[str, Any]
    policy: Mapping[str, float]


def seen(body: Mapping[str, Any]) -> Seen:
    """The gauge-relevant part of a FraudModel body; missing or malformed parts read as absent."""
    meta, spec = body.get("metadata") or {}, body.get("spec") or {}
    status = body.get("status") or {}
    retraining = spec.get("retraining") if isinstance(spec.get("retraining"), Mapping) else {}
    policy: dict[str, float] = {}
    for (section, key), (metric, _) in POLICY_GAUGES.items():
        value = (retraining.get(section) or {}).get(key)
        if _number(value) is not None:
            policy[metric] = float(value)
    monitoring = status.get("monitoring")
    return Seen(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        phase=status.get("phase"),
        monitoring=dict(monitoring) if isinstance(monitoring, Mapping) else {},
        policy=policy,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def phase_counts(objects: Iterable[Seen]) -> dict[tuple[str, str], int]:
    """FraudModels per (namespace, phase): every known phase of every namespace seen, zeros too,
    so that a phase emptied shows 0 rather than vanishing."""
    items = list(objects)
    counts = {(o.namespace, p): 0 for o in items for p in phases()}
    for o in items:
        if o.phase:
            counts[(o.namespace, o.phase)] = counts.get((o.namespace, o.phase), 0) + 1
    return counts


@dataclass(frozen=True)
class Transition:
    """One counted event of a reconcile: which counter, and its outcome label (if any)."""

    counter: str  # "training", "gate", "promotion" or "rollback"
    outcome: str = ""


def _condition_key(status: Mapping[str, Any], type_: str) -> tuple[str, str]:
    found = condition(status.get("conditions") or [], type_) or {}
    return found.get("status", ""), found.get("reason", "")


def _version(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def transitions(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Transition]:
    """What a reconcile changed that a counter counts, from the status before and after it.

    ``new`` is the status patch: keys it leaves out keep their old value, as in the object.
    A training Job's outcome counts once per Job, a gate decision once per candidate version, a
    champion change once: as a promotion to a newer version, a rollback to an older one.
    """
    after = {**old, **new}
    out: list[Transition] = []
    status, reason = _condition_key(after, TRAINING_SUCCEEDED)
    was = (old.get("trainingJob"), *_condition_key(old, TRAINING_SUCCEEDED))
    if (after.get("trainingJob"), status, reason) != was:
        if status == "True":
            out.append(Transition("training", "succeeded"))
        elif status == "False" and reason not in NOT_A_JOB_OUTCOME:
            out.append(Transition("training", "failed"))
    _, reason = _condition_key(after, VALIDATED)
    was_gate = (old.get("candidateVersion"), _condition_key(old, VALIDATED)[1])
    if reason in GATE_OUTCOMES and (after.get("candidateVersion"), reason) != was_gate:
        out.append(Transition("gate", GATE_OUTCOMES[reason]))
    before, champion = _version(old.get("championVersion")), _version(after.get("championVersion"))
    if champion is not None and champion != before:
        rollback = before is not None and champion < before
        out.append(Transition("rollback" if rollback else "promotion"))
    return out


class _ObservedCollector(Collector):
    """Gauges computed at scrape time from the FraudModels observed."""

    def __init__(self, metrics: OperatorMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        objects = self._metrics.snapshot()
        by_phase = GaugeMetricFamily(
            "fraudops_operator_fraudmodels",
            "FraudModels the operator watches, by namespace and phase.",
            labels=("fraudmodel_namespace", "phase"),
        )
        for (namespace, phase), count in sorted(phase_counts(objects).items()):
            by_phase.add_metric((namespace, phase), count)
        yield by_phase
        phase = GaugeMetricFamily(
            "fraudops_operator_fraudmodel_phase",
            "1 for each FraudModel's current phase (status.phase).",
            labels=(*FM_LABELS, "phase"),
        )
        gauges = {
            metric: GaugeMetricFamily(
                metric, f"status.monitoring.{field}: {help_}", labels=FM_LABELS
            )
            for field, (metric, help_) in MONITORING_GAUGES.items()
        }
        policies = {
            metric: GaugeMetricFamily(metric, f"spec.retraining.{s}.{k}: {help_}", labels=FM_LABELS)
            for (s, k), (metric, help_) in POLICY_GAUGES.items()
        }
        for o in sorted(objects, key=lambda o: (o.namespace, o.name)):
            labels = (o.namespace, o.name)
            if o.phase:
                phase.add_metric((*labels, o.phase), 1)
            for field, (metric, _) in MONITORING_GAUGES.items():
                if (value := _number(o.monitoring.get(field))) is not None:
                    gauges[metric].add_metric(labels, value)
            for metric, value in o.policy.items():
                policies[metric].add_metric(labels, value)
        yield phase
        yield from gauges.values()
        yield from policies.values()


class OperatorMetrics:
    """Every metric of the operator, registered in one registry (the process-wide one in the
    operator, a fresh one per test)."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._objects: dict[str, Seen] = {}
        self.reconciles = Counter(
            "fraudops_operator_reconciles",
            "Reconcile passes over a FraudModel, successful or not.",
            registry=registry,
        )
        self.errors = Counter(
            "fraudops_operator_reconcile_errors",
            "Reconcile passes that raised, by the error's kind (retried by kopf).",
            ("reason",),
            registry=registry,
        )
        for reason in KNOWN_ERRORS:
            self.errors.labels(reason)
        self.duration = Histogram(
            "fraudops_operator_reconcile_duration_seconds",
            "Time of one reconcile pass, cluster and registry calls included.",
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.training = Counter(
            "fraudops_operator_training_jobs",
            "Training Jobs that finished, by outcome (succeeded or failed).",
            (*FM_LABELS, "outcome"),
            registry=registry,
        )
        self.gate = Counter(
            "fraudops_operator_gate_decisions",
            "Gate outcomes of candidate versions: passed, failed (rejected) or error (the gate "
            "Job failed without a decision).",
            (*FM_LABELS, "outcome"),
            registry=registry,
        )
        self.promotions = Counter(
            "fraudops_operator_promotions",
            "Champion changes to a newer version.",
            FM_LABELS,
            registry=registry,
        )
        self.rollbacks = Counter(
            "fraudops_operator_rollbacks",
            "Champion changes to an older version.",
            FM_LABELS,
            registry=registry,
        )
        registry.register(_ObservedCollector(self))

    def observe(self, body: Mapping[str, Any]) -> None:
        """Remember a FraudModel as the watch (or a reconcile) last showed it, and start its
        counters at zero so that the first failure is an increase Prometheus can see."""
        uid = (body.get("metadata") or {}).get("uid")
        if not uid:
            return
        found = seen(body)
        with self._lock:
            first = uid not in self._objects
            self._objects[uid] = found
        if first:
            labels = (found.namespace, found.name)
            for outcome in TRAINING_OUTCOMES:
                self.training.labels(*labels, outcome)
            for outcome in GATE_OUTCOMES.values():
                self.gate.labels(*labels, outcome)
            self.promotions.labels(*labels)
            self.rollbacks.labels(*labels)

    def forget(self, body: Mapping[str, Any]) -> None:
        """A FraudModel was deleted: it leaves the gauges and its counters' series."""
        uid = (body.get("metadata") or {}).get("uid")
        with self._lock:
            gone = self._objects.pop(uid, None)
        if gone is None:
            return
        labels = (gone.namespace, gone.name)
        for outcome in TRAINING_OUTCOMES:
            self.training.remove(*labels, outcome)
        for outcome in GATE_OUTCOMES.values():
            self.gate.remove(*labels, outcome)
        self.promotions.remove(*labels)
        self.rollbacks.remove(*labels)

    def snapshot(self) -> list[Seen]:
        """The FraudModels observed, copied under the lock (scrapes run on another thread)."""
        with self._lock:
            return list(self._objects.values())

    def count(
        self, body: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> None:
        """Count the transitions between a FraudModel's status and the one a reconcile wrote."""
        meta = body.get("metadata") or {}
        labels = (meta.get("namespace", ""), meta.get("name", ""))
        for change in transitions(old, new):
            if change.counter == "training":
                self.training.labels(*labels, change.outcome).inc()
            elif change.counter == "gate":
                self.gate.labels(*labels, change.outcome).inc()
            elif change.counter == "promotion":
                self.promotions.labels(*labels).inc()
            else:
                self.rollbacks.labels(*labels).inc()

    async def measured(
        self, body: Mapping[str, Any], reconcile: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """Run one reconcile pass and record it: its duration, its error's kind if it raised
        (re-raised unchanged), the transitions it made, and the object as it now stands."""
        self.reconciles.inc()
        started = time.perf_counter()
        try:
            new = await reconcile()
        except Exception as error:
            self.errors.labels(type(error).__name__).inc()
            raise
        finally:
            self.duration.observe(time.perf_counter() - started)
        old = dict(body.get("status") or {})
        self.count(body, old, new)
        self.observe({**body, "status": {**old, **new}})
        return new


def serve(metrics: OperatorMetrics, port: int, address: str = "0.0.0.0") -> WSGIServer:
    """Expose ``/metrics`` (any path answers) on a background thread; ``port`` 0 picks a free
    one (tests read it from the server and shut it down)."""
    server, _ = start_http_server(port, addr=address, registry=metrics.registry)
    return server


#: The operator process's metrics (handlers record into it; ``python -m fraud_operator`` serves it).
METRICS = OperatorMetrics()
