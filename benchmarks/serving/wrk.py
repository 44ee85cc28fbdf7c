"""Drive a server with wrk (Debian package) and read its latency distribution and throughput."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class LoadResult:
    """What one wrk run measured."""

    connections: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    failed: int


def wrk_binary() -> str:
    """The wrk executable, or an error saying how to install it."""
    binary = shutil.which("wrk")
    if binary is None:
        raise SystemExit("wrk not found: run `make system-deps` (apt-get install wrk)")
    return binary


def run_wrk(
    url: str,
    script: Path,
    connections: int,
    seconds: int,
    env: dict[str, str],
    cpus: set[int] | None = None,
) -> LoadResult:
    """``wrk --latency`` against ``url`` with ``connections`` connections for ``seconds``,
    on ``cpus`` when given (``taskset``), else wherever the scheduler puts it."""
    threads = min(connections, 2)
    pinned = ["taskset", "-c", ",".join(map(str, sorted(cpus)))] if cpus else []
    completed = subprocess.run(
        [
            *pinned,
            wrk_binary(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return parse(completed.stdout, connections)


def parse(output: str, connections: int) -> LoadResult:
    """Read requests/s, p50, p99 and failed requests from wrk's report."""
    percentiles = {
        int(match[1]): float(match[2]) * _UNITS_MS[match[3]]
        for match in _PERCENTILE.finditer(output)
    }
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if rate is None or 50 not in percentiles or 99 not in percentiles:
        raise RuntimeError(f"cannot read wrk's report:\n{output}")
    failed = int(non_2xx[1]) if non_2xx else 0
    if errors:
        failed += sum(int(errors[i]) for i in range(1, 5))
    return LoadResult(connections, float(rate[1]), percentiles[50], percentiles[99], failed)
