"""A bounded burst of scoring traffic and confirmed outcomes against a real service process.

Transactions come from the project's generator; their ids and customers carry a prefix of the
run's own, since the harness's Redis and PostgreSQL are shared with other tests.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pandas as pd
from fraud_training.schema import LABEL

#: How long feedback waits for the audit writer to store the row it labels.
AUDIT_WAIT_S = 10.0

BATCH_ROWS = 20
#: Every n-th request is a batch, every m-th one an invalid transaction (a 422 for the panels).
BATCH_EVERY = 10
INVALID_EVERY = 25
MAX_REQUESTS = 5_000
#: A burst goes on past its time until it scored this many frauds and declined one, so that a
#: slow machine still gives live precision and recall something to judge.
MIN_FRAUDS = 3


@dataclass
class Traffic:
    """What the burst sent: the scored transactions' true outcomes and the decisions served (by
    transaction id), and the responses by status."""

    outcomes: dict[str, bool] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)

    def count(self, status: int) -> None:
        """Count one response."""
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def judgeable(self) -> bool:
        """Whether the burst scored enough frauds, and declined one, for live metrics."""
        return sum(self.outcomes.values()) >= MIN_FRAUDS and "decline" in self.decisions.values()


def raw_transactions(frame: pd.DataFrame) -> Iterator[tuple[dict[str, Any], bool]]:
    """The frame's rows as request bodies (ids prefixed for this run) with their true label,
    cycling so that a burst never runs out."""
    prefix = uuid.uuid4().hex[:10]
    rows = frame.drop(columns=["fraud_pattern"]).to_dict(orient="records")
    for cycle in range(MAX_REQUESTS * BATCH_ROWS * 100):
        row = dict(rows[cycle % len(rows)])
        label = bool(row.pop(LABEL))
        row["transaction_id"] = f"{prefix}-{cycle}"
        row["customer_id"] = f"{prefix}-{row['customer_id']}"
        row["timestamp"] = row["timestamp"].isoformat().replace("+00:00", "Z")
        yield row, label


def burst(url: str, frame: pd.DataFrame, seconds: float, wave: bool = False) -> Traffic:
    """Score transactions for ``seconds`` (longer until :meth:`Traffic.judgeable`): single
    ones, batches and a few invalid bodies, at most MAX_REQUESTS requests (a hundred times more
    with ``wave``). ``wave`` paces them in a three-minute swell, as a picture of longer traffic
    looks more like the day's than a flat line does."""
    traffic = Traffic()
    rows = raw_transactions(frame)
    started = time.monotonic()
    limit = MAX_REQUESTS if not wave else MAX_REQUESTS * 100
    with httpx.Client(base_url=url, timeout=10.0) as client:
        for n in range(limit):
            elapsed = time.monotonic() - started
            if elapsed > seconds and traffic.judgeable():
                break
            if wave:
                time.sleep(0.004 * (1 + math.sin(2 * math.pi * elapsed / 180)))
            if n % INVALID_EVERY == INVALID_EVERY - 1:
                body, _ = next(rows)
                traffic.count(client.post("/predict", json={**body, "amount": -1}).status_code)
            elif n % BATCH_EVERY == BATCH_EVERY - 1:
                batch = [next(rows) for _ in range(BATCH_ROWS)]
                response = client.post(
                    "/predict/batch", json={"transactions": [body for body, _ in batch]}
                )
                traffic.count(response.status_code)
                traffic.outcomes.update({b["transaction_id"]: label for b, label in batch})
                for (body, _), served in zip(batch, response.json()["predictions"], strict=True):
                    traffic.decisions[body["transaction_id"]] = served["decision"]
            else:
                body, label = next(rows)
                response = client.post("/predict", json=body)
                traffic.count(response.status_code)
                traffic.outcomes[body["transaction_id"]] = label
                traffic.decisions[body["transaction_id"]] = response.json()["decision"]
    return traffic


def report_outcomes(url: str, traffic: Traffic, legit: int, admin_token: str) -> int:
    """Post the confirmed outcome of every scored fraud, every decline and ``legit`` more
    legitimate transactions, as chargebacks and cleared alerts would arrive (so that live
    precision and recall have declines and frauds to count); the number of rows stored.

    Feedback is admin-only and joins the audit trail, which is written in batches: a 404 for a
    row the writer has not stored yet is asked again, for a bounded time."""
    frauds = {tid for tid, is_fraud in traffic.outcomes.items() if is_fraud}
    declined = {tid for tid, decision in traffic.decisions.items() if decision == "decline"}
    cleared = [tid for tid in traffic.outcomes if tid not in frauds | declined][:legit]
    stored = 0
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=url, timeout=10.0, headers=headers) as client:
        for transaction_id in [*sorted(frauds | declined), *cleared]:
            body = {"transaction_id": transaction_id, "is_fraud": transaction_id in frauds}
            deadline = time.monotonic() + AUDIT_WAIT_S
            response = client.post("/feedback", json=body)
            while response.status_code == 404 and time.monotonic() < deadline:
                time.sleep(0.2)
                response = client.post("/feedback", json=body)
            assert response.status_code == 201, response.text
            stored += 1
    return stored
