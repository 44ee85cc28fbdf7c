"""Checks a built body against the OpenAPI models of the ``kubernetes`` and ``kserve`` clients.

The API server would refuse a misspelt key (strict field validation) only when the operator runs
against a real cluster, and a cluster without KServe cannot check an InferenceService at all. The
clients' generated models know every field of every kind, so walking a body through them catches
a typo, a wrong type or a missing required field in a unit test: each key must be an attribute of
the model (``attribute_map``), each value must fit its declared type (``openapi_types``), and the
model is then constructed, which runs the client's own required-field checks.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import kserve.models
import kubernetes.client.models

_MODEL_MODULES = (kserve.models, kubernetes.client.models)
_LIST = re.compile(r"^[Ll]ist\[(.+)\]$")
_DICT = re.compile(r"^(?:dict\(str, (.+)\)|Dict\[str, (.+)\])$")
#: Declared primitive types and the JSON values that fit them (bool is not an int here).
_PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "bytes": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "datetime": (str, datetime.datetime),
    "date": (str, datetime.date),
    # A Kubernetes quantity ("500m", "2Gi", 4) as the kserve models spell its type.
    "ResourceQuantity": (str, int, float),
}


class ModelMismatch(AssertionError):
    """A body does not fit the client model of its kind; the message names the path."""


def _model_class(name: str) -> type:
    for module in _MODEL_MODULES:
        found = getattr(module, name, None)
        if isinstance(found, type) and hasattr(found, "openapi_types"):
            return found
    raise ModelMismatch(f"no client model is called {name}")


def _check_primitive(value: Any, declared: str, path: str) -> Any:
    allowed = _PRIMITIVES[declared]
    if isinstance(value, bool) and bool not in allowed:
        raise ModelMismatch(f"{path}: expected {declared}, got a boolean")
    if not isinstance(value, allowed):
        raise ModelMismatch(f"{path}: expected {declared}, got {type(value).__name__}")
    return value


def to_model(value: Any, declared: str, path: str = "$") -> Any:
    """``value`` converted to the client model type ``declared``; raises :class:`ModelMismatch`."""
    if value is None:
        raise ModelMismatch(f"{path}: null where {declared} is expected")
    if declared == "object":
        return value
    if declared in _PRIMITIVES:
        return _check_primitive(value, declared, path)
    if match := _LIST.match(declared):
        if not isinstance(value, list):
            raise ModelMismatch(f"{path}: expected a list, got {type(value).__name__}")
        return [to_model(item, match[1], f"{path}[{i}]") for i, item in enumerate(value)]
    if match := _DICT.match(declared):
        if not isinstance(value, dict):
            raise ModelMismatch(f"{path}: expected a map, got {type(value).__name__}")
        item_type = match[1] or match[2]
        return {key: to_model(item, item_type, f"{path}.{key}") for key, item in value.items()}
    return _to_object(value, _model_class(declared), path)


def _to_object(value: Any, model: type, path: str) -> Any:
    if not isinstance(value, dict):
        raise ModelMismatch(f"{path}: expected a {model.__name__} object, got {value!r}")
    attribute_of = {json_key: attr for attr, json_key in model.attribute_map.items()}
    kwargs = {}
    for key, item in value.items():
        if key not in attribute_of:
            raise ModelMismatch(f"{path}.{key}: not a field of {model.__name__}")
        attr = attribute_of[key]
        kwargs[attr] = to_model(item, model.openapi_types[attr], f"{path}.{key}")
    try:
        return model(**kwargs)
    except ValueError as error:
        raise ModelMismatch(f"{path}: {model.__name__} refused it: {error}") from error


def model_name(body: dict[str, Any]) -> str:
    """The client model of a body's kind: ``apps/v1`` ``Deployment`` is ``V1Deployment``."""
    version = body["apiVersion"].rsplit("/", 1)[-1]
    return f"{version[0].upper()}{version[1:]}{body['kind']}"


def check_body(body: dict[str, Any]) -> Any:
    """The client model instance of ``body``'s kind; raises :class:`ModelMismatch` on a misfit."""
    return to_model(body, model_name(body))
