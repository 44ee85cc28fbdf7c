"""The operator's MLflow client speaks the REST API of a real tracking server: it finds versions
with their tags and aliases, moves aliases and writes tags, and calls an outage an outage."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from fraud_operator.registry import Registry, RegistryUnavailable, by_alias, by_job
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.services

T = TypeVar("T")


def run(call: Callable[[Registry], Awaitable[T]], uri: str) -> T:
    async def go() -> T:
        async with httpx.AsyncClient() as http:
            return await call(Registry(uri, http))

    return asyncio.run(go())


@pytest.fixture(scope="module")
def model(mlflow_server: Any) -> str:
    """A registered model with two versions of one empty run, the second tagged by its Job."""
    client = MlflowClient(mlflow_server.tracking_uri, mlflow_server.tracking_uri)
    run_ = client.create_run(client.create_experiment("operator-registry-client"))
    client.log_metric(run_.info.run_id, "roc_auc", 0.97)
    client.create_registered_model("operator-client")
    for _ in range(2):
        client.create_model_version("operator-client", "s3://nowhere/model", run_.info.run_id)
    client.set_model_version_tag("operator-client", "2", "fraudops.io/job", "cards-train-abc")
    return "operator-client"


def test_versions_come_with_their_tags_oldest_first(mlflow_server: Any, model: str) -> None:
    versions = run(lambda r: r.versions(model), mlflow_server.tracking_uri)

    assert [v.version for v in versions] == ["1", "2"]
    assert by_job(versions, "cards-train-abc").version == "2"


def test_an_alias_set_is_seen_on_its_version_and_gone_once_deleted(
    mlflow_server: Any, model: str
) -> None:
    uri = mlflow_server.tracking_uri
    run(lambda r: r.set_alias(model, "champion", "2"), uri)
    assert by_alias(run(lambda r: r.versions(model), uri), "champion").version == "2"

    run(lambda r: r.delete_alias(model, "champion"), uri)
    assert by_alias(run(lambda r: r.versions(model), uri), "champion") is None


def test_tags_are_written_on_the_version(mlflow_server: Any, model: str) -> None:
    uri = mlflow_server.tracking_uri
    run(lambda r: r.set_tags(model, "1", {"promoted_by": "fraudops-operator"}), uri)

    (first, _) = run(lambda r: r.versions(model), uri)
    assert first.promoted_by == "fraudops-operator"


def test_run_metrics_are_read_as_numbers(mlflow_server: Any, model: str) -> None:
    uri = mlflow_server.tracking_uri
    (first, _) = run(lambda r: r.versions(model), uri)

    assert run(lambda r: r.run_metrics(first.run_id), uri) == {"roc_auc": 0.97}


def test_a_model_that_is_not_registered_has_no_versions(mlflow_server: Any) -> None:
    assert run(lambda r: r.versions("never-registered"), mlflow_server.tracking_uri) == []


def test_a_server_that_does_not_answer_is_unavailable() -> None:
    with pytest.raises(RegistryUnavailable, match="unreachable"):
        run(lambda r: r.versions("any"), "http://127.0.0.1:9")
