"""Panel queries as Prometheus receives them from Grafana, and their legends filled in."""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Grafana's variables and macros, replaced by what they mean with every option selected.
GRAFANA_SUBSTITUTIONS = {"$namespace": ".*", "$job": ".*", "$__rate_interval": "1m"}


def as_promql(expr: str) -> str:
    """``expr`` with the dashboard variables and Grafana macros substituted; an unknown one is
    an error rather than a query that silently matches nothing."""
    for variable, value in GRAFANA_SUBSTITUTIONS.items():
        expr = expr.replace(variable, value)
    leftover = re.search(r"\$\w+", expr)
    if leftover is not None:
        raise ValueError(f"unknown Grafana variable {leftover.group()} in {expr}")
    return expr


def legend(template: str, labels: Mapping[str, str]) -> str:
    """A series' legend, Grafana-style: ``{{label}}`` replaced by the label's value."""
    if template in ("", "__auto"):
        return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__")
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)
