"""The dashboards: committed JSON is the generator's output, and every panel passes the lint."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from dashboard_files import all_panels, committed_dashboards
from fraudops_dashboards import DASHBOARDS, OUTPUT_DIR, rendered_files
from fraudops_dashboards.promql import as_promql
from promtool import check_expressions, recording_rules

PANELS = all_panels()
PANEL_IDS = [f"{uid}/{panel['title']}" for uid, panel in PANELS]
#: A recorded series' name: level:metric:operation.
RECORDED = re.compile(r"\b\w+:fraudops_\w+:\w+\b")


def test_committed_dashboards_are_the_generators_output() -> None:
    stale = [
        path.name
        for path, text in rendered_files().items()
        if not path.exists() or path.read_text() != text
    ]

    assert stale == [], "run `PYTHONPATH=hack python -m fraudops_dashboards` and commit"


def test_no_dashboard_is_committed_that_the_generator_does_not_make() -> None:
    assert sorted(path.name for path in OUTPUT_DIR.glob("*.json")) == sorted(
        f"{spec.uid}.json" for spec in DASHBOARDS
    )


@pytest.mark.parametrize(("uid", "panel"), PANELS, ids=PANEL_IDS)
def test_every_panel_reads_the_chosen_prometheus(uid: str, panel: dict[str, Any]) -> None:
    sources = [panel["datasource"], *(target["datasource"] for target in panel["targets"])]

    assert sources == [{"type": "prometheus", "uid": "${datasource}"}] * len(sources)


@pytest.mark.parametrize(("uid", "panel"), PANELS, ids=PANEL_IDS)
def test_every_panel_has_a_title_a_description_and_queries(uid: str, panel: dict[str, Any]) -> None:
    assert panel["title"].strip()
    assert panel["description"].strip()
    assert panel["targets"]
    assert all(target["expr"].strip() for target in panel["targets"])


@pytest.mark.parametrize("uid", sorted(committed_dashboards()))
def test_panel_ids_and_query_ids_are_unique(uid: str) -> None:
    board = committed_dashboards()[uid]
    ids = [panel["id"] for panel in board["panels"]]
    ref_ids = [[t["refId"] for t in panel.get("targets", [])] for panel in board["panels"]]

    assert len(ids) == len(set(ids))
    assert all(len(refs) == len(set(refs)) for refs in ref_ids)


def test_every_panel_query_parses_with_promtool(tmp_path: Path) -> None:
    expressions = {
        f"panel_{index}_{target['refId']}": as_promql(target["expr"])
        for index, (_, panel) in enumerate(PANELS)
        for target in panel["targets"]
    }

    result = check_expressions(expressions, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_recorded_series_a_panel_reads_is_recorded_by_the_rules() -> None:
    recorded = {rule["record"] for rule in recording_rules()}
    used = {
        name
        for _, panel in PANELS
        for target in panel["targets"]
        for name in RECORDED.findall(target["expr"])
    }

    assert used
    assert used - recorded == set()
