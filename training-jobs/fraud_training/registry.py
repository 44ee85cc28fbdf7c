"""The MLflow model registry as FraudOps uses it: versions, aliases and bundle downloads.

Promotion uses aliases (``champion`` serves traffic, ``challenger`` is the version under
evaluation), never MLflow's deprecated stages: an alias points at exactly one version, moves
atomically and is what serving resolves (``models:/fraud-detector@champion``).
"""

from __future__ import annotations

import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import mlflow
from mlflow.entities.model_registry import ModelVersion, RegisteredModel
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from fraud_training import version_tags
from fraud_training.bundle_layout import MODEL_URI_FORMS, bundle_folder, local_model_folder
from fraud_training.choices import ALIASES, CHALLENGER, CHAMPION, KEY_METRICS
from fraud_training.errors import RegistryError
from fraud_training.tracking_target import tracking_target

if TYPE_CHECKING:
    from fraud_training.bundle import ModelBundle

#: What a model folder is read into: the pickled bundle, or serving's payload.
Model = TypeVar("Model")

NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"


@dataclass(frozen=True)
class VersionSummary:
    """One registered version as ``fraudctl models list`` shows it."""

    version: int
    aliases: tuple[str, ...]
    run_id: str
    status: str
    created_ms: int
    algorithm: str
    gate: str
    metrics: dict[str, float] = field(default_factory=dict)
    #: "<who>: <why>" of the last promotion to champion, empty if never promoted.
    promoted: str = ""


def registered_versions(client: MlflowClient, name: str) -> list[ModelVersion]:
    """Every version of ``name``, newest first; a model that is not registered is an error."""
    _registered_model(client, name)
    versions = client.search_model_versions(f"name = '{_quoted(name)}'")
    return sorted(versions, key=lambda v: int(v.version), reverse=True)


def list_versions(client: MlflowClient, name: str) -> list[VersionSummary]:
    """Versions of ``name`` with their aliases, training metrics and gate result, newest first."""
    aliases: dict[str, list[str]] = {}
    for alias, version in _registered_model(client, name).aliases.items():
        aliases.setdefault(str(version), []).append(alias)
    summaries = []
    for version in registered_versions(client, name):
        run = client.get_run(version.run_id) if version.run_id else None
        metrics = run.data.metrics if run else {}
        summaries.append(
            VersionSummary(
                version=int(version.version),
                aliases=tuple(sorted(aliases.get(str(version.version), []))),
                run_id=version.run_id or "",
                status=version.status,
                created_ms=int(version.creation_timestamp or 0),
                algorithm=run.data.tags.get("algorithm", "?") if run else "?",
                gate=version.tags.get(version_tags.GATE, "not run"),
                metrics={k: metrics[k] for k in KEY_METRICS if k in metrics},
                promoted=_promotion(version.tags),
            )
        )
    return summaries


def _promotion(tags: dict[str, str]) -> str:
    """Who promoted a version and why, as one short phrase."""
    by = tags.get(version_tags.PROMOTED_BY)
    if not by:
        return ""
    reason = tags.get(version_tags.PROMOTED_REASON, "")
    return f"{by}: {reason}" if reason else by


