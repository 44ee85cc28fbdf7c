"""The fast lane serves the scoring routes through their own handlers, as FastAPI would."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from fraud_inference.fast_lane import lane_routes
from fraud_training.features import TRANSACTION_FEATURES
from prometheus_text import sample
from starlette.responses import Response

INFER = "/v2/models/fraud-detector/infer"


def features_request(width: int = len(TRANSACTION_FEATURES)) -> dict[str, Any]:
    return {
        "inputs": [
            {"name": "features", "shape": [1, width], "datatype": "FP64", "data": [0.0] * width}
        ]
    }


async def plain_handler(request: Request) -> Response:
    return Response(request.path_params["name"])


def test_every_route_of_a_handler_is_in_the_lane() -> None:
    app = FastAPI()
    app.add_api_route("/a/{name}", plain_handler, methods=["POST"])
    app.add_api_route("/a/{name}/b", plain_handler, methods=["POST"])

    routes = lane_routes(app.routes, [plain_handler])

    assert [route.path for route in routes] == ["/a/{name}", "/a/{name}/b"]


def test_a_handler_with_fastapi_parameters_is_refused_at_start_up() -> None:
    async def with_parameter(request: Request, name: str) -> Response:
        return Response(name)

    app = FastAPI()
    app.add_api_route("/a/{name}", with_parameter, methods=["POST"])

    with pytest.raises(TypeError, match=r"/a/\{name\}: a fast-lane handler takes only `request`"):
        lane_routes(app.routes, [with_parameter])


def test_a_handler_without_a_route_is_refused_at_start_up() -> None:
    with pytest.raises(LookupError, match="plain_handler"):
        lane_routes(FastAPI().routes, [plain_handler])


@pytest.mark.services
def test_a_versioned_infer_names_the_served_version(client: TestClient) -> None:
    version = client.get("/model").json()["version"]

    response = client.post(
        f"/v2/models/fraud-detector/versions/{version}/infer", json=features_request()
    )

    assert response.status_code == 200
    assert response.json()["model_version"] == version


@pytest.mark.services
def test_a_versioned_infer_of_another_version_is_a_404(client: TestClient) -> None:
    response = client.post("/v2/models/fraud-detector/versions/999/infer", json=features_request())

    assert response.status_code == 404
    assert "version '999' not found" in response.json()["error"]


@pytest.mark.services
def test_a_lane_route_is_counted_under_its_template(client: TestClient) -> None:
    client.post(INFER, json=features_request())
    client.post(INFER, json=features_request(width=3))

    text = client.get("/metrics").text

    template = "/v2/models/{name}/infer"
    assert sample(text, "fraudops_http_requests_total", route=template, status="200") == 1
    assert sample(text, "fraudops_http_requests_total", route=template, status="400") == 1


@pytest.mark.services
def test_other_methods_on_a_lane_path_go_to_fastapi(client: TestClient) -> None:
    response = client.get(INFER)

    assert response.status_code == 405
