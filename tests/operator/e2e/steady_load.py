"""Continuous `/predict` traffic against a serving URL while a test changes what serves it: the
rollouts' "no failed request" checks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from e2e.kube import TRANSACTION


@dataclass
class Load:
    """What the traffic met: failed requests, and each answer's time and model version."""

    failures: list[str] = field(default_factory=list)
    #: (seconds since the traffic began, ``model_version`` of the answer), in order.
    answers: list[tuple[float, str]] = field(default_factory=list)

    @property
    def versions(self) -> set[str]:
        return {version for _, version in self.answers}


@contextmanager
def steady_load(url: str, pause_s: float = 0.02) -> Iterator[Load]:
    """POST transactions to ``url``/predict one after another until the block ends."""
    load = Load()
    stop = threading.Event()
    started = time.monotonic()

    def hammer() -> None:
        # a connection per request, as many clients behind a Service do: each is routed afresh
        with httpx.Client(timeout=10, headers={"Connection": "close"}) as client:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    answer = client.post(
                        f"{url}/predict", json={**TRANSACTION, "transaction_id": f"load-{n}"}
                    )
                    if answer.status_code != 200:
                        load.failures.append(f"{answer.status_code}: {answer.text[:200]}")
                    else:
                        version = answer.json()["model_version"]
                        load.answers.append((time.monotonic() - started, version))
                except httpx.HTTPError as error:
                    load.failures.append(repr(error))
                time.sleep(pause_s)

    loader = threading.Thread(target=hammer)
    loader.start()
    try:
        yield load
    finally:
        stop.set()
        loader.join()
