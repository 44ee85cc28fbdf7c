"""The Kubernetes API as the reconciler uses it: apply, create-if-absent, get, list.

The official client is blocking; every call runs in a worker thread. Conflicts, throttling and
server errors become :class:`ClusterBusy` (retry later); a kind the cluster does not serve (KServe
not installed) becomes :class:`KindNotServed`, which the reconciler reports instead of retrying.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ApiException as DynamicApiException
from kubernetes.dynamic.exceptions import ResourceNotFoundError

FIELD_MANAGER = "fraudops-operator"
RETRIABLE_STATUS = {409, 429, 500, 502, 503, 504}


class ClusterBusy(Exception):
    """The API server asked us to come back later (conflict, throttling, server error)."""


class KindNotServed(Exception):
    """The cluster has no such kind, e.g. KServe's InferenceService without KServe."""


def load_config() -> None:
    """In-cluster credentials when running as a pod with a token, else the kubeconfig."""
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()


def _translate(error: Exception) -> Exception:
    status = getattr(error, "status", None)
    if status in RETRIABLE_STATUS:
        return ClusterBusy(f"API server answered {status}: {getattr(error, 'reason', error)}")
    return error


class Cluster:
    """A dynamic client over every kind the operator touches."""

    def __init__(self, api_client: client.ApiClient | None = None) -> None:
        self._dynamic = DynamicClient(api_client or client.ApiClient())

    def _resource(self, api_version: str, kind: str) -> Any:
        try:
            return self._dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError as error:
            raise KindNotServed(f"the cluster does not serve {kind}.{api_version}") from error

    async def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except (ApiException, DynamicApiException) as error:
            raise _translate(error) from error

    async def apply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply: create or converge ``body``, owning exactly the fields it sets."""
        resource = self._resource(body["apiVersion"], body["kind"])
        result = await self._run(
            self._dynamic.server_side_apply,
            resource,
            body=dict(body),
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
        )
        return result.to_dict()

    async def create_if_absent(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create ``body`` unless an object of that name exists; (object, created)."""
        meta = body["metadata"]
        existing = await self.get(body["apiVersion"], body["kind"], meta["namespace"], meta["name"])
        if existing is not None:
            return existing, False
        resource = self._resource(body["apiVersion"], body["kind"])
        try:
            created = await asyncio.to_thread(
                self._dynamic.create, resource, body=dict(body), namespace=meta["namespace"]
            )
        except (ApiException, DynamicApiException) as error:
            if getattr(error, "status", None) == 409:
                found = await self.get(
                    body["apiVersion"], body["kind"], meta["namespace"], meta["name"]
                )
                if found is not None:
                    return found, False
            raise _translate(error) from error
        return created.to_dict(), True

    async def get(
        self, api_version: str, kind: str, namespace: str, name: str
    ) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        resource = self._resource(api_version, kind)
        try:
            found = await asyncio.to_thread(resource.get, name=name, namespace=namespace)
        except (ApiException, DynamicApiException) as error:
            if getattr(error, "status", None) == 404:
                return None
            raise _translate(error) from error
        return found.to_dict()

    async def list(
        self, api_version: str, kind: str, namespace: str, labels: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """Objects of a kind in a namespace matching all ``labels``."""
        resource = self._resource(api_version, kind)
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        found = await self._run(resource.get, namespace=namespace, label_selector=selector)
        return [item.to_dict() for item in found.items]

    async def delete(self, api_version: str, kind: str, namespace: str, name: str) -> None:
        """Delete if present (children are otherwise left to garbage collection)."""
        resource = self._resource(api_version, kind)
        try:
            await asyncio.to_thread(resource.delete, name=name, namespace=namespace)
        except (ApiException, DynamicApiException) as error:
            if getattr(error, "status", None) != 404:
                raise _translate(error) from error
