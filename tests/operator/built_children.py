"""Every object the operator's builders create, found by looking at the builders themselves.

Tests that must cover every kind the operator creates (its RBAC, say) derive the kinds from here
instead of restating a list, so a new builder is covered the day it is written.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import fraud_operator.builders
from crd_defaults import fraud_model
from fraud_operator.config import OperatorConfig

#: FraudModels that between them make every builder produce a body (schedule set, both runtimes).
SPECS: tuple[dict[str, Any], ...] = (
    {"data": {"synthetic": {}}, "retraining": {"schedule": "@daily"}},
    {"data": {"synthetic": {}}, "serving": {"runtime": "kserve", "canaryTrafficPercent": 10}},
)


def builders() -> Iterator[Callable[..., dict[str, Any] | None]]:
    """Every public ``build_*`` function of every module in ``fraud_operator.builders``."""
    package = fraud_operator.builders
    for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("build_") and function.__module__ == module.__name__:
                yield function


#: An operator with an audit trail, so that the monitoring CronJob is built too.
CONFIG = OperatorConfig(serving_env={"DATABASE_URL": "postgresql://audit/fraudops"})


def _arguments(builder: Callable[..., Any], fm: dict[str, Any]) -> dict[str, Any]:
    known = {
        "fm": fm,
        "config": CONFIG,
        "token": "t0ken",
        "version": "3",
        "reason": "Drift",
        "sequence": 1,
    }
    parameters = inspect.signature(builder).parameters
    required = {n for n, p in parameters.items() if p.default is inspect.Parameter.empty}
    unknown = required - set(known)
    if unknown:
        raise TypeError(f"{builder.__name__} takes {sorted(unknown)}: teach built_children.py")
    return {name: known[name] for name in parameters if name in known}


def all_children() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(FraudModel, child body) for every body every builder makes for the :data:`SPECS`."""
    pairs = []
    for spec in SPECS:
        fm = fraud_model(spec)
        for builder in builders():
            body = builder(**_arguments(builder, fm))
            if body is not None:
                pairs.append((fm, body))
    return pairs


def resource_of(body: dict[str, Any]) -> tuple[str, str]:
    """(API group, plural resource) of a body; our kinds all pluralise by a trailing "s"."""
    api_version = body["apiVersion"]
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return group, f"{body['kind'].lower()}s"


def child_resources() -> set[tuple[str, str]]:
    """Every (API group, plural resource) the operator creates."""
    return {resource_of(body) for _, body in all_children()}
