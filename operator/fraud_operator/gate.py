"""The validation gate as the operator applies it to a registered version's logged metrics.

The training Job logs, on the candidate's run, its hold-out metrics and the current champion's
metrics scored on the same hold-out; the gate compares them with the FraudModel's
``spec.validation`` and is decided once per version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fraud_operator.registry import VersionInfo


def judge(
    candidate: VersionInfo, champion: VersionInfo | None, policy: Mapping[str, Any]
) -> tuple[bool, str]:
    """(passed, a sentence per failed check or a summary when all pass)."""
    metrics = candidate.metrics
    roc, pr = metrics.get("roc_auc", float("nan")), metrics.get("pr_auc", float("nan"))
    min_roc, min_pr = policy.get("minRocAuc", 0.9), policy.get("minPrAuc", 0.5)
    max_regression = policy.get("maxRegression", 0.02)
    failures: list[str] = []
    if not roc >= min_roc:
        failures.append(f"ROC-AUC {roc:.4f} is below validation.minRocAuc {min_roc}")
    if not pr >= min_pr:
        failures.append(f"PR-AUC {pr:.4f} is below validation.minPrAuc {min_pr}")
    if metrics.get("probabilities_valid", 1.0) < 1.0:
        failures.append("the model produced probabilities outside [0, 1] or not finite")
    baseline = metrics.get("champion_pr_auc")
    if champion is not None and baseline is not None and pr < baseline - max_regression:
        failures.append(
            f"PR-AUC {pr:.4f} is worse than champion version {champion.version}'s {baseline:.4f} "
            f"on the same hold-out by more than validation.maxRegression {max_regression}"
        )
    if failures:
        return False, "; ".join(failures)
    return True, f"ROC-AUC {roc:.4f}, PR-AUC {pr:.4f} pass the gate"
