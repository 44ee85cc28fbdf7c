"""The KServe V2 / Open Inference Protocol beside the REST API.

The model takes one input, ``features``: the feature matrix in the model's feature order
(``[rows, n_features]``, any numeric datatype, FP64 preferred) — what a KServe transformer or a
batch job that already built the features sends. It answers ``fraud_probability`` (FP64,
``[rows]``) and ``decision`` (BYTES, ``[rows]``: approve, review or decline). Raw transactions go
to ``POST /predict``, which builds the features (and keeps the online history) itself.

Errors follow the protocol: ``{"error": "..."}`` with 400 for a malformed request, 404 for an
unknown model or version, 413 for too many rows, 503 while no model is loaded.
"""

from __future__ import annotations

import time
import uuid
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from starlette.responses import Response
from starlette.routing import compile_path

from fraud_inference.model_store import ServedModel
from fraud_inference.responses import JSON, ClientError, json_response
from fraud_inference.routes import services
from fraud_inference.scoring import Scores
from fraud_inference.services import row_request_ids
from fraud_inference.v2_codec import (
    HEADER_LENGTH,
    OutputTensor,
    bad_request,
    decode_request,
    encode_response,
)

router = APIRouter(prefix="/v2", tags=["v2"])

FEATURES_INPUT = "features"
PROBABILITY_OUTPUT = "fraud_probability"
DECISION_OUTPUT = "decision"
OUTPUTS = (PROBABILITY_OUTPUT, DECISION_OUTPUT)
PROTOCOL_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": text,
        "content": {
            JSON: {"schema": {"type": "object", "properties": {"error": {"type": "string"}}}}
        },
    }
    for code, text in (
        (400, "Malformed request."),
        (404, "Unknown model or version."),
        (413, "Too many rows."),
        (503, "No model loaded yet."),
    )
}
_TENSOR_SCHEMA = {
    "type": "object",
    "required": ["name", "shape", "datatype"],
    "properties": {
        "name": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "datatype": {"type": "string"},
        "parameters": {"type": "object"},
        "data": {"type": "array", "items": {}},
    },
}
INFER_REQUEST_SCHEMA = {
    "type": "object",
    "required": ["inputs"],
    "properties": {
        "id": {"type": "string"},
        "parameters": {"type": "object"},
        "inputs": {"type": "array", "items": _TENSOR_SCHEMA, "minItems": 1},
        "outputs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}},
            },
        },
    },
}


def _package_version() -> str:
    try:
        return version("fraudops")
    except PackageNotFoundError:
        return "unknown"


def served_model(request: Request, name: str, model_version: str | None = None) -> ServedModel:
    """The served model if ``name`` (and ``model_version``, if given) are the ones served."""
    parts = services(request)
    if name != parts.settings.model_name:
        raise ClientError(
            404, f"model {name!r} not found; this server serves {parts.settings.model_name!r}"
        )
    model = parts.store.current
    if model is None:
        raise ClientError(503, f"model {name!r} is not loaded yet", {"Retry-After": "5"})
    if model_version is not None and model_version != model.version:
        raise ClientError(
            404, f"model {name!r} version {model_version!r} not found; serving {model.version!r}"
        )
    return model


@router.get("", summary="Server metadata")
async def server_metadata() -> dict[str, Any]:
    """Server name, version and protocol extensions."""
    return {"name": "fraudops", "version": _package_version(), "extensions": ["binary_tensor_data"]}


@router.get("/health/live", summary="Server live")
async def live() -> dict[str, bool]:
    """The process answers."""
    return {"live": True}


@router.get("/health/ready", summary="Server ready", responses=PROTOCOL_ERRORS)
async def ready(request: Request) -> Response:
    """A model is loaded and warmed."""
    is_ready = services(request).store.ready
    return json_response({"ready": is_ready}, 200 if is_ready else 503)


MODEL_PATH = "/models/{name}"
VERSION_PATH = "/models/{name}/versions/{model_version}"


