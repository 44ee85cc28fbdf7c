"""The operator's exporter, scraped by the observability tests' Prometheus, fed by a FraudModel's
story told through the real reconcile and the real metrics code (the in-memory cluster and
registry of the operator's unit tests stand in for Kubernetes and MLflow).

The story causes the events the operator's panels and alerts are for: a version trained, passed
and promoted; a training Job that fails; a candidate the gate rejects; a reconcile that raises;
and a monitoring pass that finds drift and low live precision (``status.monitoring`` as the
operator copies it from the monitoring Job, seen through the same path as the watch delivers it).
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fraud_operator.metrics import OperatorMetrics, serve
from fraud_operator.registry import RegistryUnavailable
from prometheus_client import CollectorRegistry

# The operator's unit-test fakes: one definition of the in-memory world.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))
from fakes import Scenario

#: The scrape job of the exporter in the tests' Prometheus.
OPERATOR_JOB = "fraudops-operator"
SPEC = {"data": {"synthetic": {"rows": 20_000}}}
#: What the story's monitoring pass reports: drift above PSI's major band (0.25) and live
#: precision under 0.8 on more than 30 labelled rows, the alerts' defaults without a policy.
MONITORING = {"driftScore": 0.41, "livePrecision": 0.62, "liveRecall": 0.7, "labelledRows": 120}


@dataclass
class Told:
    """What the story did, for the tests to compare with what Prometheus scraped."""

    reconciles: int = 0
    errors: int = 0
    training: dict[str, int] | None = None
    gate: dict[str, int] | None = None
    promotions: int = 0


class OperatorStory:
    """The exporter on a loopback port and the FraudModel "cards" (namespace "risk") whose
    counters it starts at zero at once, so that Prometheus scrapes them before any event."""

    def __init__(self) -> None:
        self.metrics = OperatorMetrics(CollectorRegistry())
        self.server = serve(self.metrics, 0, "127.0.0.1")
        self.address = f"127.0.0.1:{self.server.server_port}"
        self.scenario = Scenario(SPEC)
        self.metrics.observe(self.scenario.fm)
        self.told = Told()

    def _pass(self) -> dict[str, Any]:
        self.told.reconciles += 1
        return self.scenario.measured(self.metrics)

    def _trained(self, gate: bool) -> str:
        self._pass()
        job = self.scenario.training_job()
        self.scenario.cluster.finish(job)
        version = self.scenario.registry.register(job)
        self._pass()
        self.scenario.registry.decide(version, gate)
        self._pass()
        self._pass()
        return version

    def _retrain_spec(self, seed: int) -> None:
        self.scenario.edit(data={"synthetic": {"rows": 20_000, "seed": seed}})

    def _registry_down(self) -> None:
        async def unavailable() -> dict[str, Any]:
            raise RegistryUnavailable("connection refused")

        body = {**self.scenario.fm, "status": self.scenario.status}
        self.told.reconciles += 1
        self.told.errors += 1
        try:
            asyncio.run(self.metrics.measured(body, unavailable))
        except RegistryUnavailable:
            return
        raise AssertionError("the failing reconcile did not raise")

    def tell(self) -> Told:
        """Every event, in the order a FraudModel's life might bring them."""
        self._trained(gate=True)
        self._retrain_spec(seed=2)
        self._pass()
        self.scenario.cluster.finish(self.scenario.training_job(), succeeded=False)
        self._pass()
        self._retrain_spec(seed=3)
        self._trained(gate=False)
        self._registry_down()
        self.scenario.status["monitoring"] = dict(MONITORING)
        self._pass()
        assert self.scenario.status["phase"] == "Ready", self.scenario.status
        self.told.training = {"succeeded": 2, "failed": 1}
        self.told.gate = {"passed": 1, "failed": 1, "error": 0}
        self.told.promotions = 1
        return self.told

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
