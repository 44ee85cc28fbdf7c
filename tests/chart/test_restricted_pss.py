"""The checker the chart's pod tests rely on refuses what restricted admission refuses."""

from __future__ import annotations

import copy

from restricted_pss import violations

COMPLIANT = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "app",
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    ],
    "volumes": [{"name": "tmp", "emptyDir": {}}],
}


def test_a_compliant_spec_has_no_violations() -> None:
    assert violations(COMPLIANT) == []


def test_a_hostpath_volume_is_a_violation() -> None:
    spec = copy.deepcopy(COMPLIANT)
    spec["volumes"].append({"name": "root", "hostPath": {"path": "/"}})

    assert violations(spec) == ["volume root is ['hostPath']"]


def test_a_container_without_dropped_capabilities_is_a_violation() -> None:
    spec = copy.deepcopy(COMPLIANT)
    spec["containers"][0]["securityContext"]["capabilities"] = {}

    assert violations(spec) == ["app: capabilities do not drop ALL"]


def test_missing_run_as_non_root_and_seccomp_are_violations() -> None:
    spec = copy.deepcopy(COMPLIANT)
    spec["securityContext"] = {}

    assert violations(spec) == ["app: runAsNonRoot is not true", "app: seccompProfile is None"]
