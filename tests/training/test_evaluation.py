"""Cost-optimal thresholds, the decline threshold and the hold-out metrics, on hand-made scores.

The example: six transactions, two frauds (100 and 30), a review fee of 5.

==========  =====  ======  =============================================
threshold   flags  frauds  cost = 5 x false alarms + missed fraud amounts
==========  =====  ======  =============================================
none        0      0       130 (approve everything)
0.9         1      1        30
0.8         2      1        35
0.7         3      2         5   <- cheapest
0.6         4      2        10
==========  =====  ======  =============================================
"""

from __future__ import annotations

import numpy as np
import pytest
from fraud_training.bundle import Thresholds
from fraud_training.evaluation import (
    CostModel,
    card_precision_at_k,
    choose_thresholds,
    cost_optimal_threshold,
    evaluate,
    precision_threshold,
    recall_at_precision,
)

SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.2, 0.1])
LABELS = np.array([1, 0, 1, 0, 0, 0])
AMOUNTS = np.array([100.0, 50.0, 30.0, 10.0, 10.0, 10.0])


def test_review_threshold_minimises_expected_cost() -> None:
    choice = cost_optimal_threshold(LABELS, SCORES, AMOUNTS, CostModel(review_fee=5.0))
    assert choice.threshold == 0.7
    assert choice.expected_cost == 5.0
    assert choice.baseline_cost == 130.0
    assert choice.cost_saved == 125.0


def test_a_higher_review_fee_moves_the_threshold_up() -> None:
    choice = cost_optimal_threshold(LABELS, SCORES, AMOUNTS, CostModel(review_fee=40.0))
    assert choice.threshold == 0.9  # reviewing 0.8 to catch 30 more would cost 40
    assert choice.expected_cost == 30.0


def test_when_nothing_is_worth_reviewing_the_threshold_flags_nothing() -> None:
    scores = np.array([0.9, 0.1])
    choice = cost_optimal_threshold(
        np.array([0, 1]), scores, np.array([10.0, 10.0]), CostModel(review_fee=1_000.0)
    )
    assert choice.threshold > scores.max()
    assert choice.expected_cost == choice.baseline_cost == 10.0


def test_tied_scores_are_flagged_together() -> None:
    choice = cost_optimal_threshold(
        np.array([1, 0, 0]), np.array([0.5, 0.5, 0.1]), np.array([100.0, 1.0, 1.0]), CostModel()
    )
    assert choice.threshold == 0.5
    assert choice.expected_cost == 5.0  # the tied legit transaction is reviewed too


def test_equal_costs_prefer_the_higher_threshold() -> None:
    # Flagging the legit 0.4 as well costs 0 extra with a zero fee: keep the stricter cut-off.
    choice = cost_optimal_threshold(
        np.array([1, 0]), np.array([0.8, 0.4]), np.array([10.0, 10.0]), CostModel(review_fee=0.0)
    )
    assert choice.threshold == 0.8


def test_fixed_cost_per_missed_fraud_ignores_the_amount() -> None:
    model = CostModel(review_fee=5.0, missed_fraud=50.0)
    assert model.missed_cost(AMOUNTS).tolist() == [50.0] * 6
    assert cost_optimal_threshold(LABELS, SCORES, AMOUNTS, model).baseline_cost == 100.0


@pytest.mark.parametrize(
    ("review_fee", "missed_fraud"), [(-1.0, "amount"), (float("nan"), "amount"), (5.0, "value")]
)
def test_cost_model_rejects_nonsense(review_fee: float, missed_fraud: str) -> None:
    with pytest.raises(ValueError, match=r"review_fee|missed_fraud"):
        CostModel(review_fee=review_fee, missed_fraud=missed_fraud)


def test_decline_threshold_is_the_lowest_score_reaching_the_precision() -> None:
    # Precision when flagging from 0.9: 1.0; from 0.8: 0.5; from 0.7: 0.67; from 0.6: 0.5.
    assert precision_threshold(LABELS, SCORES, precision=0.9) == 0.9
    assert precision_threshold(LABELS, SCORES, precision=0.6) == 0.7
    assert precision_threshold(LABELS, SCORES, precision=0.6, floor=0.75) == 0.9


