"""A Kubernetes API client for the devcluster's own agents, speaking plain JSON dicts.

The node agent and pod runner handle raw objects (`_preload_content=False`) rather than the
client's generated models: patches are dicts anyway and the models' (de)serialisation is the
costly part of a watch loop on 2 cores.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

__all__ = ["ApiException", "api_client", "call_json", "not_found"]


def api_client(kubeconfig: Path, pool_size: int = 32) -> client.ApiClient:
    """A client for the cluster in `kubeconfig`, with a pool large enough for per-pod threads."""
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    configuration.connection_pool_maxsize = pool_size
    return client.ApiClient(configuration)


def call_json(method: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Call a generated API method and return the response body as a dict."""
    response = method(*args, _preload_content=False, **kwargs)
    return json.loads(response.data or b"{}")


def not_found(error: ApiException) -> bool:
    """True when the API said 404 (the object is already gone)."""
    return error.status == 404
