"""Debian's promtool, run by the observability tests, and the files they check with it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
RULES_FILE = REPO / "charts" / "fraudops" / "files" / "prometheus" / "fraudops-rules.yaml"
RULES_TESTS = Path(__file__).with_name("rules-tests.yaml")


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool (from `make system-deps`); its output is returned, not checked."""
    binary = shutil.which("promtool")
    assert binary, "promtool not found: run `make system-deps` (apt-get install prometheus)"
    return subprocess.run(
        [binary, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def rule_groups() -> list[dict[str, Any]]:
    """The groups of the rules file."""
    return yaml.safe_load(RULES_FILE.read_text())["groups"]


def alerting_rules() -> list[dict[str, Any]]:
    """Every alerting rule of the rules file."""
    return [rule for group in rule_groups() for rule in group["rules"] if "alert" in rule]


def recording_rules() -> list[dict[str, Any]]:
    """Every recording rule of the rules file."""
    return [rule for group in rule_groups() for rule in group["rules"] if "record" in rule]


def check_expressions(
    expressions: dict[str, str], folder: Path
) -> subprocess.CompletedProcess[str]:
    """``promtool check rules`` of ``expressions`` written as recording rules named by their keys
    (promtool parses each one and names the rule of any that does not parse)."""
    rules = [{"record": name, "expr": expr} for name, expr in expressions.items()]
    path = folder / "expressions.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "expressions", "rules": rules}]}))
    return promtool("check", "rules", str(path))
