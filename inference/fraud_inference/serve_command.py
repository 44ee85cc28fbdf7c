"""``fraudctl serve``: start the scoring service; options default from environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fraud_inference.settings import Settings, SettingsError


def serve(
    model_uri: Annotated[
        str | None,
        typer.Option(help="models:/<name>@<alias>, models:/<name>/<version>, runs:/… or a folder."),
    ] = None,
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI.")] = None,
    model_name: Annotated[str | None, typer.Option(help="Model name on the V2 protocol.")] = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (env HOST or POD_IP).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65_535, help="Port (env PORT).")] = None,
    redis_url: Annotated[
        str | None, typer.Option(help="Online feature state (env REDIS_URL).")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="postgresql:// URL of the audit trail (env DATABASE_URL).")
    ] = None,
    max_batch_rows: Annotated[int | None, typer.Option(min=1, help="Largest batch.")] = None,
    audit_spool_dir: Annotated[
        Path | None, typer.Option(help="Where audit rows wait while PostgreSQL is down.")
    ] = None,
    log_level: Annotated[str | None, typer.Option(help="critical|error|warning|info|debug")] = None,
) -> None:
    """Serve fraud scores over HTTP (REST and the KServe V2 protocol)."""
    from fraud_inference.server import run

    settings = Settings.from_env().with_overrides(
        model_uri=model_uri,
        tracking_uri=tracking_uri,
        model_name=model_name,
        host=host,
        port=port,
        redis_url=redis_url,
        database_url=database_url,
        max_batch_rows=max_batch_rows,
        audit_spool_dir=audit_spool_dir,
        log_level=log_level.lower() if log_level else None,
    )
    if settings.model_uri is None:
        raise SettingsError("model_uri: pass --model-uri or set MODEL_URI")
    run(settings)
