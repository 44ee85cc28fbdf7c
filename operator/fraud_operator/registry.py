"""What the operator asks of MLflow, off the event loop and bounded in time.

MLflow's client is blocking and retries HTTP errors for minutes by default; every call here runs in
a worker thread under a deadline and fails fast as :class:`RegistryUnavailable`, which the
reconciler turns into a ``kopf.TemporaryError`` (back off, retry) instead of a stuck handler.
The gate's decision is written to the model version as tags, so it is made once per version and
survives operator restarts.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from fraud_training import version_tags
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

CHAMPION = "champion"
CHALLENGER = "challenger"
TAG_JOB = version_tags.JOB
TAG_GATE = version_tags.GATE
TAG_GATE_MESSAGE = "gate_message"
CALL_TIMEOUT_SECONDS = 30.0
#: The gate downloads two models and a hold-out and scores them.
GATE_TIMEOUT_SECONDS = 300.0

# Bound MLflow's own HTTP retries so that our deadline, not its back-off, decides.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")

if TYPE_CHECKING:
    from fraud_training.gate import GatePolicy, GateReport

T = TypeVar("T")


class RegistryUnavailable(Exception):
    """MLflow did not answer in time or answered with a server error: worth retrying."""


@dataclass(frozen=True)
class VersionInfo:
    """A registered model version with what the gate and the status need."""

    version: str
    run_id: str
    metrics: dict[str, float]
    tags: dict[str, str]

    @property
    def gate(self) -> str | None:
        """ "passed" or "failed" once the gate has decided, else None."""
        return self.tags.get(TAG_GATE)


async def _call(fn: Callable[..., T], *args: Any, timeout: float = CALL_TIMEOUT_SECONDS) -> T:
    """Run a blocking MLflow call in a thread with a deadline."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(fn, *args), timeout)
    except TimeoutError as error:
        raise RegistryUnavailable(f"MLflow did not answer within {timeout:.0f}s") from error
    except MlflowException as error:
        if getattr(error, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
            raise
        raise RegistryUnavailable(f"MLflow: {error.message}") from error
    except OSError as error:
        raise RegistryUnavailable(f"MLflow unreachable: {error}") from error


class Registry:
    """The registry of one tracking URI."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self._client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    def _info(self, model_version: Any) -> VersionInfo:
        run = self._client.get_run(model_version.run_id)
        return VersionInfo(
            version=str(model_version.version),
            run_id=model_version.run_id,
            metrics=dict(run.data.metrics),
            tags=dict(model_version.tags or {}),
        )

    def _version_for_job(self, model: str, job: str) -> VersionInfo | None:
        try:
            found = self._client.search_model_versions(f"name = '{model}'")
        except MlflowException as error:
            if getattr(error, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        matching = [v for v in found if (v.tags or {}).get(TAG_JOB) == job]
        if not matching:
            return None
        return self._info(max(matching, key=lambda v: int(v.version)))

    async def version_for_job(self, model: str, job: str) -> VersionInfo | None:
        """The version the training Job ``job`` registered, if it got that far."""
        return await _call(self._version_for_job, model, job)

    def _by_alias(self, model: str, alias: str) -> VersionInfo | None:
        try:
            return self._info(self._client.get_model_version_by_alias(model, alias))
        except MlflowException as error:
            if getattr(error, "error_code", "") in (
                "RESOURCE_DOES_NOT_EXIST",
                "INVALID_PARAMETER_VALUE",
            ):
                return None
            raise

    async def champion(self, model: str) -> VersionInfo | None:
        """The version holding the champion alias, or None before the first promotion."""
        return await _call(self._by_alias, model, CHAMPION)

    def _judge(self, model: str, version: str, policy: GatePolicy) -> GateReport:
        from fraud_training.gate import validate_version  # the training stack, only when gating

        return validate_version(self._client, model, int(version), policy)

    async def judge(self, model: str, version: str, policy: GatePolicy) -> GateReport:
        """Run the validation gate on ``version`` (re-scored with the champion on one hold-out)."""
        return await _call(self._judge, model, version, policy, timeout=GATE_TIMEOUT_SECONDS)

    def _record_gate(self, model: str, version: str, passed: bool, message: str) -> None:
        self._client.set_model_version_tag(model, version, TAG_GATE_MESSAGE, message[:4000])
        if not passed:
            self._client.set_registered_model_alias(model, CHALLENGER, version)
        self._client.set_model_version_tag(
            model, version, TAG_GATE, "passed" if passed else "failed"
        )

    async def record_gate(self, model: str, version: str, passed: bool, message: str) -> None:
        """Write the gate's decision on the version (the decision tag last: it marks 'done').

        A version that failed keeps the challenger alias, so a person can find and inspect it.
        """
        await _call(self._record_gate, model, version, passed, message)

    async def promote(self, model: str, version: str) -> None:
        """Make ``version`` the champion (the alias moves; the old version stays registered)."""
        await _call(self._client.set_registered_model_alias, model, CHAMPION, version)
