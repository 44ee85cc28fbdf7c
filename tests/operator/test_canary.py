"""The canary's arithmetic and its judge (pure): what pods measured, the replica split, and when
a canary is promoted, kept soaking or rolled back."""

from __future__ import annotations

import pytest
from fraud_operator.canary import (
    PROMOTE,
    ROLL_BACK,
    SOAKING,
    Policy,
    RequestStats,
    judge,
    parse_stats,
    policy,
    replicas,
    share,
    total,
)
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

RULES = Policy(
    percent=20,
    soak_seconds=60,
    min_requests=100,
    max_error_rate_increase=0.01,
    max_latency_increase_seconds=0.1,
    progress_deadline_seconds=600,
)
BOUNDS = (0.01, 0.05, 0.1, 0.5)


def stats(requests: int, errors: int = 0, under: tuple[float, ...] | None = None) -> RequestStats:
    """``requests`` answered, all within the first bucket unless ``under`` says otherwise."""
    return RequestStats(requests, errors, BOUNDS, under or (requests,) * len(BOUNDS))


def exposition(answers: list[tuple[str, int, float]]) -> str:
    """What a serving pod's /metrics says after answering (route, status, seconds) requests."""
    registry = CollectorRegistry()
    requests = Counter(
        "fraudops_http_requests", "", ["route", "method", "status"], registry=registry
    )
    duration = Histogram(
        "fraudops_http_request_duration_seconds",
        "",
        ["route", "method"],
        buckets=BOUNDS,
        registry=registry,
    )
    for route, status, seconds in answers:
        requests.labels(route, "POST", str(status)).inc()
        duration.labels(route, "POST").observe(seconds)
    return generate_latest(registry).decode()


def test_a_pods_metrics_count_its_scoring_requests_and_their_5xx() -> None:
    text = exposition(
        [("/predict", 200, 0.004), ("/predict", 503, 0.2), ("/v2/models/{name}/infer", 200, 0.03)]
    )

    found = parse_stats(text)

    assert (found.requests, found.errors) == (3, 1)
    assert found.bounds == BOUNDS
    assert found.cumulative == (1, 2, 2, 3)


def test_probes_and_scrapes_are_not_scoring_requests() -> None:
    text = exposition([("/readyz", 503, 0.001), ("/metrics", 200, 0.001), ("/predict", 200, 0.001)])

    assert parse_stats(text).requests == 1


def test_p99_is_interpolated_within_its_bucket_as_histogram_quantile_does() -> None:
    answered = stats(100, under=(50, 100, 100, 100))

    assert answered.quantile(0.99) == pytest.approx(0.01 + 0.04 * (49 / 50))


def test_p99_beyond_the_last_bucket_is_the_largest_bound() -> None:
    assert stats(10, under=(0, 0, 0, 0)).quantile() == 0.5


def test_counters_since_a_baseline_are_the_difference() -> None:
    later = stats(300, 3)

    assert later.since(stats(100, 1)) == stats(200, 2)


def test_a_counter_that_went_down_makes_the_baseline_void() -> None:
    restarted = stats(50)

    assert restarted.since(stats(100)) == restarted


def test_stats_survive_the_status_round_trip() -> None:
    answered = stats(120, 4, (60, 100, 110, 118))

    assert RequestStats.from_status(answered.to_status()) == answered


def test_pods_add_up() -> None:
    assert total([stats(10, 1), stats(30, 2)]) == stats(40, 3)


def test_pods_bucketing_latency_differently_are_not_summed() -> None:
    other = RequestStats(5, 0, (0.1, 1.0), (5, 5))

    assert total([stats(30), other]) == stats(30)


@pytest.mark.parametrize(
    ("percent", "bounds", "stable_ready", "expected"),
    [
        (50, (1, 4), 1, (1, 1)),
        (20, (1, 4), 1, (4, 1)),
        (10, (1, 3), 1, (3, 1)),
        (25, (1, 10), 6, (6, 2)),
        (75, (1, 2), 1, (1, 2)),
    ],
)
def test_the_split_is_made_of_replica_counts_within_max_replicas(
    percent: int, bounds: tuple[int, int], stable_ready: int, expected: tuple[int, int]
) -> None:
    assert replicas(percent, *bounds, stable_ready) == expected


def test_the_share_reached_is_the_canarys_part_of_the_ready_pods() -> None:
    assert (share(1, 3), share(1, 1), share(0, 0)) == (25, 50, 0)


def test_a_canary_with_too_few_requests_keeps_soaking_even_when_failing() -> None:
    verdict = judge(RULES, stats(99, 99), stats(1000), soaked_seconds=600)

    assert verdict.action == SOAKING
    assert "minRequests" in verdict.message


def test_a_canary_with_more_5xx_than_the_margin_is_rolled_back() -> None:
    verdict = judge(RULES, stats(200, 5), stats(1000, 5), soaked_seconds=5)

    assert verdict.action == ROLL_BACK
    assert "maxErrorRateIncrease" in verdict.message


def test_a_canary_as_bad_as_the_stable_revision_is_not_rolled_back() -> None:
    assert judge(RULES, stats(200, 10), stats(1000, 50), soaked_seconds=5).action == SOAKING


def test_a_canary_slower_at_p99_than_the_margin_is_rolled_back() -> None:
    slow = stats(200, under=(0, 0, 0, 200))

    verdict = judge(RULES, slow, stats(1000), soaked_seconds=5)

    assert verdict.action == ROLL_BACK
    assert "maxLatencyIncreaseSeconds" in verdict.message


def test_latency_is_not_compared_while_the_stable_side_answered_too_few() -> None:
    slow = stats(200, under=(0, 0, 0, 200))

    assert judge(RULES, slow, stats(10), soaked_seconds=5).action == SOAKING


def test_a_healthy_canary_is_promoted_once_it_has_soaked() -> None:
    assert judge(RULES, stats(200), stats(1000), soaked_seconds=59).action == SOAKING
    assert judge(RULES, stats(200), stats(1000), soaked_seconds=60).action == PROMOTE


def test_there_is_no_canary_policy_without_a_percent() -> None:
    serving = {"runtime": "kserve", "canary": {}}

    assert policy(serving) is None