def alias_version(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    """The version ``alias`` points at, or None when no version carries it."""
    if alias not in _registered_model(client, name).aliases:
        return None
    return client.get_model_version_by_alias(name, alias)


def model_version(client: MlflowClient, name: str, version: int) -> ModelVersion:
    """Version ``version`` of ``name``, or an error saying which versions exist."""
    try:
        return client.get_model_version(name, str(version))
    except MlflowException as error:
        if error.error_code != NOT_FOUND:
            raise _unreachable(client, error) from None
        existing = [v.version for v in registered_versions(client, name)]
        raise RegistryError(
            f"version: model {name!r} has no version {version} "
            f"(versions: {', '.join(map(str, existing)) or 'none'})"
        ) from None


def promote(
    client: MlflowClient,
    name: str,
    version: int,
    alias: str = CHAMPION,
    by: str = version_tags.FRAUDCTL,
    reason: str = version_tags.REASON_MANUAL,
) -> int | None:
    """Point ``alias`` at ``version`` and return the version it pointed at before, if any.

    A new champion is tagged with who promoted it and why (``fraudctl models list`` shows it; the
    operator respects a champion it did not choose instead of reverting it). A version promoted to
    champion stops being the challenger: one version is never both.
    """
    if alias not in ALIASES:
        raise RegistryError(f"alias: {alias!r} is not one of {', '.join(ALIASES)}")
    model_version(client, name, version)
    previous = alias_version(client, name, alias)
    if alias == CHAMPION:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for key, value in (
            (version_tags.PROMOTED_BY, by),
            (version_tags.PROMOTED_REASON, reason[:500]),
            (version_tags.PROMOTED_AT, stamp),
        ):
            client.set_model_version_tag(name, str(version), key, value)
    client.set_registered_model_alias(name, alias, str(version))
    if alias == CHAMPION:
        challenger = alias_version(client, name, CHALLENGER)
        if challenger is not None and int(challenger.version) == version:
            client.delete_registered_model_alias(name, CHALLENGER)
    return int(previous.version) if previous is not None else None


@dataclass(frozen=True)
class LoadedModel(Generic[Model]):
    """A bundle and where it came from (name/version/alias are None when the URI has none)."""

    bundle: Model
    name: str | None
    version: int | None
    alias: str | None
    run_id: str | None
    source_uri: str


@dataclass(frozen=True)
class _Resolved:
    download_uri: str | None
    name: str | None = None
    version: int | None = None
    alias: str | None = None
    run_id: str | None = None


def download_bundle(model_uri: str, tracking_uri: str | None = None) -> LoadedModel:
    """Load the :class:`ModelBundle` a model URI points at, with its registry coordinates.

    Accepted forms:

    * ``models:/<name>@<alias>``: the version the alias points at *now*; the alias is resolved to
      a version first and that version is downloaded, so a promotion racing with the download
      cannot mix two versions.
    * ``models:/<name>/<version>``
    * ``runs:/<run_id>/<artifact path>`` (the model of a run, usually ``runs:/<id>/model``)
    * a local folder: an MLflow model folder (the bundle is its ``bundle`` artifact) or a
      bundle folder itself (``bundle.pkl`` + ``metadata.json``).

    ``tracking_uri`` defaults to ``MLFLOW_TRACKING_URI``, then the local store. Unknown models,
    versions, aliases or runs raise :class:`RegistryError` naming what is missing.
    """
    return download_model(model_uri, tracking_uri, _bundle_in)


def download_model(
    model_uri: str, tracking_uri: str | None, read: Callable[[Path], Model]
) -> LoadedModel[Model]:
    """:func:`download_bundle` with the reader of the downloaded bundle folder given: the
    scoring service reads the serving payload instead of unpickling the estimator."""
    local = local_model_folder(model_uri)
    if local is not None:
        source = str(Path(model_uri).resolve())
        return LoadedModel(read(local), None, None, None, None, source)
    target = tracking_target(tracking_uri)
    resolved = _resolve(target.client(), model_uri)
    with tempfile.TemporaryDirectory(prefix="fraudops-model-") as scratch:
        try:
            folder = mlflow.artifacts.download_artifacts(
                artifact_uri=resolved.download_uri,
                dst_path=scratch,
                tracking_uri=target.tracking_uri,
                registry_uri=target.tracking_uri,
            )
        except MlflowException as error:
            raise RegistryError(
                f"model_uri: cannot download {model_uri!r}: {error.message}"
            ) from None
        bundle = read(bundle_folder(Path(folder)))
    return LoadedModel(
        bundle=bundle,
        name=resolved.name,
        version=resolved.version,
        alias=resolved.alias,
        run_id=resolved.run_id,
        source_uri=str(resolved.download_uri),
    )


def _resolve(client: MlflowClient, model_uri: str) -> _Resolved:
    """Pin a URI to a concrete version or run before anything is downloaded."""
    parsed = urllib.parse.urlparse(model_uri)
    path = parsed.netloc + parsed.path
    if parsed.scheme == "runs":
        run_id, _, artifact_path = path.strip("/").partition("/")
        if not run_id or not artifact_path:
            raise RegistryError(f"model_uri: {model_uri!r} names no artifact; use runs:/<id>/model")
        return _Resolved(
            download_uri=_run_model_location(client, run_id, artifact_path), run_id=run_id
        )
    if parsed.scheme != "models":
        raise RegistryError(f"model_uri: unsupported {model_uri!r}; use {MODEL_URI_FORMS}")
    reference = path.strip("/")
    if "@" in reference:
        name, alias = reference.split("@", 1)
        version = alias_version(client, name, alias)
        if version is None:
            raise RegistryError(f"model_uri: model {name!r} has no version with alias {alias!r}")
    else:
        name, _, number = reference.rpartition("/")
        if not name or not number.isdigit():
            raise RegistryError(
                f"model_uri: {model_uri!r} names no version; use models:/<name>/<version> "
                "or models:/<name>@<alias>"
            )
        alias = None
        version = model_version(client, name, int(number))
    # The version's own storage location, not a models:/ URI: MLflow resolves models:/ URIs
    # through the process-wide registry URI, which may not be the one this client talks to.
    return _Resolved(
        download_uri=client.get_model_version_download_uri(name, version.version),
        name=name,
        version=int(version.version),
        alias=alias,
        run_id=version.run_id,
    )


def _run_model_location(client: MlflowClient, run_id: str, artifact_path: str) -> str:
    """Where ``runs:/<run_id>/<artifact_path>`` is stored.

    MLflow 3 keeps a model logged in a run outside the run's artifacts, as a logged model named
    after the path; older runs keep it among the run's own artifacts.
    """
    try:
        run = client.get_run(run_id)
    except MlflowException as error:
        if error.error_code != NOT_FOUND:
            raise _unreachable(client, error) from None
        raise RegistryError(f"model_uri: no run {run_id!r} in {client.tracking_uri}") from None
    name, _, inside = artifact_path.partition("/")
    for output in run.outputs.model_outputs if run.outputs else []:
        model = client.get_logged_model(output.model_id)
        if model.name == name:
            return f"{model.artifact_location}/{inside}".rstrip("/")
    return f"{run.info.artifact_uri}/{artifact_path}"


def _bundle_in(folder: Path) -> ModelBundle:
    """The pickled bundle in a bundle folder (needs the training stack to unpickle)."""
    from fraud_training.bundle import ModelBundle

    return ModelBundle.load(folder)


def _registered_model(client: MlflowClient, name: str) -> RegisteredModel:
    try:
        return client.get_registered_model(name)
    except MlflowException as error:
        if error.error_code != NOT_FOUND:
            raise _unreachable(client, error) from None
        raise RegistryError(
            f"model_name: no registered model {name!r} at {client.tracking_uri}; "
            "train one with `fraudctl train`"
        ) from None


def _unreachable(client: MlflowClient, error: MlflowException) -> RegistryError:
    """Anything but "not found" is a problem with the registry itself, not with the request."""
    return RegistryError(
        f"tracking_uri: the registry at {client.tracking_uri} failed: {error.message}"
    )


def _quoted(name: str) -> str:
    """A model name safe inside a single-quoted MLflow filter string."""
    return name.replace("'", "\\'")
