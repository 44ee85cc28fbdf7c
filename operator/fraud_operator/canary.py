"""A new champion on KServe serves a share of traffic beside the old one first, then takes all of
it or is rolled back (pure).

KServe 0.16 splits traffic between revisions only in its Serverless (Knative) mode; in the
``Standard`` mode the operator asks for, it ignores ``canaryTrafficPercent``. So the operator does
the split itself: the old champion's predictor (*stable*) and a second InferenceService pinned to
the new champion (*canary*) run side by side behind the operator's own Service, which sends each
connection to one ready pod of either. The share is therefore set by replica counts, and the
status reports the share the ready pods give, not the one asked for.

The canary is judged on what its pods measure themselves (``fraudops_http_*`` on ``/metrics``):
its 5xx rate and p99 latency on the scoring routes against the stable pods' over the same time
(the stable counters minus a baseline taken when the canary became ready, kept in
``status.canary`` so a restarted operator judges the same window).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

REQUESTS = "fraudops_http_requests"
DURATION = "fraudops_http_request_duration_seconds"
#: The quantile compared between revisions.
QUANTILE = 0.99

SOAKING, PROMOTE, ROLL_BACK = "Soaking", "Promote", "RollBack"


@dataclass(frozen=True)
class Policy:
    """``serving.canaryTrafficPercent`` and ``serving.canary``, as the judge needs them (their
    defaults are the CRD's, filled in by :func:`fraud_operator.crd.with_defaults`)."""

    percent: int
    soak_seconds: int
    min_requests: int
    max_error_rate_increase: float
    max_latency_increase_seconds: float
    progress_deadline_seconds: int


def policy(serving: Mapping[str, Any]) -> Policy | None:
    """The canary policy of a (defaulted) serving spec; None when no canary is asked for."""
    percent = serving.get("canaryTrafficPercent")
    if percent is None or serving.get("runtime") != "kserve":
        return None
    canary = serving.get("canary") or {}
    return Policy(
        percent=int(percent),
        soak_seconds=int(canary["soakSeconds"]),
        min_requests=int(canary["minRequests"]),
        max_error_rate_increase=float(canary["maxErrorRateIncrease"]),
        max_latency_increase_seconds=float(canary["maxLatencyIncreaseSeconds"]),
        progress_deadline_seconds=int(canary["progressDeadlineSeconds"]),
    )


def _scoring(route: str) -> bool:
    """Routes that score transactions (``/predict``, ``/predict/batch``, V2 ``infer``): the ones
    a revision is judged on, not probes or metrics scrapes."""
    return route.startswith("/predict") or route.endswith("/infer")


@dataclass(frozen=True)
class RequestStats:
    """Scoring requests a set of pods answered: how many, how many with a 5xx, and the
    cumulative latency histogram (finite bucket bounds; the last bucket holds ``requests``)."""

    requests: float = 0.0
    errors: float = 0.0
    bounds: tuple[float, ...] = ()
    cumulative: tuple[float, ...] = ()

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def quantile(self, q: float = QUANTILE) -> float | None:
        """The ``q`` quantile as Prometheus's ``histogram_quantile`` estimates it (linear within
        the bucket); the largest finite bound when it falls beyond; None without requests."""
        if not self.requests:
            return None
        rank = q * self.requests
        lower, below = 0.0, 0.0
        for bound, count in zip(self.bounds, self.cumulative, strict=True):
            if count >= rank:
                inside = count - below
                return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
            lower, below = bound, count
        return lower

    def __add__(self, other: RequestStats) -> RequestStats:
        """Two sets of pods together. Pods of different images may bucket latency differently;
        their histograms cannot be summed, so the one that answered more stands for both."""
        if not self.bounds:
            return other
        if not other.bounds:
            return self
        if self.bounds != other.bounds:
            return self if self.requests >= other.requests else other
        return RequestStats(
            self.requests + other.requests,
            self.errors + other.errors,
            self.bounds,
            tuple(a + b for a, b in zip(self.cumulative, other.cumulative, strict=True)),
        )

    def since(self, baseline: RequestStats) -> RequestStats:
        """What was answered after ``baseline`` was taken. Counters that went down (a pod
        restarted, a pod went away) make the baseline meaningless: then everything counts."""
        if (
            baseline.bounds != self.bounds
            or baseline.requests > self.requests
            or baseline.errors > self.errors
            or any(b > c for b, c in zip(baseline.cumulative, self.cumulative, strict=True))
        ):
            return self
        return RequestStats(
            self.requests - baseline.requests,
            self.errors - baseline.errors,
            self.bounds,
            tuple(c - b for c, b in zip(self.cumulative, baseline.cumulative, strict=True)),
        )

    def to_status(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "bucketBounds": list(self.bounds),
            "bucketCounts": list(self.cumulative),
        }

    @classmethod
    def from_status(cls, saved: Mapping[str, Any] | None) -> RequestStats:
        saved = saved or {}
        return cls(
            float(saved.get("requests", 0.0)),
            float(saved.get("errors", 0.0)),
            tuple(float(b) for b in saved.get("bucketBounds", ())),
            tuple(float(c) for c in saved.get("bucketCounts", ())),
        )


def parse_stats(exposition: str) -> RequestStats:
    """The scoring requests of one pod's ``/metrics`` text."""
    requests = errors = 0.0
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if not _scoring(sample.labels.get("route", "")):
                continue
            if family.name == REQUESTS and sample.name == f"{REQUESTS}_total":
                requests += sample.value
                if sample.labels.get("status", "").startswith("5"):
                    errors += sample.value
            elif family.name == DURATION and sample.name == f"{DURATION}_bucket":
                bound = float(sample.labels["le"])
                if math.isfinite(bound):
                    buckets[bound] = buckets.get(bound, 0.0) + sample.value
    bounds = tuple(sorted(buckets))
    return RequestStats(requests, errors, bounds, tuple(buckets[b] for b in bounds))


def total(stats: Iterable[RequestStats]) -> RequestStats:
    """The stats of several pods together."""
    summed = RequestStats()
    for one in stats:
        summed = summed + one
    return summed


def replicas(
    percent: int, min_replicas: int, max_replicas: int, stable_ready: int
) -> tuple[int, int]:
    """(stable pods at least, canary pods) for a share of ``percent`` by replica counts.

    One canary pod needs ``(100 - percent) / percent`` stable pods beside it; the stable side
    is raised to that within ``maxReplicas`` (never below what already serves), and the canary
    grows with the stable side when the autoscaler has scaled it out.
    """
    stable = min(
        max_replicas, max(min_replicas, math.ceil((100 - percent) / percent), stable_ready)
    )
    canary = min(max_replicas, max(1, round(stable * percent / (100 - percent))))
    return stable, canary


def share(canary_pods: int, stable_pods: int) -> int:
    """The percentage of connections the canary's ready pods receive."""
    serving = canary_pods + stable_pods
    return round(100 * canary_pods / serving) if serving else 0


@dataclass(frozen=True)
class Judgement:
    """What to do with the canary now, and why, in one sentence."""

    action: str  # SOAKING, PROMOTE or ROLL_BACK
    message: str


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def judge(
    rules: Policy, canary: RequestStats, stable: RequestStats, soaked_seconds: float
) -> Judgement:
    """Roll back as soon as the canary's 5xx rate or p99 exceeds the stable revision's by more
    than the margins (once it has answered ``minRequests``); promote once it has also soaked
    for ``soakSeconds``; else keep soaking.

    Latency is compared only when the stable side answered ``minRequests`` too: a p99 of a
    handful of requests says nothing.
    """
    measured = (
        f"5xx {canary.error_rate:.2%} vs {stable.error_rate:.2%}, "
        f"p99 {_ms(canary.quantile())} vs {_ms(stable.quantile())}"
    )
    if canary.requests < rules.min_requests:
        return Judgement(
            SOAKING,
            f"{canary.requests:.0f}/{rules.min_requests} requests answered by the canary "
            f"(serving.canary.minRequests) after {soaked_seconds:.0f} s",
        )
    if canary.error_rate - stable.error_rate > rules.max_error_rate_increase:
        return Judgement(
            ROLL_BACK,
            f"5xx rate {canary.error_rate:.2%} against {stable.error_rate:.2%} on the stable "
            f"revision exceeds serving.canary.maxErrorRateIncrease "
            f"{rules.max_error_rate_increase:.2%}",
        )
    canary_p99, stable_p99 = canary.quantile(), stable.quantile()
    if (
        stable.requests >= rules.min_requests
        and canary_p99 is not None
        and stable_p99 is not None
        and canary_p99 - stable_p99 > rules.max_latency_increase_seconds
    ):
        return Judgement(
            ROLL_BACK,
            f"p99 {_ms(canary_p99)} against {_ms(stable_p99)} on the stable revision exceeds "
            f"it by more than serving.canary.maxLatencyIncreaseSeconds "
            f"{rules.max_latency_increase_seconds:g} s",
        )
    if soaked_seconds >= rules.soak_seconds:
        return Judgement(PROMOTE, f"healthy for {soaked_seconds:.0f} s ({measured})")
    return Judgement(
        SOAKING, f"healthy for {soaked_seconds:.0f}/{rules.soak_seconds} s ({measured})"
    )
