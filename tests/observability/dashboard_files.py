"""The committed dashboards as the chart ships them: their JSON and their panels."""

from __future__ import annotations

import json
from typing import Any

from fraudops_dashboards import OUTPUT_DIR


def committed_dashboards() -> dict[str, dict[str, Any]]:
    """Every committed dashboard's JSON, by uid."""
    found = [json.loads(path.read_text()) for path in sorted(OUTPUT_DIR.glob("*.json"))]
    return {dashboard["uid"]: dashboard for dashboard in found}


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """The dashboard's panels, rows left out."""
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def all_panels() -> list[tuple[str, dict[str, Any]]]:
    """(dashboard uid, panel) of every panel of every committed dashboard."""
    return [
        (uid, panel) for uid, board in committed_dashboards().items() for panel in panels(board)
    ]
