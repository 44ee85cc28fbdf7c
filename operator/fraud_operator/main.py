"""kopf registrations and start-up settings; the work lives in :mod:`fraud_operator.reconcile`.

One reconcile behind ``on.create``, ``on.update`` (spec only), ``on.resume`` and two timers: the
change handlers react at once, the timers move things on when children change (a Job finishes, pods
become ready) and repair whatever a missed event left behind. The timer that runs depends on the
phase, as kopf re-matches timers to their filters on every event: every 5 s while something is in
flight, every 60 s once the object is Ready, Degraded or Failed. A settled object then costs one
registry lookup a minute instead of twelve, and what can change it from outside (a scheduled
retraining Job, a version promoted with ``fraudctl promote``) is noticed within a minute.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import httpx
import kopf

from fraud_operator.cluster import Cluster, ClusterBusy, load_config
from fraud_operator.config import OperatorConfig
from fraud_operator.metrics import METRICS
from fraud_operator.naming import GROUP, PLURAL, VERSION
from fraud_operator.reconcile import reconcile
from fraud_operator.registry import Registry, RegistryUnavailable
from fraud_operator.rollout import converge, scrape
from fraud_operator.status import changes
from fraud_operator.world import World

ANNOTATION_PREFIX = "kopf.fraudops.io"
#: kopf needs a finalizer on objects with timers (to stop them cleanly on deletion): name it ours.
FINALIZER = "fraudops.io/finalizer"
TIMER_INTERVAL_SECONDS = 5.0
SETTLED_TIMER_INTERVAL_SECONDS = 60.0
#: Phases with nothing in flight: only the world outside the operator can move them on.
SETTLED_PHASES = frozenset({"Ready", "Degraded", "Failed"})
HANDLER_RETRIES = 20
HANDLER_TIMEOUT_SECONDS = 600
#: Seconds before an unexpected error is retried (kopf's default is 60).
ERROR_BACKOFF_SECONDS = 10


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """Explicit settings: kopf's state in our annotations, bounded timeouts, Events at INFO."""
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
        prefix=ANNOTATION_PREFIX
    )
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=ANNOTATION_PREFIX, key="last-handled-configuration"
    )
    settings.persistence.finalizer = FINALIZER
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 270
    settings.watching.client_timeout = 300
    settings.watching.connect_timeout = 30
    settings.networking.request_timeout = 60
    settings.networking.connect_timeout = 10
    settings.peering.standalone = True  # one replica, Recreate strategy: nobody to peer with
    # Watching one namespace, the operator has a Role there and no cluster-wide rights, so kopf
    # must not watch the (cluster-scoped) CRDs to re-scan resources.
    settings.scanning.disabled = bool(os.environ.get("FRAUDOPS_WATCH_NAMESPACE"))
    load_config()
    memo.config = OperatorConfig.from_env()
    memo.http = httpx.AsyncClient()
    registries: dict[str, Registry] = {}

    def registry(uri: str) -> Registry:
        return registries.setdefault(uri, Registry(uri, memo.http))

    memo.world = World(cluster=Cluster(), registry=registry, converge=converge, scrape=scrape)
    memo.locks = {}


@kopf.on.cleanup()
async def close(memo: kopf.Memo, **_: Any) -> None:
    """Close the registry's connection pool on shutdown."""
    await memo.http.aclose()


async def _reconcile(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo) -> None:
    """Reconcile one object (never two passes of the same object at once) and patch its status."""
    lock = memo.locks.setdefault(body.metadata.uid, asyncio.Lock())
    async with lock:
        try:
            new = await METRICS.measured(body, lambda: reconcile(memo.world, body, memo.config))
        except RegistryUnavailable as error:
            raise kopf.TemporaryError(f"MLflow registry unavailable: {error}", delay=15) from error
        except ClusterBusy as error:
            raise kopf.TemporaryError(str(error), delay=5) from error
    old = dict(body.get("status") or {})
    for change in changes(old, new):
        kopf.event(body, type=change.type, reason=change.reason, message=change.message)
    for key, value in new.items():
        if old.get(key) != value:
            patch.status[key] = value


@kopf.on.resume(
    GROUP,
    VERSION,
    PLURAL,
    retries=HANDLER_RETRIES,
    timeout=HANDLER_TIMEOUT_SECONDS,
    backoff=ERROR_BACKOFF_SECONDS,
)
@kopf.on.create(
    GROUP,
    VERSION,
    PLURAL,
    retries=HANDLER_RETRIES,
    timeout=HANDLER_TIMEOUT_SECONDS,
    backoff=ERROR_BACKOFF_SECONDS,
)
@kopf.on.update(
    GROUP,
    VERSION,
    PLURAL,
    field="spec",
    retries=HANDLER_RETRIES,
    timeout=HANDLER_TIMEOUT_SECONDS,
    backoff=ERROR_BACKOFF_SECONDS,
)
async def on_change(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
    """A FraudModel appeared, changed its spec, or was found at start-up."""
    await _reconcile(body, patch, memo)


def settled(status: kopf.Status, **_: Any) -> bool:
    """Whether the object's last reconcile found nothing in flight."""
    return status.get("phase") in SETTLED_PHASES


def in_flight(status: kopf.Status, **_: Any) -> bool:
    """Whether something is under way (training, validating, promoting, deploying) or unknown."""
    return not settled(status)


@kopf.timer(
    GROUP,
    VERSION,
    PLURAL,
    interval=TIMER_INTERVAL_SECONDS,
    initial_delay=2.0,
    backoff=ERROR_BACKOFF_SECONDS,
    when=in_flight,
)
async def on_timer(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
    """Read the children's and the registry's actual state into status and move things on."""
    await _reconcile(body, patch, memo)


@kopf.timer(
    GROUP,
    VERSION,
    PLURAL,
    interval=SETTLED_TIMER_INTERVAL_SECONDS,
    initial_delay=SETTLED_TIMER_INTERVAL_SECONDS,
    backoff=ERROR_BACKOFF_SECONDS,
    when=settled,
)
async def on_settled_timer(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, **_: Any) -> None:
    """The same reconcile, seldom: notices a scheduled retraining or an outside promotion."""
    await _reconcile(body, patch, memo)


@kopf.on.event(GROUP, VERSION, PLURAL)
def observed(event: kopf.RawEvent, body: kopf.Body, **_: Any) -> None:
    """Every FraudModel the watch lists or changes feeds the metrics' gauges (phase,
    monitoring), so they are right after a restart without waiting for a reconcile."""
    if event.get("type") == "DELETED":
        METRICS.forget(body)
    else:
        METRICS.observe(body)


@kopf.on.probe(id="fraudmodels")
def watched_objects(**_: Any) -> str:
    """The liveness endpoint reports which resource the operator reconciles."""
    return f"{PLURAL}.{GROUP}/{VERSION}"
