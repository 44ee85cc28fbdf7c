"""The scoring API: predict, batch, feedback, model information, reload, health and metrics."""

from __future__ import annotations

import hmac
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fraud_training.errors import RegistryError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from starlette.responses import Response

from fraud_inference.audit.feedback import AuditUnavailable, ConflictingLabel, UnknownTransaction
from fraud_inference.model_source import registered_name, registered_uri
from fraud_inference.model_store import ServedModel
from fraud_inference.online_risk import LabelOutcome
from fraud_inference.responses import JSON, ClientError, json_response
from fraud_inference.schemas import (
    BatchPrediction,
    BatchRequest,
    FeedbackReceipt,
    FeedbackRequest,
    ModelInfo,
    Prediction,
    Problem,
    ReloadRequest,
    Transaction,
)
from fraud_inference.scoring import Scores
from fraud_inference.services import Services, row_request_ids

router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text}
    for status, text in (
        (409, "The served model cannot score raw transactions."),
        (413, "Too many rows."),
        (422, "Invalid input: the fields and problems are listed."),
        (503, "No model loaded yet."),
    )
}


def services(request: Request) -> Services:
    """The service instance's parts (set up by the app factory)."""
    return request.app.state.services


def current_model(request: Request) -> ServedModel:
    """The model to score with, read once per request so a reload cannot change it midway."""
    model = services(request).store.current
    if model is None:
        raise ClientError(503, "no model loaded yet; see /readyz", {"Retry-After": "5"})
    return model


def require_admin(request: Request) -> None:
    """Admin endpoints need ``Authorization: Bearer $ADMIN_TOKEN``; no token: they are off."""
    token = services(request).settings.admin_token
    if token is None:
        raise ClientError(403, "admin endpoints are disabled: no ADMIN_TOKEN is configured")
    given = request.headers.get("authorization", "")
    scheme, _, credential = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(credential.encode(), token.encode()):
        raise ClientError(
            401, "admin endpoint: missing or wrong bearer token", {"WWW-Authenticate": "Bearer"}
        )


def _prediction(
    model: ServedModel,
    request_id: str,
    transaction: Any,
    index: int,
    scores: Scores,
    latency_ms: float,
) -> dict[str, Any]:
    """One row's response body."""
    return {
        "request_id": request_id,
        "transaction_id": transaction.transaction_id,
        "fraud_probability": float(scores.probabilities[index]),
        "decision": scores.decisions[index],
        "model_name": model.name,
        "model_version": model.version,
        "top_features": scores.top_features[index],
        "features_degraded": scores.degraded,
        "latency_ms": latency_ms,
    }


def parse_transaction(body: bytes) -> Any:
    """The request body as a :data:`Transaction`, parsed and validated by pydantic-core in one
    pass (FastAPI's own body handling costs a stdlib ``json.loads`` and a second traversal)."""
    try:
        return Transaction.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False)) from None


@router.post(
    "/predict",
    response_model=Prediction,
    responses=ERRORS,
    tags=["scoring"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": Transaction.model_json_schema()}},
        }
    },
)
async def predict(request: Request) -> Response:
    """Score one transaction: probability, decision, the features that drove it."""
    started = time.perf_counter()
    transaction = parse_transaction(await request.body())
    parts = services(request)
    model = current_model(request)
    scores = await parts.scorer.score(model, [transaction], explain=True)
    request_id = uuid.uuid4().hex
    latency_ms = (time.perf_counter() - started) * 1000.0
    parts.record(
        model,
        route="predict",
        request_ids=[request_id],
        transactions=[transaction],
        scores=scores,
        latency_ms=latency_ms,
    )
    return json_response(_prediction(model, request_id, transaction, 0, scores, latency_ms))


@router.post("/predict/batch", response_model=BatchPrediction, responses=ERRORS, tags=["scoring"])
async def predict_batch(
    batch: BatchRequest,
    request: Request,
    explain: Annotated[
        bool, Query(description="Include top_features (costs time per row).")
    ] = False,
) -> Response:
    """Score up to ``MAX_BATCH_ROWS`` transactions at once, vectorised, in the order given."""
    started = time.perf_counter()
    parts = services(request)
    limit = parts.settings.max_batch_rows
    rows = batch.transactions
    if len(rows) > limit:
        raise ClientError(413, f"transactions: {len(rows)} rows, at most {limit} per batch")
    model = current_model(request)
    scores = await parts.scorer.score(model, rows, explain=explain)
    batch_id = uuid.uuid4().hex
    request_ids = row_request_ids(batch_id, len(rows))
    latency_ms = (time.perf_counter() - started) * 1000.0
    parts.record(
        model,
        route="batch",
        request_ids=request_ids,
        transactions=rows,
        scores=scores,
        latency_ms=latency_ms,
    )
    return json_response(
        {
            "request_id": batch_id,
            "model_name": model.name,
            "model_version": model.version,
            "features_degraded": scores.degraded,
            "latency_ms": latency_ms,
            "predictions": [
                _prediction(model, request_ids[i], row, i, scores, latency_ms)
                for i, row in enumerate(rows)
            ],
        }
    )


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackReceipt,
    responses={
        **ERRORS,
        200: {"model": FeedbackReceipt, "description": "The same outcome was already stored."},
        401: {"model": Problem},
        403: {"model": Problem},
        404: {"model": Problem, "description": "No audited prediction has this transaction_id."},
        409: {"model": Problem, "description": "The transaction has the opposite outcome."},
    },
    dependencies=[Depends(require_admin)],
    tags=["scoring"],
)
async def feedback(body: FeedbackRequest, request: Request) -> Response:
    """Record the confirmed outcome (fraud or not) of a scored transaction, e.g. from a
    chargeback (admin token required). Idempotent per transaction id."""
    parts = services(request)
    if parts.feedback is None:
        raise ClientError(503, "feedback is not stored: no DATABASE_URL is configured")
    try:
        stored = await parts.feedback.record(
            body.transaction_id, body.is_fraud, body.source, body.reported_at
        )
    except UnknownTransaction as error:
        raise ClientError(404, str(error)) from None
    except ConflictingLabel as error:
        raise ClientError(409, str(error)) from None
    except AuditUnavailable as error:
        raise ClientError(503, str(error), {"Retry-After": "5"}) from None
    if stored.created:
        parts.metrics.label_received(stored)
    risk_state = await _apply_to_risk_state(parts, stored.transaction_id, stored.is_fraud)
    receipt = {
        "feedback_id": stored.feedback_id,
        "transaction_id": stored.transaction_id,
        "is_fraud": stored.is_fraud,
        "created": stored.created,
        "model_version": stored.prediction.model_version,
        "decision": stored.prediction.decision,
        "risk_state": risk_state,
    }
    return json_response(receipt, 201 if stored.created else 200)


