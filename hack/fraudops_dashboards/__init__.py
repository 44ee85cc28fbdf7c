"""FraudOps Grafana dashboards as code (grafana-foundation-sdk), rendered to the chart's JSON.

``PYTHONPATH=hack python -m fraudops_dashboards`` writes charts/fraudops/files/dashboards/*.json;
a test fails when the committed files differ from :func:`render`.
"""

from __future__ import annotations

import json
from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from fraudops_dashboards import model, platform, serving
from fraudops_dashboards.panels import DashboardSpec, build_dashboard

REPO = Path(__file__).resolve().parents[2]
#: Where the chart reads them from (Helm's .Files sees only the chart's own folder).
OUTPUT_DIR = REPO / "charts" / "fraudops" / "files" / "dashboards"
DASHBOARDS: tuple[DashboardSpec, ...] = (serving.DASHBOARD, model.DASHBOARD, platform.DASHBOARD)


def render(spec: DashboardSpec) -> str:
    """The dashboard's JSON as committed: sorted keys, two-space indent, final newline."""
    built = build_dashboard(spec).build()
    return json.dumps(built, cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered_files() -> dict[Path, str]:
    """Every dashboard's file path and content."""
    return {OUTPUT_DIR / f"{spec.uid}.json": render(spec) for spec in DASHBOARDS}
