"""What the observability fixture hands its tests: the service, the operator's exporter, their
Prometheus, and what was sent and told."""

from __future__ import annotations

from dataclasses import dataclass

from live_service import ServiceProcess
from localservices.prometheus_server import PrometheusServer
from operator_story import OperatorStory, Told
from traffic import Traffic

#: The bearer token of the observed service's admin endpoints (/reload).
ADMIN_TOKEN = "observability-admin"


@dataclass
class ObservedService:
    """The service under load, the operator's exporter, the Prometheus scraping both, and what
    was sent to the one and told through the other."""

    service: ServiceProcess
    prometheus: PrometheusServer
    traffic: Traffic
    feedback_rows: int
    #: Unix times: the burst's start, and when Prometheus had scraped all of it.
    started_at: float
    scraped_at: float
    operator: OperatorStory
    told: Told
