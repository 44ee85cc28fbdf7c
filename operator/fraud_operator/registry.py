"""What the operator asks of MLflow: read versions and their tags, move aliases, write tags.

The operator speaks MLflow's REST API (JSON over HTTP) directly rather than through the ``mlflow``
package: it never downloads an artifact, loads a model or unpickles anything, whatever the tracking
server returns, and it does not carry MLflow's import weight. Every request is asynchronous with
a deadline; a timeout, a refused connection or a 5xx becomes :class:`RegistryUnavailable`, which
the reconciler turns into a ``kopf.TemporaryError`` (back off, retry) instead of a stuck handler.

The registry holds every decision (the gate's on the version, promotions as aliases and tags), so
a restarted operator finds them there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from fraud_training import version_tags

CHAMPION = "champion"
CHALLENGER = "challenger"
API = "/api/2.0/mlflow"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
SEARCH_PAGE = 200
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"


class RegistryUnavailable(Exception):
    """MLflow did not answer in time or answered with a server error: worth retrying."""


@dataclass(frozen=True)
class VersionInfo:
    """A registered model version as the policy and the status need it."""

    version: str
    run_id: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def gate(self) -> str | None:
        """ "passed" or "failed" once the gate has decided, else None."""
        return self.tags.get(version_tags.GATE)

    @property
    def gate_message(self) -> str:
        return self.tags.get(version_tags.GATE_MESSAGE, "")

    @property
    def promoted_by(self) -> str | None:
        """Who last made this version champion (None: nobody recorded it)."""
        return self.tags.get(version_tags.PROMOTED_BY)

    @property
    def promoted_reason(self) -> str:
        return self.tags.get(version_tags.PROMOTED_REASON, "")

    @property
    def rolled_back(self) -> str | None:
        """Why the operator rolled this version back after its canary (None: it did not)."""
        return self.tags.get(version_tags.ROLLED_BACK)

    @property
    def number(self) -> int:
        return int(self.version)


class RegistryAPI(Protocol):
    """The registry calls the reconciler makes (implemented over HTTP here, in memory in tests)."""

    async def versions(self, model: str) -> list[VersionInfo]: ...

    async def run_metrics(self, run_id: str) -> dict[str, float]: ...

    async def set_alias(self, model: str, alias: str, version: str) -> None: ...

    async def delete_alias(self, model: str, alias: str) -> None: ...

    async def set_tags(self, model: str, version: str, tags: Mapping[str, str]) -> None: ...


def _version(body: Mapping[str, Any], aliases: Mapping[str, Sequence[str]]) -> VersionInfo:
    version = str(body["version"])
    return VersionInfo(
        version=version,
        run_id=body.get("run_id", ""),
        tags={t["key"]: t.get("value", "") for t in body.get("tags") or []},
        aliases=tuple(sorted(aliases.get(version, ()))),
    )


def _quoted(name: str) -> str:
    return name.replace("'", "\\'")


class Registry:
    """MLflow's model registry at one tracking URI, over its REST API."""

    def __init__(self, tracking_uri: str, http: httpx.AsyncClient) -> None:
        self.tracking_uri = tracking_uri.rstrip("/")
        self._http = http

    async def _call(
        self, method: str, path: str, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> dict[str, Any] | None:
        """One request; None for "does not exist", :class:`RegistryUnavailable` for outages."""
        url = f"{self.tracking_uri}{API}/{path}"
        try:
            answer = await self._http.request(
                method, url, params=params, json=body, timeout=TIMEOUT
            )
        except httpx.HTTPError as error:
            raise RegistryUnavailable(
                f"MLflow at {self.tracking_uri} unreachable: {error}"
            ) from error
        if answer.status_code == 404 or (answer.status_code == 400 and NOT_FOUND in answer.text):
            return None
        if answer.status_code >= 400:
            raise RegistryUnavailable(
                f"MLflow at {self.tracking_uri} answered {answer.status_code} to {path}: "
                f"{answer.text[:300]}"
            )
        try:
            return answer.json()
        except ValueError as error:
            raise RegistryUnavailable(f"MLflow answered {path} with non-JSON") from error

    async def versions(self, model: str) -> list[VersionInfo]:
        """Every version of ``model`` with tags and aliases, oldest first; [] before the first.

        Two requests (a page of a search holds 200 versions): the search answers with tags but
        without aliases, which the registered model itself lists.
        """
        registered = await self._call("GET", "registered-models/get", params={"name": model})
        if registered is None:
            return []
        aliases: dict[str, list[str]] = {}
        for entry in (registered.get("registered_model") or {}).get("aliases") or []:
            aliases.setdefault(str(entry["version"]), []).append(entry["alias"])
        found: list[VersionInfo] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {
                "filter": f"name='{_quoted(model)}'",
                "max_results": SEARCH_PAGE,
            }
            if token:
                params["page_token"] = token
            page = await self._call("GET", "model-versions/search", params=params) or {}
            found += [_version(v, aliases) for v in page.get("model_versions") or []]
            token = page.get("next_page_token")
            if not token:
                return sorted(found, key=lambda v: v.number)

    async def run_metrics(self, run_id: str) -> dict[str, float]:
        """The latest value of every metric of a run ({} when the run is gone)."""
        answer = await self._call("GET", "runs/get", params={"run_id": run_id}) or {}
        metrics = ((answer.get("run") or {}).get("data") or {}).get("metrics") or []
        return {m["key"]: float(m["value"]) for m in metrics}

    async def set_alias(self, model: str, alias: str, version: str) -> None:
        body = {"name": model, "alias": alias, "version": version}
        await self._call("POST", "registered-models/alias", body=body)

    async def delete_alias(self, model: str, alias: str) -> None:
        await self._call("DELETE", "registered-models/alias", body={"name": model, "alias": alias})

    async def set_tags(self, model: str, version: str, tags: Mapping[str, str]) -> None:
        for key, value in tags.items():
            body = {"name": model, "version": version, "key": key, "value": value}
            await self._call("POST", "model-versions/set-tag", body=body)


def by_alias(versions: Sequence[VersionInfo], alias: str) -> VersionInfo | None:
    """The version carrying ``alias``, if any."""
    return next((v for v in versions if alias in v.aliases), None)


def by_job(versions: Sequence[VersionInfo], job: str) -> VersionInfo | None:
    """The newest version the training Job ``job`` registered (its tag is written last)."""
    matching = [v for v in versions if v.tags.get(version_tags.JOB) == job]
    return max(matching, key=lambda v: v.number) if matching else None


def by_number(versions: Sequence[VersionInfo], number: int) -> VersionInfo | None:
    return next((v for v in versions if v.number == number), None)
