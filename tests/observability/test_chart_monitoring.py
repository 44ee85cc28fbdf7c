"""The chart ships the rules file and the dashboards: as a PrometheusRule where the Prometheus
Operator's API exists, as a mountable ConfigMap otherwise, and as sidecar-labelled ConfigMaps."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml
from dashboard_files import committed_dashboards
from devcluster import K8S_VERSION
from devcluster.binaries import binary
from promtool import REPO, RULES_FILE, promtool

CHART = REPO / "charts" / "fraudops"
PROMETHEUS_RULE_API = "monitoring.coreos.com/v1/PrometheusRule"


def template(*options: str) -> list[dict[str, Any]]:
    """The objects of ``helm template`` (no cluster needed) with ``options``."""
    result = subprocess.run(
        [
            str(binary("helm")),
            "template",
            "fraudops",
            str(CHART),
            "--namespace",
            "fraudops-system",
            "--kube-version",
            K8S_VERSION,
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def named(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """The objects of ``kind``, by name."""
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def test_without_the_operator_api_the_rules_file_ships_as_a_configmap() -> None:
    objects = template()

    configmap = named(objects, "ConfigMap")["fraudops-prometheus-rules"]
    assert configmap["data"]["fraudops-rules.yaml"] == RULES_FILE.read_text().rstrip("\n")
    assert named(objects, "PrometheusRule") == {}


def test_with_the_operator_api_the_rules_ship_as_a_prometheus_rule() -> None:
    objects = template(
        "--api-versions", PROMETHEUS_RULE_API, "--set", "monitoring.rules.labels.release=kps"
    )

    rule = named(objects, "PrometheusRule")["fraudops-rules"]
    assert rule["spec"] == yaml.safe_load(RULES_FILE.read_text())
    assert rule["metadata"]["labels"]["release"] == "kps"
    assert "fraudops-prometheus-rules" not in named(objects, "ConfigMap")


def test_the_rendered_prometheus_rule_passes_promtool(tmp_path: Path) -> None:
    (rule,) = named(template("--api-versions", PROMETHEUS_RULE_API), "PrometheusRule").values()
    rendered = tmp_path / "rendered-rules.yaml"
    rendered.write_text(yaml.safe_dump(rule["spec"]))

    result = promtool("check", "rules", str(rendered))

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_dashboard_ships_as_a_configmap_grafanas_sidecar_finds() -> None:
    configmaps = [
        configmap
        for configmap in named(template(), "ConfigMap").values()
        if configmap["metadata"]["labels"].get("grafana_dashboard") == "1"
    ]

    shipped = {
        dashboard["uid"]: dashboard
        for configmap in configmaps
        for dashboard in map(json.loads, configmap["data"].values())
    }
    assert shipped == committed_dashboards()


def test_monitoring_objects_can_be_switched_off() -> None:
    objects = template(
        "--api-versions",
        PROMETHEUS_RULE_API,
        "--set",
        "monitoring.rules.enabled=false",
        "--set",
        "monitoring.dashboards.enabled=false",
    )

    monitoring = {
        name
        for name, obj in named(objects, "ConfigMap").items()
        if obj["metadata"]["labels"].get("app.kubernetes.io/component") == "monitoring"
    }
    assert named(objects, "PrometheusRule") == {}
    assert monitoring == set()  # the supporting services' own ConfigMaps remain
