"""Panels of the FraudOps dashboards, described once as data and built with grafana-foundation-sdk.

A :class:`PanelSpec` holds what a reader and the tests need (title, description, PromQL, unit,
the metric it waits for, if any); :func:`build_panel` turns it into the SDK's panel builder. The
tests evaluate the same queries against a real Prometheus, so what is drawn is what is proven.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import heatmap, prometheus, stat, table, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dashboard_models
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

#: Every panel reads the Prometheus chosen in the dashboard's ``datasource`` variable.
DATASOURCE = dashboard_models.DataSourceRef(type_val="prometheus", uid="${datasource}")
#: The label filter of every query: the namespace and scoring service picked at the top.
SCOPE = 'namespace=~"$namespace", job=~"$job"'
#: The filter of the operator's per-FraudModel series (its scrape's ``namespace`` is its own).
FM_SCOPE = 'fraudmodel_namespace=~"$namespace"'
#: Routes that score transactions (route templates, as the service labels them).
SCORING_ROUTES = "/predict(/batch)?|/v2/models/.+/infer"

Kind = Literal["timeseries", "stat", "heatmap", "table"]


@dataclass(frozen=True)
class Query:
    """One PromQL expression of a panel and the legend of its series."""

    expr: str
    legend: str = ""
    instant: bool = False


@dataclass(frozen=True)
class PanelSpec:
    """A panel as the dashboards and their tests see it.

    ``awaits`` names the metric the panel is empty without, for panels whose data comes from an
    event or a component not running yet; every other panel must show data in the live test.
    """

    title: str
    description: str
    queries: tuple[Query, ...]
    kind: Kind = "timeseries"
    unit: str = "short"
    width: int = 12
    height: int = 8
    stacked: bool = False
    awaits: str | None = None
    max_value: float | None = None


def _target(query: Query, ref_id: str, heatmap_format: bool) -> prometheus.Dataquery:
    target = (
        prometheus.Dataquery()
        .expr(query.expr)
        .legend_format(query.legend or "__auto")
        .ref_id(ref_id)
        .datasource(DATASOURCE)
    )
    if heatmap_format:
        target = target.format(PromQueryFormat.HEATMAP)
    return target.instant() if query.instant else target.range()


def _description(spec: PanelSpec) -> str:
    if spec.awaits is None:
        return spec.description
    return f"{spec.description} Empty until `{spec.awaits}` is scraped."


def build_panel(spec: PanelSpec) -> dashboard_builders.Panel:
    """The SDK builder of ``spec``'s panel (queries, unit, size, datasource)."""
    builder: timeseries.Panel | stat.Panel | heatmap.Panel | table.Panel
    if spec.kind == "timeseries":
        builder = (
            timeseries.Panel()
            .fill_opacity(10)
            .show_points(common.VisibilityMode.NEVER)
            .legend(
                common_builders.VizLegendOptions()
                .show_legend(True)
                .display_mode(common.LegendDisplayMode.LIST)
                .placement(common.LegendPlacement.BOTTOM)
            )
            .tooltip(
                common_builders.VizTooltipOptions()
                .mode(common.TooltipDisplayMode.MULTI)
                .sort(common.SortOrder.DESCENDING)
            )
        )
        if spec.stacked:
            builder = builder.stacking(
                common_builders.StackingConfig().mode(common.StackingMode.NORMAL)
            ).fill_opacity(60)
    elif spec.kind == "stat":
        builder = stat.Panel().graph_mode(common.BigValueGraphMode.AREA)
    elif spec.kind == "heatmap":
        builder = heatmap.Panel().calculate(False)
    else:
        builder = table.Panel().show_header(True)
    builder = (
        builder.title(spec.title)
        .description(_description(spec))
        .datasource(DATASOURCE)
        .unit(spec.unit)
        .span(spec.width)
        .height(spec.height)
    )
    if spec.max_value is not None:
        builder = builder.max(spec.max_value)
    for index, query in enumerate(spec.queries):
        builder = builder.with_target(_target(query, chr(ord("A") + index), spec.kind == "heatmap"))
    return builder


@dataclass(frozen=True)
class DashboardSpec:
    """A dashboard: its uid (also its file name), title, and rows of panels."""

    uid: str
    title: str
    description: str
    rows: tuple[tuple[str, tuple[PanelSpec, ...]], ...]

    def panels(self) -> list[PanelSpec]:
        """Every panel, row after row."""
        return [panel for _, panels in self.rows for panel in panels]


def _variable(name: str, label: str, query: str) -> dashboard_builders.QueryVariable:
    return (
        dashboard_builders.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(dashboard_models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard_models.VariableSort.ALPHABETICAL_ASC)
        .include_all(True)
        .all_value(".*")
        .multi(True)
    )


def build_dashboard(spec: DashboardSpec) -> dashboard_builders.Dashboard:
    """The SDK builder of the whole dashboard: variables, rows, panels."""
    builder = (
        dashboard_builders.Dashboard(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags(["fraudops"])
        .editable()
        .timezone("browser")
        .time("now-1h", "now")
        .refresh("30s")
        .tooltip(dashboard_models.DashboardCursorSync.CROSSHAIR)
        .with_variable(
            dashboard_builders.DatasourceVariable("datasource")
            .label("Prometheus")
            .type("prometheus")
        )
        .with_variable(
            _variable("namespace", "Namespace", "label_values(fraudops_model_info, namespace)")
        )
        .with_variable(
            _variable(
                "job",
                "Scoring service",
                'label_values(fraudops_model_info{namespace=~"$namespace"}, job)',
            )
        )
    )
    panel_id = 0
    for title, panels in spec.rows:
        panel_id += 1
        builder = builder.with_row(dashboard_builders.Row(title).id(panel_id))
        for panel in panels:
            panel_id += 1
            builder = builder.with_panel(build_panel(panel).id(panel_id))
    return builder
