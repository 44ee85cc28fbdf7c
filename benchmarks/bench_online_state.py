"""Online feature state benchmark: update + read of one transaction against Redis on loopback.

Replays a generated stream one transaction per call through ``OnlineState.observe`` (the
customer's script, then one per entity, in one pipeline: what ``POST /predict`` of one row
does) against a throw-away redis-server, and prints p50/p99/max per call for the customer state
alone (the state before entity histories), with the default entities (merchant, card x
merchant, card), and with the label-aware risk features too (the history and the risk state's
commands of the default definition in one pipeline, as the scorer sends them; each fraud's label
is applied right after it is scored, untimed, so the fraud sets are not empty), side by side.
The goal of issue 10 is p99 under 1 ms. ``--one-merchant`` sends every transaction to one
merchant: the worst case for a state whose cost grew with the merchant's volume (entity windows
are bucketed, so it should not move). Not part of ``make test``::

    .venv/bin/python benchmarks/bench_online_state.py [--rows 20000] [--one-merchant]

Measured on 2 shared cores (load in the table title, from ``os.getloadavg``); before the bucketed
entity state (whole 30-day window read per call): p99 15.5 ms at load 6. With risk features, 20,000
rows, load about 1, run back to back: p50 2.17 / p99 2.66 ms with two pipelines (redis-py's, a
``SCRIPT EXISTS`` before each) and bucket arrays re-encoded per call; p50 1.02 / p99 1.32 ms with
one pipeline packed by hiredis, running window totals and the customer's running sums. Of those
1.02 ms about 0.49 ms are spent in Redis (the "in Redis" column) and the rest is the round trip
and the client. The same code on a later, faster host (2 cores, load 0.7-0.8, four runs back to
back): p50 0.46-0.49 / p99 0.81-0.88 ms with risk features (0.87 ms with every row at one
merchant), 200-226 µs in Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import numpy as np
import redis as sync_redis

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "hack")]

from fraud_inference.online_redis import OnlineRedis  # noqa: E402
from fraud_inference.online_risk import OnlineRisk, RiskObservation  # noqa: E402
from fraud_inference.online_state import Observation, OnlineState  # noqa: E402
from fraud_inference.schemas import Transaction  # noqa: E402
from fraud_inference.scoring import raw_fields, read_online_state  # noqa: E402
from fraud_training.features import ENTITY_HISTORIES  # noqa: E402
from fraud_training.generator import GeneratorConfig, generate_transactions  # noqa: E402
from fraud_training.risk_features import RiskFeatures  # noqa: E402
from fraud_training.schema import LABEL, TRANSACTION_FIELDS  # noqa: E402
from localservices.redis_server import started_redis  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

console = Console()


async def per_call_ms(url: str, observations: list[Observation], entities: tuple) -> np.ndarray:
    """Milliseconds of each single-row ``observe`` call, in stream order."""
    state = OnlineState(OnlineRedis(url, 2.0), 90, f"bench-{uuid.uuid4().hex[:8]}", entities)
    out = np.empty(len(observations))
    try:
        for i, row in enumerate(observations):
            started = time.perf_counter()
            if await state.observe([row]) is None:
                raise RuntimeError("Redis unavailable during the benchmark")
            out[i] = (time.perf_counter() - started) * 1000.0
    finally:
        await state.redis.close()
    return out


async def per_call_ms_with_risk(
    url: str, frame_labels: np.ndarray, observations: list[Observation], entities: tuple
) -> np.ndarray:
    """Milliseconds of each single-row history + risk read and update, as the scorer does it."""
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    redis = OnlineRedis(url, 2.0)
    state = OnlineState(redis, 90, namespace, entities)
    risk_state = OnlineRisk(redis, 90, namespace)
    risk = RiskFeatures.configured().fitted(frame_labels)
    rows = [
        RiskObservation(o.transaction_id, o.ts_ms, o.customer_id, (o.merchant_id,))
        for o in observations
    ]
    out = np.empty(len(observations))
    try:
        for i, row in enumerate(observations):
            started = time.perf_counter()
            history, counts = await read_online_state(
                state, [row], entities, risk_state, (risk, [rows[i]])
            )
            if history is None or counts is None:
                raise RuntimeError("Redis unavailable during the benchmark")
            out[i] = (time.perf_counter() - started) * 1000.0
            if frame_labels[i]:
                await risk_state.apply_label(risk, row.transaction_id)
    finally:
        await redis.close()
    return out


def with_server_time(url: str, rows: int, run: Coroutine[Any, Any, np.ndarray]) -> tuple:
    """The per-call milliseconds of ``run`` and the microseconds per row Redis spent executing
    commands meanwhile (``INFO commandstats``; the untimed labels of the risk run included): what
    is left of a call is the round trip and the client."""
    stats = sync_redis.Redis.from_url(url)
    stats.config_resetstat()
    ms = asyncio.run(run)
    # what the client sent; the commands scripts call are counted apart too, inside their script
    sent = ("cmdstat_evalsha", "cmdstat_getex", "cmdstat_set")
    spent = sum(entry["usec"] for name, entry in stats.info("commandstats").items() if name in sent)
    stats.close()
    return ms, spent / rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--one-merchant", action="store_true", help="every row at one merchant")
    args = parser.parse_args()
    frame = generate_transactions(GeneratorConfig(rows=args.rows, seed=0))
    if args.one_merchant:
        frame["merchant_id"] = "busy-merchant"
    requests = [
        Transaction(**record) for record in frame[list(TRANSACTION_FIELDS)].to_dict("records")
    ]
    _, observations = raw_fields(requests)
    labels = frame[LABEL].to_numpy(np.int64)
    redis = started_redis()
    try:
        runs = {
            "customer only (before)": with_server_time(
                redis.url, len(observations), per_call_ms(redis.url, observations, ())
            ),
            "customer + " + ", ".join(e.name for e in ENTITY_HISTORIES): with_server_time(
                redis.url,
                len(observations),
                per_call_ms(redis.url, observations, ENTITY_HISTORIES),
            ),
            "customer + entities + risk features": with_server_time(
                redis.url,
                len(observations),
                per_call_ms_with_risk(redis.url, labels, observations, ENTITY_HISTORIES),
            ),
        }
    finally:
        redis.close()
    load = os.getloadavg()[0]
    where = "one merchant" if args.one_merchant else "generated merchants"
    table = Table(
        title=f"online state update + read, one row per call, {args.rows:,} rows, {where}, "
        f"load {load:.1f} on {os.cpu_count()} CPUs"
    )
    for column in ("state", "p50 ms", "p99 ms", "max ms", "p99 vs before", "in Redis µs/row"):
        table.add_column(column, justify="left" if column == "state" else "right")
    before = float(np.percentile(runs["customer only (before)"][0], 99))
    for name, (ms, server_us) in runs.items():
        p99 = float(np.percentile(ms, 99))
        table.add_row(
            name,
            f"{np.percentile(ms, 50):.3f}",
            f"{p99:.3f}",
            f"{ms.max():.2f}",
            f"{p99 / before:.2f}x",
            f"{server_us:.0f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
