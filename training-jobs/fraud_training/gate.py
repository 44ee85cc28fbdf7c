"""The validation gate: may a registered version become the champion?

The gate re-scores the version from the registry (the artifact serving would load, not the
in-memory model of the training process) on the hold-out logged with its run, and checks:

* the probabilities are finite and within [0, 1];
* ROC-AUC and PR-AUC reach their minimums;
* it is not worse than the current champion by more than ``max_regression`` PR-AUC, with the
  champion re-scored on the *same* hold-out, since metrics logged on different hold-outs are not
  comparable. Without a champion there is nothing to regress from, and the check says so.
  (With ``--split kfold`` the hold-out is every row, scored out-of-fold; a champion trained on
  the same rows has seen them, which favours the champion: the gate then errs towards keeping
  it.)

Every check reports what it observed and what it required, so a failed gate explains itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mlflow.tracking import MlflowClient
from sklearn.metrics import average_precision_score, roc_auc_score

from fraud_training import version_tags
from fraud_training.choices import (
    CHAMPION,
    DEFAULT_MAX_REGRESSION,
    DEFAULT_MIN_PR_AUC,
    DEFAULT_MIN_ROC_AUC,
)
from fraud_training.holdout import HoldOut
from fraud_training.registry import alias_version, download_bundle, model_version
from fraud_training.tracking import load_run_holdout


@dataclass(frozen=True)
class GatePolicy:
    """The thresholds a version must meet."""

    min_roc_auc: float = DEFAULT_MIN_ROC_AUC
    min_pr_auc: float = DEFAULT_MIN_PR_AUC
    max_regression: float = DEFAULT_MAX_REGRESSION


@dataclass(frozen=True)
class GateCheck:
    """One check: what it looked at, what it needed and whether that was met."""

    name: str
    passed: bool
    observed: float | None
    required: str
    message: str


@dataclass(frozen=True)
class GateReport:
    """All checks of one version; it passes only if every check does."""

    model_name: str
    version: int
    checks: tuple[GateCheck, ...]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def validate_version(
    client: MlflowClient, name: str, version: int, policy: GatePolicy | None = None
) -> GateReport:
    """Run every check on version ``version`` of ``name``."""
    policy = policy or GatePolicy()
    candidate = model_version(client, name, version)
    bundle = download_bundle(f"models:/{name}/{version}", tracking_uri=client.tracking_uri).bundle
    holdout = load_run_holdout(client, candidate.run_id)
    features = holdout.features_for(bundle.feature_names)
    if features is None:
        missing = GateCheck(
            "holdout_features",
            False,
            None,
            "the run's hold-out has the model's features",
            f"the hold-out logged with run {candidate.run_id} lacks features of this model",
        )
        return GateReport(name, version, (missing,))
    scores = bundle.predict_proba(features)
    checks = [probability_check(scores)]
    checks += metric_checks(holdout.labels, scores, policy)
    checks.append(champion_check(client, name, version, holdout, scores, policy))
    return GateReport(name, version, tuple(checks))


def probability_check(scores: np.ndarray) -> GateCheck:
    """Every hold-out score is a finite probability."""
    valid = np.isfinite(scores) & (scores >= 0.0) & (scores <= 1.0)
    bad = int(np.sum(~valid))
    return GateCheck(
        name="probabilities_valid",
        passed=bad == 0,
        observed=float(bad),
        required="0 scores outside [0, 1] or not finite",
        message=(
            f"all {len(scores)} hold-out scores are finite and in [0, 1]"
            if bad == 0
            else f"{bad} of {len(scores)} hold-out scores are NaN, infinite or outside [0, 1]"
        ),
    )


def metric_checks(labels: np.ndarray, scores: np.ndarray, policy: GatePolicy) -> list[GateCheck]:
    """ROC-AUC and PR-AUC on the hold-out against their minimums."""
    checks = []
    for name, metric, minimum in (
        ("min_roc_auc", roc_auc_score, policy.min_roc_auc),
        ("min_pr_auc", average_precision_score, policy.min_pr_auc),
    ):
        label = name.removeprefix("min_").replace("_", "-").upper()
        if not np.all(np.isfinite(scores)):
            checks.append(
                GateCheck(name, False, None, f">= {minimum}", f"{label}: scores are not finite")
            )
            continue
        value = float(metric(labels, scores))
        checks.append(
            GateCheck(
                name=name,
                passed=value >= minimum,
                observed=value,
                required=f">= {minimum}",
                message=f"{label} {value:.4f} {'>=' if value >= minimum else '<'} {minimum}",
            )
        )
    return checks


def champion_check(
    client: MlflowClient,
    name: str,
    version: int,
    holdout: HoldOut,
    scores: np.ndarray,
    policy: GatePolicy,
) -> GateCheck:
    """The candidate's PR-AUC minus the champion's, both scored on the candidate's hold-out."""
    required = f">= -{policy.max_regression} PR-AUC vs champion"
    champion = alias_version(client, name, CHAMPION)
    if champion is None:
        return GateCheck(
            "no_regression_vs_champion", True, None, required, "no champion yet: nothing to beat"
        )
    if int(champion.version) == version:
        return GateCheck(
            "no_regression_vs_champion",
            True,
            0.0,
            required,
            f"version {version} is the champion itself",
        )
    champion_bundle = download_bundle(
        f"models:/{name}/{champion.version}", tracking_uri=client.tracking_uri
    ).bundle
    champion_features = holdout.features_for(champion_bundle.feature_names)
    if champion_features is None:
        return GateCheck(
            "no_regression_vs_champion",
            False,
            None,
            required,
            f"champion v{champion.version} uses feature set {champion_bundle.feature_set!r}, "
            "which this hold-out lacks: the two cannot be compared on the same rows "
            "(compare them yourself, then `fraudctl promote`)",
        )
    if not np.all(np.isfinite(scores)):
        return GateCheck(
            "no_regression_vs_champion", False, None, required, "candidate scores are not finite"
        )
    candidate_pr = float(average_precision_score(holdout.labels, scores))
    champion_scores = champion_bundle.predict_proba(champion_features)
    champion_pr = float(average_precision_score(holdout.labels, champion_scores))
    delta = candidate_pr - champion_pr
    passed = delta >= -policy.max_regression
    return GateCheck(
        name="no_regression_vs_champion",
        passed=passed,
        observed=delta,
        required=required,
        message=(
            f"PR-AUC {candidate_pr:.4f} vs champion v{champion.version} {champion_pr:.4f} "
            f"on the same hold-out ({delta:+.4f}; allowed regression {policy.max_regression})"
        ),
    )


