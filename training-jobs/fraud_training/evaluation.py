"""Hold-out metrics, the business cost model and the choice of decision thresholds.

Ranking metrics (ROC-AUC, PR-AUC, card precision@k per day) say how well a model orders
transactions; a bank needs a cut-off. The review threshold is the score that minimises the
expected cost on the validation rows (never the test rows the metrics are reported on) under
a :class:`CostModel` (a missed fraud costs its amount, a false alarm a review fee), so it moves
with the fees a bank actually pays instead of an arbitrary 0.5. The decline threshold is stricter:
the lowest score at which alerts are right at least ``decline_precision`` of the time.

Every candidate threshold is scored at once from sorted scores and cumulative sums, so the search
is exact (every distinct score is a candidate) and costs one sort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from fraud_training.bundle import Thresholds
from fraud_training.choices import (
    DEFAULT_CARD_PRECISION_K,
    DEFAULT_DECLINE_PRECISION,
    DEFAULT_REVIEW_FEE,
)


@dataclass(frozen=True)
class CostModel:
    """What each mistake costs.

    ``missed_fraud`` is ``"amount"`` (a missed fraud costs the transaction's amount, the usual
    chargeback) or a fixed cost per missed fraud. A false alarm costs ``review_fee`` (an analyst's
    time and a customer's patience). A caught fraud costs nothing.
    """

    review_fee: float = DEFAULT_REVIEW_FEE
    missed_fraud: str | float = "amount"

    def __post_init__(self) -> None:
        if not np.isfinite(self.review_fee) or self.review_fee < 0:
            raise ValueError(f"review_fee must be a finite number >= 0, got {self.review_fee}")
        if isinstance(self.missed_fraud, str) and self.missed_fraud != "amount":
            raise ValueError(
                f"missed_fraud must be 'amount' or a number, got {self.missed_fraud!r}"
            )

    def missed_cost(self, amounts: np.ndarray) -> np.ndarray:
        """The cost of letting each transaction through if it is a fraud."""
        amounts = np.asarray(amounts, dtype=np.float64)
        if self.missed_fraud == "amount":
            return amounts
        return np.full(amounts.shape, float(self.missed_fraud))


@dataclass(frozen=True)
class OperatingPoints:
    """Every distinct score as a threshold, with what flagging at or above it yields.

    Index 0 is the "flag nothing" point (approve everything); the thresholds then decrease.
    """

    thresholds: np.ndarray
    flagged: np.ndarray
    true_positives: np.ndarray
    false_positives: np.ndarray
    caught_cost: np.ndarray

    @property
    def precision(self) -> np.ndarray:
        """Share of flagged transactions that are frauds (1.0 where nothing is flagged)."""
        return np.divide(
            self.true_positives,
            self.flagged,
            out=np.ones_like(self.true_positives),
            where=self.flagged > 0,
        )

    def recall(self, frauds: int) -> np.ndarray:
        """Share of all frauds that are flagged."""
        return self.true_positives / max(frauds, 1)


def operating_points(
    labels: np.ndarray, scores: np.ndarray, missed_costs: np.ndarray
) -> OperatingPoints:
    """Cumulative counts at every distinct score, highest first, after a "flag nothing" point."""
    labels = np.asarray(labels, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    true_positives = np.cumsum(labels[order])
    caught_cost = np.cumsum(labels[order] * np.asarray(missed_costs, dtype=np.float64)[order])
    # The last row of each run of equal scores: a threshold flags all of a tie or none of it.
    group_end = np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])
    flagged = (group_end + 1).astype(np.float64)
    top = float(sorted_scores[0]) if len(sorted_scores) else 1.0
    return OperatingPoints(
        thresholds=np.r_[min(np.nextafter(top, np.inf), 1.0), sorted_scores[group_end]],
        flagged=np.r_[0.0, flagged],
        true_positives=np.r_[0.0, true_positives[group_end]],
        false_positives=np.r_[0.0, flagged - true_positives[group_end]],
        caught_cost=np.r_[0.0, caught_cost[group_end]],
    )


@dataclass(frozen=True)
class ThresholdChoice:
    """The cost-optimal review threshold and what it costs compared with approving everything."""

    threshold: float
    expected_cost: float
    baseline_cost: float

    @property
    def cost_saved(self) -> float:
        """Money saved against approving every transaction."""
        return self.baseline_cost - self.expected_cost


def cost_optimal_threshold(
    labels: np.ndarray, scores: np.ndarray, amounts: np.ndarray, cost_model: CostModel
) -> ThresholdChoice:
    """The threshold with the lowest expected cost; among equal costs, the highest threshold."""
    points = operating_points(labels, scores, cost_model.missed_cost(amounts))
    baseline = float(points.caught_cost[-1]) if len(points.caught_cost) else 0.0
    costs = cost_model.review_fee * points.false_positives + (baseline - points.caught_cost)
    best = int(np.argmin(costs))
    return ThresholdChoice(
        threshold=float(points.thresholds[best]),
        expected_cost=float(costs[best]),
        baseline_cost=baseline,
    )


def precision_threshold(
    labels: np.ndarray, scores: np.ndarray, precision: float, floor: float = 0.0
) -> float | None:
    """The lowest threshold >= ``floor`` whose alerts reach ``precision``; None if none does."""
    points = operating_points(labels, scores, np.zeros(len(labels)))
    eligible = (points.precision >= precision) & (points.flagged > 0)
    eligible &= points.thresholds >= floor
    if not eligible.any():
        return None
    return float(points.thresholds[eligible].min())


def recall_at_precision(labels: np.ndarray, scores: np.ndarray, precision: float) -> float:
    """The highest recall any threshold reaches while its alerts keep at least ``precision``."""
    points = operating_points(labels, scores, np.zeros(len(labels)))
    eligible = (points.precision >= precision) & (points.flagged > 0)
    if not eligible.any():
        return 0.0
    return float(points.recall(int(np.sum(labels)))[eligible].max())


def cost_at_threshold(
    labels: np.ndarray,
    scores: np.ndarray,
    amounts: np.ndarray,
    cost_model: CostModel,
    threshold: float,
) -> ThresholdChoice:
    """The expected cost of flagging at or above ``threshold`` (chosen elsewhere) on these rows."""
    labels = np.asarray(labels).astype(bool)
    flagged = np.asarray(scores, dtype=np.float64) >= threshold
    missed = cost_model.missed_cost(amounts)
    baseline = float(missed[labels].sum())
    cost = cost_model.review_fee * float(np.sum(flagged & ~labels)) + float(
        missed[labels & ~flagged].sum()
    )
    return ThresholdChoice(threshold=threshold, expected_cost=cost, baseline_cost=baseline)


def choose_thresholds(
    labels: np.ndarray,
    scores: np.ndarray,
    amounts: np.ndarray,
    cost_model: CostModel | None = None,
    decline_precision: float = DEFAULT_DECLINE_PRECISION,
) -> Thresholds:
    """The cost-optimal review threshold and the decline threshold, chosen on these rows.

    Training calls it on the validation rows, never on the test rows the metrics are measured
    on. When no threshold reaches ``decline_precision``, the decline threshold is 1.0 (nothing
    is declined automatically).
    """
    cost_model = cost_model or CostModel()
    labels = np.asarray(labels).astype(np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    review = cost_optimal_threshold(labels, scores, amounts, cost_model).threshold
    decline = precision_threshold(labels, scores, decline_precision, floor=review)
    return Thresholds(review=review, decline=1.0 if decline is None else decline)


def card_precision_at_k(
    cards: np.ndarray,
    timestamps_ms: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray,
    k: int = DEFAULT_CARD_PRECISION_K,
) -> float:
    """Card precision@k per day, averaged over the days: what a team of analysts checking ``k``
    cards a day would find.

    Each day, a card's score is its highest score that day and it counts as compromised if any
    of its transactions that day is a fraud; of the ``k`` highest-scored cards (fewer on a day
    with fewer cards, then divided by that number), the share that are compromised.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    frame = pd.DataFrame(
        {
            "day": np.asarray(timestamps_ms, dtype=np.int64) // 86_400_000,
            "card": np.asarray(cards),
            "label": np.asarray(labels, dtype=np.int64),
            "score": np.asarray(scores, dtype=np.float64),
        }
    )
    if frame.empty:
        return 0.0
    per_card = frame.groupby(["day", "card"], sort=False).agg(
        score=("score", "max"), label=("label", "max")
    )
    per_card = per_card.sort_values("score", ascending=False, kind="stable")
    top = per_card.groupby(level="day", sort=False).head(k)
    return float(top.groupby(level="day")["label"].mean().mean())


@dataclass(frozen=True)
class Evaluation:
    """The thresholds applied and every metric measured on the evaluated rows."""

    thresholds: Thresholds
    metrics: dict[str, float]


def evaluate(
    labels: np.ndarray,
    scores: np.ndarray,
    amounts: np.ndarray,
    cost_model: CostModel | None = None,
    decline_precision: float = DEFAULT_DECLINE_PRECISION,
    thresholds: Thresholds | None = None,
) -> Evaluation:
    """Measure the model on these rows at ``thresholds``.

    Training passes thresholds chosen on the validation rows (:func:`choose_thresholds`), so
    the test metrics are honest; without them they are chosen on these same rows (out-of-fold
    scores of K-fold, where every row is out-of-sample). ``decline_precision_reached`` says
    whether the decline threshold reaches ``decline_precision`` on *these* rows.
    """
    cost_model = cost_model or CostModel()
    labels = np.asarray(labels).astype(np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    if thresholds is None:
        thresholds = choose_thresholds(labels, scores, amounts, cost_model, decline_precision)
    choice = cost_at_threshold(labels, scores, amounts, cost_model, thresholds.review)
    declined = scores >= thresholds.decline
    decline_reached = bool(declined.any()) and float(np.mean(labels[declined])) >= (
        decline_precision
    )
    flagged = scores >= thresholds.review
    tp = int(np.sum(flagged & (labels == 1)))
    fp = int(np.sum(flagged & (labels == 0)))
    fn = int(np.sum(~flagged & (labels == 1)))
    tn = int(np.sum(~flagged & (labels == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    metrics = {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "pr_auc": float(average_precision_score(labels, scores)),
        f"recall_at_precision_{round(decline_precision * 100)}": recall_at_precision(
            labels, scores, decline_precision
        ),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": float(tp),
        "fp": float(fp),
        "fn": float(fn),
        "tn": float(tn),
        "threshold_review": thresholds.review,
        "threshold_decline": thresholds.decline,
        "decline_precision_reached": float(decline_reached),
        "expected_cost": choice.expected_cost,
        "baseline_cost": choice.baseline_cost,
        "cost_saved": choice.cost_saved,
        "cost_saved_fraction": (
            choice.cost_saved / choice.baseline_cost if choice.baseline_cost else 0.0
        ),
        "test_rows": float(len(labels)),
        "test_frauds": float(np.sum(labels)),
    }
    return Evaluation(thresholds=thresholds, metrics=metrics)
