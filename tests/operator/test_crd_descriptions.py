"""Every field of the CRD explains itself: ``kubectl explain fm.spec...`` never says
``<no description>``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from crd_defaults import openapi_schema
from fraud_operator.crd import with_defaults


def fields(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(dotted path, schema) of every named field under ``node``, array items included."""
    for name, sub in (node.get("properties") or {}).items():
        if path == "" and name in ("apiVersion", "kind", "metadata"):
            continue
        yield f"{path}.{name}".lstrip("."), sub
        yield from fields(sub, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from fields(node["items"], f"{path}[]")


FIELDS = dict(fields(openapi_schema(), ""))


def test_the_schema_has_the_fields_a_person_sets_and_reads() -> None:
    assert {"spec.serving.version", "spec.training.resources.limits", "status.gateJob"} <= set(
        FIELDS
    )


@pytest.mark.parametrize("path", sorted(FIELDS))
def test_every_field_has_a_description(path: str) -> None:
    assert FIELDS[path].get("description", "").strip()


def test_the_operator_fills_defaults_an_older_object_lacks_from_the_crd_itself() -> None:
    stored = {"metadata": {"name": "cards"}, "spec": {"data": {"synthetic": {}}}}

    spec = with_defaults(stored)["spec"]

    serving = openapi_schema()["properties"]["spec"]["properties"]["serving"]["properties"]
    assert spec["serving"]["minReplicas"] == serving["minReplicas"]["default"]
    assert (
        spec["training"]["resources"]["limits"]
        == (
            openapi_schema()["properties"]["spec"]["properties"]["training"]["properties"][
                "resources"
            ]["properties"]["limits"]["default"]
        )
    )