def _documented(path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """OpenAPI text for a route whose handler reads its path parameters from the request.

    The handlers take only the :class:`Request`: FastAPI's per-parameter resolution cost about a
    fifth of an infer call in process, measured with cProfile, so the parameters (all plain
    strings, named by the path template as Starlette parses it) are documented here instead of
    inferred from the signature.
    """
    _, _, convertors = compile_path(path)
    extra: dict[str, Any] = {
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in convertors
        ]
    }
    if body is not None:
        extra["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    return extra


def _requested_model(request: Request) -> ServedModel:
    """The served model named by the route's path parameters."""
    parameters = request.path_params
    return served_model(request, parameters["name"], parameters.get("model_version"))


@router.get(
    MODEL_PATH,
    summary="Model metadata",
    responses=PROTOCOL_ERRORS,
    openapi_extra=_documented(MODEL_PATH),
)
@router.get(
    VERSION_PATH,
    summary="Model version metadata",
    responses=PROTOCOL_ERRORS,
    openapi_extra=_documented(VERSION_PATH),
)
async def model_metadata(request: Request) -> Response:
    """Inputs and outputs with datatype and shape."""
    model = _requested_model(request)
    n_features = len(model.bundle.feature_names)
    return json_response(
        {
            "name": request.path_params["name"],
            "versions": [model.version],
            "platform": model.bundle.algorithm,
            "inputs": [
                {
                    "name": FEATURES_INPUT,
                    "datatype": "FP64",
                    "shape": [-1, n_features],
                    "parameters": {"feature_names": list(model.bundle.feature_names)},
                }
            ],
            "outputs": [
                {"name": PROBABILITY_OUTPUT, "datatype": "FP64", "shape": [-1]},
                {"name": DECISION_OUTPUT, "datatype": "BYTES", "shape": [-1]},
            ],
        }
    )


@router.get(
    MODEL_PATH + "/ready",
    summary="Model ready",
    responses=PROTOCOL_ERRORS,
    openapi_extra=_documented(MODEL_PATH),
)
@router.get(
    VERSION_PATH + "/ready",
    summary="Model version ready",
    responses=PROTOCOL_ERRORS,
    openapi_extra=_documented(VERSION_PATH),
)
async def model_ready(request: Request) -> Response:
    """200 when this model (version) is loaded."""
    _requested_model(request)
    return json_response({"name": request.path_params["name"], "ready": True})


@router.post(
    MODEL_PATH + "/infer",
    summary="Infer",
    responses=PROTOCOL_ERRORS,
    openapi_extra=_documented(MODEL_PATH, body=INFER_REQUEST_SCHEMA),
)
@router.post(
    VERSION_PATH + "/infer",
    summary="Infer with a version",
    responses=PROTOCOL_ERRORS,
    openapi_extra=_documented(VERSION_PATH, body=INFER_REQUEST_SCHEMA),
)
async def infer(request: Request) -> Response:
    """Score a feature matrix: probabilities and decisions, audited like every prediction."""
    started = time.perf_counter()
    model = _requested_model(request)
    name = request.path_params["name"]
    parts = services(request)
    decoded = decode_request(await request.body(), request.headers.get(HEADER_LENGTH))
    features = _feature_matrix(
        decoded.inputs, len(model.bundle.feature_names), parts.settings.max_batch_rows
    )
    unknown = [output for output in decoded.outputs or () if output not in OUTPUTS]
    if unknown:
        raise bad_request(
            f"outputs: unknown output {unknown[0]!r}; this model has {', '.join(OUTPUTS)}"
        )
    probabilities = model.predictor.probability(features)
    scores = Scores(
        features=features,
        probabilities=probabilities,
        decisions=model.bundle.thresholds.decide(probabilities),
        top_features=[],
        degraded=False,
    )
    # The audit key is ours: a client's "id" need not be unique, and a reused one must not make
    # the audit trail drop a prediction. The client's id is echoed back as the protocol says.
    request_id = uuid.uuid4().hex
    request_ids = [request_id] if len(features) == 1 else row_request_ids(request_id, len(features))
    latency_ms = (time.perf_counter() - started) * 1000.0
    parts.record(
        model,
        route="v2",
        request_ids=request_ids,
        transactions=None,
        scores=scores,
        latency_ms=latency_ms,
    )
    tensors = {
        PROBABILITY_OUTPUT: OutputTensor(PROBABILITY_OUTPUT, "FP64", probabilities),
        DECISION_OUTPUT: OutputTensor(DECISION_OUTPUT, "BYTES", scores.decisions),
    }
    body, headers = encode_response(
        {"model_name": name, "model_version": model.version, "id": decoded.id or request_id},
        [tensors[output] for output in decoded.outputs or OUTPUTS],
        decoded.binary_outputs,
    )
    media_type = "application/octet-stream" if headers else JSON
    return Response(body, media_type=media_type, headers=headers)


def _feature_matrix(inputs: dict[str, np.ndarray], n_features: int, max_rows: int) -> np.ndarray:
    extra = sorted(set(inputs) - {FEATURES_INPUT})
    if extra:
        raise bad_request(
            f"inputs: unknown input {extra[0]!r}; this model takes only {FEATURES_INPUT!r}"
        )
    if FEATURES_INPUT not in inputs:
        raise bad_request(f"inputs: missing input {FEATURES_INPUT!r}")
    matrix = inputs[FEATURES_INPUT]
    if matrix.ndim != 2 or matrix.shape[1] != n_features:
        raise bad_request(
            f"input {FEATURES_INPUT!r}: shape must be [rows, {n_features}], "
            f"got {list(matrix.shape)}"
        )
    if matrix.shape[0] == 0:
        raise bad_request(f"input {FEATURES_INPUT!r}: needs at least one row")
    if matrix.shape[0] > max_rows:
        raise ClientError(
            413, f"input {FEATURES_INPUT!r}: {matrix.shape[0]} rows, at most {max_rows}"
        )
    return matrix
