"""The validation gate, as the operator applies it: the training package's gate, one definition.

:func:`fraud_training.gate.validate_version` re-scores the candidate from the registry on the
hold-out logged with its run, and the current champion on the same rows; here the FraudModel's
``spec.validation`` becomes its policy and its report becomes one sentence for a condition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fraud_training.gate import GatePolicy, GateReport


def policy(validation: Mapping[str, Any]) -> GatePolicy:
    """``spec.validation`` (defaults filled by the API server) as the gate's policy."""
    from fraud_training.gate import GatePolicy  # the training stack, only when gating

    defaults = GatePolicy()
    return GatePolicy(
        min_roc_auc=float(validation.get("minRocAuc", defaults.min_roc_auc)),
        min_pr_auc=float(validation.get("minPrAuc", defaults.min_pr_auc)),
        max_regression=float(validation.get("maxRegression", defaults.max_regression)),
    )


FIELD_OF_CHECK = {
    "min_roc_auc": "validation.minRocAuc",
    "min_pr_auc": "validation.minPrAuc",
    "no_regression_vs_champion": "validation.maxRegression",
}


def summary(report: GateReport) -> str:
    """The failed checks, each naming the spec field it failed; or all checks when it passed."""
    failed = [c for c in report.checks if not c.passed]
    if not failed:
        return "; ".join(c.message for c in report.checks)
    return "; ".join(
        f"{c.message} ({FIELD_OF_CHECK[c.name]})" if c.name in FIELD_OF_CHECK else c.message
        for c in failed
    )