async def _apply_to_risk_state(parts: Services, transaction_id: str, is_fraud: bool) -> str | None:
    """Apply a stored label to the online risk state (``None`` without Redis). Applying is
    idempotent, so a repeated feedback also repairs a state that was unreachable the first
    time."""
    if parts.risk is None:
        return None
    if not is_fraud:
        return LabelOutcome.NOT_A_FRAUD.value
    current = parts.store.current
    spec = current.bundle.risk if current is not None else None
    return (await parts.risk.apply_label(spec, transaction_id)).value


@router.get("/model", response_model=ModelInfo, responses=ERRORS, tags=["model"])
async def model_info(request: Request) -> Response:
    """Name, version, alias, training metrics and load time of the model being served."""
    return json_response(describe(current_model(request)))


@router.post(
    "/reload",
    response_model=ModelInfo,
    responses={**ERRORS, 401: {"model": Problem}, 403: {"model": Problem}},
    dependencies=[Depends(require_admin)],
    tags=["model"],
)
async def reload(request: Request, body: ReloadRequest | None = None) -> Response:
    """Load a model beside the current one and swap it in when warmed (admin token required)."""
    parts = services(request)
    uri = _reload_uri(parts, body or ReloadRequest())
    try:
        served = await parts.load(uri)
    except RegistryError as error:
        raise ClientError(422, str(error)) from None
    except Exception as error:
        raise ClientError(
            503, f"cannot load {uri}: {error}; still serving the previous model"
        ) from None
    return json_response(describe(served))


def _reload_uri(parts: Services, body: ReloadRequest) -> str:
    if body.model_uri:
        if body.version or body.alias:
            raise ClientError(422, "model_uri: give either model_uri or version/alias, not both")
        return body.model_uri
    if body.version and body.alias:
        raise ClientError(422, "version: give either a version or an alias, not both")
    if body.version or body.alias:
        current = parts.store.current
        name = registered_name(parts.settings.model_uri) or (
            current.name
            if current is not None and current.source.source_uri.startswith("models:/")
            else None
        )
        if name is None:
            raise ClientError(
                422, "version: the served model is not a registered model; give model_uri instead"
            )
        return registered_uri(name, version=body.version, alias=body.alias)
    if parts.settings.model_uri is None:
        raise ClientError(422, "model_uri: no MODEL_URI is configured; give model_uri")
    return parts.settings.model_uri


def describe(model: ServedModel) -> dict[str, Any]:
    """The ``/model`` document of a served model."""
    bundle = model.bundle
    return {
        "name": model.name,
        "version": model.version,
        "alias": model.source.alias,
        "run_id": model.source.run_id,
        "source_uri": model.source.source_uri,
        "algorithm": bundle.algorithm,
        "feature_set": bundle.feature_set,
        "feature_names": list(bundle.feature_names),
        "thresholds": {"review": bundle.thresholds.review, "decline": bundle.thresholds.decline},
        "metrics": {name: float(value) for name, value in bundle.metrics.items()},
        "predictor": model.predictor.kind,
        "loaded_at": model.loaded_at.isoformat(),
    }


@router.get("/healthz", tags=["health"])
async def healthz() -> dict[str, str]:
    """Liveness: the process answers. Says nothing about the model."""
    return {"status": "live"}


@router.get("/readyz", tags=["health"], responses={503: {"model": Problem}})
async def readyz(request: Request) -> Response:
    """Readiness: a model is loaded and warmed."""
    store = services(request).store
    model = store.current
    if model is None:
        reason = store.last_error or "model loading"
        return json_response({"status": "not ready", "error": reason}, 503)
    return json_response(
        {"status": "ready", "model_name": model.name, "model_version": model.version}
    )


@router.get("/metrics", tags=["health"], response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus metrics."""
    registry = services(request).metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
