"""Live performance of the served model, from delayed labels joined to the audit trail.

Measured at the decisions that were actually served (the thresholds of the version that scored
each row), on the rows that have a confirmed outcome. A row is *flagged* when it was not
approved (reviewed or declined): precision is the share of labelled flagged rows that were
fraud, recall the share of labelled frauds that were flagged. Labels are not a random sample
(chargebacks surface missed frauds, reviews surface flagged ones), so these numbers describe
the labelled population; they are comparable from window to window and between versions, which
is what the monitor uses them for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from fraud_training.bundle import DECISIONS
from fraud_training.evaluation import CostModel

APPROVE = DECISIONS[0]
DECLINE = DECISIONS[-1]
HOUR_S = 3600.0


@dataclass(frozen=True)
class LivePerformance:
    """What the labelled rows of a window say about the model (``None``: cannot be told)."""

    labelled_rows: int
    frauds: int
    flagged: int
    precision: float | None
    recall: float | None
    decline_precision: float | None
    pr_auc: float | None
    cost: float | None
    label_lag_p50_hours: float | None
    label_lag_p90_hours: float | None

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-able fields."""
        return asdict(self)


def live_performance(frame: pd.DataFrame, cost_model: CostModel | None = None) -> LivePerformance:
    """Precision, recall, cost, PR-AUC and label lag of the labelled rows of ``frame``.

    ``frame`` has the audit-window columns ``label`` (1, 0 or NaN), ``decision``,
    ``fraud_probability``, ``transaction_amount`` and ``label_lag_s``. The cost is what the
    served decisions cost on the labelled rows: the missed-fraud cost of each approved fraud
    (its amount by default; rows without an amount, V2 requests, count nothing) plus the
    review fee of each flagged legitimate transaction.
    """
    cost_model = cost_model or CostModel()
    labelled = frame[frame["label"].notna()]
    labels = labelled["label"].to_numpy(np.float64) == 1.0
    decisions = labelled["decision"].to_numpy(dtype=object)
    flagged = decisions != APPROVE
    declined = decisions == DECLINE
    frauds = int(labels.sum())
    true_positives = int((labels & flagged).sum())
    amounts = labelled["transaction_amount"].to_numpy(np.float64)
    missed = np.nan_to_num(cost_model.missed_cost(amounts[labels & ~flagged]), nan=0.0)
    cost = float(missed.sum() + cost_model.review_fee * (flagged & ~labels).sum())
    lags = labelled["label_lag_s"].to_numpy(np.float64)
    lags = lags[np.isfinite(lags)]
    both_classes = 0 < frauds < labels.size
    return LivePerformance(
        labelled_rows=int(labels.size),
        frauds=frauds,
        flagged=int(flagged.sum()),
        precision=_ratio(true_positives, int(flagged.sum())),
        recall=_ratio(true_positives, frauds),
        decline_precision=_ratio(int((labels & declined).sum()), int(declined.sum())),
        pr_auc=(
            float(average_precision_score(labels, labelled["fraud_probability"]))
            if both_classes
            else None
        ),
        cost=cost if labels.size else None,
        label_lag_p50_hours=float(np.percentile(lags, 50) / HOUR_S) if lags.size else None,
        label_lag_p90_hours=float(np.percentile(lags, 90) / HOUR_S) if lags.size else None,
    )


def live_performance_by_version(
    frame: pd.DataFrame, cost_model: CostModel | None = None
) -> dict[str, LivePerformance]:
    """:func:`live_performance` of each served model version (``name/version``) in ``frame``."""
    keys = frame["model_name"].astype(str) + "/" + frame["model_version"].astype(str)
    return {
        str(key): live_performance(group, cost_model)
        for key, group in frame.groupby(keys, sort=True)
    }


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None