#: The FraudModel field (and the ``fraudctl validate`` option) that sets each check's threshold.
FIELD_OF_CHECK = {
    "min_roc_auc": "validation.minRocAuc / --min-roc-auc",
    "min_pr_auc": "validation.minPrAuc / --min-pr-auc",
    "no_regression_vs_champion": "validation.maxRegression / --max-regression",
}
#: Tag values are capped by MLflow; a message is one sentence, so this never truncates in practice.
MAX_MESSAGE = 4000


def undecidable(name: str, version: int, reason: str) -> GateReport:
    """A failed report for a version the gate can never judge (no hold-out, no such version).

    Recorded like any other failure, so the operator shows the reason instead of retrying a gate
    that cannot succeed.
    """
    check = GateCheck("gate_could_decide", False, None, "a version the gate can score", reason)
    return GateReport(name, version, (check,))


def summary(report: GateReport) -> str:
    """The failed checks, each naming the field that sets its threshold; all checks if it passed."""
    failed = [c for c in report.checks if not c.passed]
    if not failed:
        return "; ".join(c.message for c in report.checks)
    return "; ".join(
        f"{c.message} ({FIELD_OF_CHECK[c.name]})" if c.name in FIELD_OF_CHECK else c.message
        for c in failed
    )


def record_gate_result(client: MlflowClient, report: GateReport) -> None:
    """Write the decision on the version: its message first, the ``gate`` tag last.

    The one record of a decision, used by the gate Job and ``fraudctl validate`` alike. The
    ``gate`` tag marks the decision complete (the operator acts on it), so it is written after the
    message it summarises; writing both again is harmless, which makes a retried Job idempotent.
    """
    version = str(report.version)
    client.set_model_version_tag(
        report.model_name, version, version_tags.GATE_MESSAGE, summary(report)[:MAX_MESSAGE]
    )
    client.set_model_version_tag(
        report.model_name,
        version,
        version_tags.GATE,
        version_tags.GATE_PASSED if report.passed else version_tags.GATE_FAILED,
    )