def test_no_decline_threshold_when_the_precision_is_never_reached() -> None:
    assert precision_threshold(np.array([0, 1]), np.array([0.9, 0.1]), precision=0.9) is None


def test_recall_at_precision_is_the_best_recall_keeping_that_precision() -> None:
    assert recall_at_precision(LABELS, SCORES, precision=0.9) == 0.5
    assert recall_at_precision(LABELS, SCORES, precision=0.6) == 1.0
    assert recall_at_precision(np.array([0, 1]), np.array([0.9, 0.1]), precision=0.9) == 0.0


def test_evaluate_reports_the_confusion_at_the_review_threshold() -> None:
    result = evaluate(LABELS, SCORES, AMOUNTS, CostModel(review_fee=5.0), decline_precision=0.9)
    assert (result.thresholds.review, result.thresholds.decline) == (0.7, 0.9)
    metrics = result.metrics
    assert (metrics["tp"], metrics["fp"], metrics["fn"], metrics["tn"]) == (2, 1, 0, 3)
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == 1.0
    assert metrics["f1"] == pytest.approx(0.8)
    assert metrics["cost_saved"] == 125.0
    assert metrics["cost_saved_fraction"] == pytest.approx(125 / 130)
    assert metrics["recall_at_precision_90"] == 0.5


def test_evaluate_ranking_metrics_of_a_perfect_ranking() -> None:
    labels = np.array([0, 0, 1, 1])
    metrics = evaluate(labels, np.array([0.1, 0.2, 0.8, 0.9]), np.ones(4)).metrics
    assert metrics["roc_auc"] == 1.0
    assert metrics["pr_auc"] == 1.0


def test_decline_threshold_falls_back_to_one_when_precision_is_unreachable() -> None:
    labels = np.array([0, 1, 0, 1])
    result = evaluate(labels, np.array([0.9, 0.8, 0.7, 0.6]), np.full(4, 100.0))
    assert result.thresholds.decline == 1.0
    assert result.metrics["decline_precision_reached"] == 0.0


def test_thresholds_chosen_elsewhere_are_applied_not_re_chosen() -> None:
    chosen = Thresholds(review=0.85, decline=0.95)
    result = evaluate(LABELS, SCORES, AMOUNTS, CostModel(review_fee=5.0), thresholds=chosen)
    assert result.thresholds == chosen
    metrics = result.metrics
    assert (metrics["tp"], metrics["fp"], metrics["fn"], metrics["tn"]) == (1, 0, 1, 4)
    assert metrics["expected_cost"] == 30.0  # the 30 fraud is missed, no false alarm
    assert metrics["decline_precision_reached"] == 0.0  # nothing scores 0.95 or more


def test_choose_thresholds_is_the_cost_optimum_and_the_precision_floor() -> None:
    chosen = choose_thresholds(LABELS, SCORES, AMOUNTS, CostModel(review_fee=5.0), 0.9)
    assert chosen == Thresholds(review=0.7, decline=0.9)


def test_card_precision_at_k_takes_each_days_top_cards_and_averages_the_days() -> None:
    day = 86_400_000
    cards = np.array(["a", "a", "b", "c", "a", "b", "c"])
    timestamps = np.array([0, 10, 20, 30, day, day + 1, day + 2])
    labels = np.array([0, 1, 0, 0, 0, 0, 1])
    scores = np.array([0.9, 0.1, 0.8, 0.2, 0.9, 0.5, 0.1])
    # Day 0: top-2 cards a (0.9, compromised) and b (0.8, not) -> 1/2.
    # Day 1: top-2 cards a (0.9, not) and b (0.5, not) -> 0.
    assert card_precision_at_k(cards, timestamps, labels, scores, k=2) == pytest.approx(0.25)
    # k above the number of cards: every card of the day counts, divided by that number.
    assert card_precision_at_k(cards, timestamps, labels, scores, k=10) == pytest.approx(1 / 3)
