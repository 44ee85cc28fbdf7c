"""Writes a transaction file shaped like a public fraud benchmark that nobody here designed, so the
quality benchmark can check the mapped-CSV path on data our generator did not shape.

It follows the published description of the simulated data set of the *Reproducible Machine
Learning for Credit Card Fraud Detection* handbook (Le Borgne et al.): customers and terminals on
a 100 x 100 grid, each customer paying at the terminals within a radius of 5 with a Poisson number
of transactions a day, and three fraud scenarios — any amount above 220; two terminals
compromised each day, every transaction there fraudulent for the next 28 days; three customers
compromised each day, a third of their transactions in the next 14 days fraudulent at five times
the amount. Its own columns (``TRANSACTION_ID, TX_DATETIME, CUSTOMER_ID, TERMINAL_ID, TX_AMOUNT,
TX_FRAUD, TX_FRAUD_SCENARIO``) are mapped as a user would::

    .venv/bin/python benchmarks/handbook_like.py /tmp/handbook.csv --customers 5000
    .venv/bin/python benchmarks/bench_quality.py --data /tmp/handbook.csv \\
        --map transaction_id=TRANSACTION_ID --map timestamp=TX_DATETIME \\
        --map customer_id=CUSTOMER_ID --map merchant_id=TERMINAL_ID \\
        --map amount=TX_AMOUNT --map is_fraud=TX_FRAUD

The written code is this project's own; only the published scenario description is reused.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

DAY_S = 86_400
START = pd.Timestamp("2018-04-01")


def simulate(customers: int, terminals: int, days: int, seed: int) -> pd.DataFrame:
    """Transactions of ``customers`` over ``days`` days with the three fraud scenarios applied."""
    rng = np.random.default_rng(seed)
    cx, cy = rng.uniform(0, 100, customers), rng.uniform(0, 100, customers)
    mean_amount = rng.uniform(5, 100, customers)
    std_amount = mean_amount / 2
    per_day = rng.uniform(0, 4, customers)
    tx, ty = rng.uniform(0, 100, terminals), rng.uniform(0, 100, terminals)
    reachable = [
        np.flatnonzero((tx - cx[c]) ** 2 + (ty - cy[c]) ** 2 < 25.0) for c in range(customers)
    ]
    parts = []
    for c in range(customers):
        if len(reachable[c]) == 0:
            continue
        counts = rng.poisson(per_day[c], days)
        n = int(counts.sum())
        if n == 0:
            continue
        day = np.repeat(np.arange(days), counts)
        seconds = rng.normal(DAY_S / 2, 20_000, n)
        keep = (seconds > 0) & (seconds < DAY_S)
        amount = rng.normal(mean_amount[c], std_amount[c], n)
        negative = amount < 0
        amount[negative] = rng.uniform(0, 2 * mean_amount[c], int(negative.sum()))
        parts.append(
            pd.DataFrame(
                {
                    "CUSTOMER_ID": c,
                    "TERMINAL_ID": rng.choice(reachable[c], n)[keep],
                    "TX_TIME_SECONDS": (day * DAY_S + seconds.astype(np.int64))[keep],
                    "TX_AMOUNT": np.round(amount, 2)[keep],
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True).sort_values("TX_TIME_SECONDS", kind="stable")
    frame = frame.reset_index(drop=True)
    frame["TX_TIME_DAYS"] = frame["TX_TIME_SECONDS"] // DAY_S
    scenario = np.zeros(len(frame), dtype=np.int64)
    scenario[frame["TX_AMOUNT"].to_numpy() > 220] = 1
    day_of = frame["TX_TIME_DAYS"].to_numpy()
    terminal_of = frame["TERMINAL_ID"].to_numpy()
    customer_of = frame["CUSTOMER_ID"].to_numpy()
    amounts = frame["TX_AMOUNT"].to_numpy().copy()
    for day in range(days):
        for terminal in rng.choice(terminals, 2, replace=False):
            hit = (terminal_of == terminal) & (day_of >= day) & (day_of < day + 28)
            scenario[hit & (scenario == 0)] = 2
        for customer in rng.choice(customers, 3, replace=False):
            window = np.flatnonzero(
                (customer_of == customer) & (day_of >= day) & (day_of < day + 14)
            )
            if len(window) == 0:
                continue
            chosen = rng.choice(window, len(window) // 3, replace=False)
            amounts[chosen] = np.round(amounts[chosen] * 5, 2)
            scenario[chosen[scenario[chosen] == 0]] = 3
    frame["TX_AMOUNT"] = amounts
    frame["TX_FRAUD"] = (scenario > 0).astype(np.int64)
    frame["TX_FRAUD_SCENARIO"] = scenario
    frame["TX_DATETIME"] = (START + pd.to_timedelta(frame["TX_TIME_SECONDS"], unit="s")).astype(str)
    frame.insert(0, "TRANSACTION_ID", np.arange(len(frame)))
    return frame[
        [
            "TRANSACTION_ID",
            "TX_DATETIME",
            "CUSTOMER_ID",
            "TERMINAL_ID",
            "TX_AMOUNT",
            "TX_TIME_SECONDS",
            "TX_TIME_DAYS",
            "TX_FRAUD",
            "TX_FRAUD_SCENARIO",
        ]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--terminals", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=183)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    frame = simulate(args.customers, args.terminals, args.days, args.seed)
    frame.to_csv(args.out, index=False)
    by = frame.groupby("TX_FRAUD_SCENARIO").size().to_dict()
    print(f"{len(frame):,} transactions, {frame['TX_FRAUD'].mean():.2%} fraud; scenarios {by}")


if __name__ == "__main__":
    main()
