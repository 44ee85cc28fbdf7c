"""The Kubernetes API as the reconciler uses it: apply, create-if-absent, get, list, delete.

The official client is blocking (discovery included); every call runs in a worker thread.
Conflicts, throttling and server errors become :class:`ClusterBusy` (retry later); a kind the
cluster does not serve (KServe not installed) becomes :class:`KindNotServed`, which the reconciler
reports instead of retrying.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ApiException as DynamicApiException
from kubernetes.dynamic.exceptions import ResourceNotFoundError

FIELD_MANAGER = "fraudops-operator"
RETRIABLE_STATUS = {409, 429, 500, 502, 503, 504}
API_ERRORS = (ApiException, DynamicApiException)

T = TypeVar("T")


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


def _status(error: Exception) -> int | None:
    return getattr(error, "status", None)


class Cluster:
    """A dynamic client over every kind the operator touches."""

    def __init__(self, api_client: client.ApiClient | None = None) -> None:
        self._dynamic = DynamicClient(api_client or client.ApiClient())

    def _resource(self, api_version: str, kind: str) -> Any:
        try:
            return self._dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError as error:
            raise KindNotServed(f"the cluster does not serve {kind}.{api_version}") from error

    async def _call(self, fn: Callable[[], T], missing: Callable[[], T] | None = None) -> T:
        """Run ``fn`` in a thread; a 404 returns ``missing()`` when given, retriable errors become
        :class:`ClusterBusy`."""
        try:
            return await asyncio.to_thread(fn)
        except API_ERRORS as error:
            if missing is not None and _status(error) == 404:
                return missing()
            if _status(error) in RETRIABLE_STATUS:
                raise ClusterBusy(f"API server answered {_status(error)}: {error}") from error
            raise

    async def apply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply: create or converge ``body``, owning exactly the fields it sets."""

        def apply() -> dict[str, Any]:
            resource = self._resource(body["apiVersion"], body["kind"])
            return self._dynamic.server_side_apply(
                resource, body=dict(body), field_manager=FIELD_MANAGER, force_conflicts=True
            ).to_dict()

        return await self._call(apply)

    async def create_if_absent(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create ``body`` unless an object of that name exists; (object, created).

        Checking first keeps a restarted operator from even trying to duplicate a child; a 409
        from a concurrent creation is answered with the object that won.
        """
        meta = body["metadata"]
        existing = await self.get(body["apiVersion"], body["kind"], meta["namespace"], meta["name"])
        if existing is not None:
            return existing, False

        def create() -> dict[str, Any]:
            resource = self._resource(body["apiVersion"], body["kind"])
            return self._dynamic.create(
                resource, body=dict(body), namespace=meta["namespace"]
            ).to_dict()

        try:
            return await self._call(create), True
        except ClusterBusy:
            found = await self.get(
                body["apiVersion"], body["kind"], meta["namespace"], meta["name"]
            )
            if found is None:
                raise
            return found, False

    async def get(
        self, api_version: str, kind: str, namespace: str, name: str
    ) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""

        def get() -> dict[str, Any] | None:
            resource = self._resource(api_version, kind)
            return resource.get(name=name, namespace=namespace).to_dict()

        return await self._call(get, missing=lambda: None)

    async def list(
        self, api_version: str, kind: str, namespace: str, labels: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """Objects of a kind in a namespace matching all ``labels``."""
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

        def list_() -> list[dict[str, Any]]:
            resource = self._resource(api_version, kind)
            found = resource.get(namespace=namespace, label_selector=selector)
            return [item.to_dict() for item in found.items]

        return await self._call(list_)

    async def delete(self, api_version: str, kind: str, namespace: str, name: str) -> None:
        """Delete if present, dependents in the background (a Job's pods go with it); a kind the
        cluster does not serve has nothing to delete."""

        def delete() -> None:
            try:
                resource = self._resource(api_version, kind)
            except KindNotServed:
                return
            resource.delete(
                name=name,
                namespace=namespace,
                body={"propagationPolicy": "Background"},
            )

        await self._call(delete, missing=lambda: None)
