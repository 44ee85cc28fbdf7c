"""The scoring service under test: ready-waiting for the in-process app, and the service as a
real process (``python -m fraud_inference`` on a loopback port).

Tests that need real HTTP (third-party clients, load, signals, outages) run the service the way a
pod does: configured by environment variables, logging to a file they can read.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from localservices.ports import free_port

READY_TIMEOUT_S = 60.0


def wait_ready(client: TestClient) -> None:
    """Block until the in-process service reports ready."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while client.get("/readyz").status_code != 200:
        if time.monotonic() > deadline:
            raise TimeoutError(f"service not ready: {client.get('/readyz').json()}")
        time.sleep(0.05)


@dataclass
class ServiceProcess:
    """``python -m fraud_inference`` running on a loopback port."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """What the service wrote to stdout/stderr so far."""
        return self.log_path.read_text(errors="replace")

    def wait_until(self, path: str, status: int) -> httpx.Response:
        """Poll ``path`` until it answers ``status``."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited with {self.process.returncode}:\n{self.log()}")
            try:
                response = httpx.get(self.url + path, timeout=2.0)
                if response.status_code == status:
                    return response
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} never answered {status}:\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> int:
        """SIGTERM (graceful: the audit trail is flushed), then wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def launch(folder: Path, **env: str) -> ServiceProcess:
    """Start ``python -m fraud_inference`` on a free loopback port, configured by ``env``."""
    port = free_port()
    log_path = folder / f"service-{port}.log"
    environment = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "AUDIT_SPOOL_DIR": str(folder / f"spool-{port}"),
        "LOG_LEVEL": "info",
        **env,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "fraud_inference"],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    service = ServiceProcess(f"http://127.0.0.1:{port}", process, log_path)
    try:
        service.wait_until("/healthz", 200)
    except BaseException:
        service.stop()
        raise
    return service
