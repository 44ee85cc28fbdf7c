"""The parts one service instance is made of, wired from its settings, started and stopped.

The process is live as soon as :meth:`Services.start` returns: the model loads in the background
(readiness follows it), the audit writer connects when it first has rows, and Redis is only
contacted by requests. None of the backing services being down stops the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fraud_training.decisions import DECISIONS
from pydantic import BaseModel

from fraud_inference.audit.feedback import FeedbackStore
from fraud_inference.audit.migrate import SchemaGate
from fraud_inference.audit.records import AuditRecord
from fraud_inference.audit.spool import AuditSpool
from fraud_inference.audit.writer import AuditWriter
from fraud_inference.metrics import ServiceMetrics
from fraud_inference.model_store import ModelStore, ServedModel
from fraud_inference.online_redis import OnlineRedis
from fraud_inference.online_risk import OnlineRisk
from fraud_inference.online_state import OnlineState
from fraud_inference.runtime import freeze_heap
from fraud_inference.scoring import Scorer, Scores
from fraud_inference.settings import Settings

log = logging.getLogger(__name__)


def row_request_ids(request_id: str, rows: int) -> list[str]:
    """The audit key of each row of a multi-row request: ``<request id>-<row index>``."""
    return [f"{request_id}-{i}" for i in range(rows)]


@dataclass
class Services:
    """Model store, scorer, online state, audit trail and metrics of one service instance."""

    settings: Settings
    metrics: ServiceMetrics
    store: ModelStore
    scorer: Scorer
    online: OnlineState | None
    audit: AuditWriter | None
    feedback: FeedbackStore | None
    #: The risk features' state (scored transactions, confirmed frauds), beside ``online``.
    risk: OnlineRisk | None = None
    _initial_load: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        """Wire the parts; nothing is contacted yet."""
        metrics = ServiceMetrics()
        online = risk = None
        if settings.redis_url:
            redis = OnlineRedis(settings.redis_url, settings.redis_timeout_s)
            ttl_days, namespace = settings.online_state_ttl_days, settings.model_name
            online = OnlineState(redis, ttl_days, namespace=namespace)
            risk = OnlineRisk(redis, ttl_days, namespace=namespace)
        audit = feedback = None
        if settings.database_url:
            schema = SchemaGate(settings.database_url)
            spool = AuditSpool(settings.audit_spool_dir, settings.audit_spool_max_mb * 1024 * 1024)
            audit = AuditWriter(
                settings.database_url,
                schema,
                spool,
                metrics,
                queue_rows=settings.audit_queue_rows,
                batch_rows=settings.audit_batch_rows,
                linger_s=settings.audit_linger_s,
            )
            feedback = FeedbackStore(settings.database_url, schema)
        return cls(
            settings=settings,
            metrics=metrics,
            store=ModelStore(settings.tracking_uri, settings.explain_method, settings.predictor),
            scorer=Scorer(online, metrics, settings.top_k_features, risk),
            online=online,
            audit=audit,
            feedback=feedback,
            risk=risk,
        )

    async def start(self) -> None:
        """Start the audit writer and the first model load, without waiting for either."""
        if self.online is None:
            log.warning("REDIS_URL not set: every score is degraded (no online history)")
        if self.audit is None:
            log.warning("DATABASE_URL not set: predictions are not audited")
        else:
            self.audit.start()
        if self.settings.model_uri is None:
            log.error("MODEL_URI not set: not ready until a model is loaded with POST /reload")
        else:
            self._initial_load = asyncio.create_task(self._load_initial(self.settings.model_uri))

    async def stop(self) -> None:
        """Stop loading, flush the audit trail (or spool it), close connections."""
        if self._initial_load is not None:
            self._initial_load.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._initial_load
        if self.audit is not None:
            await self.audit.close()
        if self.feedback is not None:
            await self.feedback.close()
        if self.online is not None:
            await self.online.redis.close()

    async def load(self, uri: str) -> ServedModel:
        """Load and swap in a model, recording the outcome in the metrics."""
        try:
            served = await self.store.load(uri)
        except Exception:
            self.metrics.model_loads.labels("failure").inc()
            raise
        self.metrics.model_loads.labels("success").inc()
        self.metrics.serving(
            served.name, served.version, served.source.alias, served.bundle.algorithm, DECISIONS
        )
        freeze_heap()
        return served

    def record(
        self,
        model: ServedModel,
        *,
        route: str,
        request_ids: Sequence[str],
        transactions: Sequence[BaseModel] | None,
        scores: Scores,
        latency_ms: float,
    ) -> None:
        """Count the scores and hand one audit line per row to the background writer."""
        metrics = self.metrics
        for probability in scores.probabilities.tolist():
            metrics.scores.observe(probability)
        for decision, count in Counter(scores.decisions.tolist()).items():
            metrics.predictions.labels(decision).inc(count)
        if self.audit is None:
            return
        names = model.bundle.feature_names
        scored_at = datetime.now(UTC)
        self.audit.submit(
            AuditRecord(
                request_id=request_id,
                scored_at=scored_at,
                route=route,
                transaction=transactions[i] if transactions is not None else None,
                features=scores.features[i],
                feature_names=names,
                fraud_probability=float(scores.probabilities[i]),
                decision=str(scores.decisions[i]),
                model_name=model.name,
                model_version=model.version,
                latency_ms=latency_ms,
                features_degraded=scores.degraded,
            ).copy_line()
            for i, request_id in enumerate(request_ids)
        )

    async def _load_initial(self, uri: str) -> None:
        with contextlib.suppress(Exception):  # logged and kept in store.last_error for /readyz
            await self.load(uri)
