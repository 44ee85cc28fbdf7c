"""A throw-away Redis on a loopback port: no persistence, its own temp folder.

The port stays fixed across :meth:`stop` and :meth:`start` so that clients reconnect to the same
address after a test has taken Redis away.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from localservices.ports import LOOPBACK, accepts_connections, free_port, wait_until
from localservices.processes import stop_process

START_TIMEOUT_S = 20.0


class RedisServer:
    """One redis-server process: ``start()``, ``stop()``, ``url``, ``close()``."""

    def __init__(self, port: int | None = None) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise FileNotFoundError(
                "redis-server not found: run `make system-deps` (apt-get install redis-server)"
            )
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="fraudops-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (for a caller that outlives this object)."""
        return None if self._process is None else self._process.pid

    @property
    def url(self) -> str:
        """redis:// URL of database 0."""
        return f"redis://{LOOPBACK}:{self.port}/0"

    def start(self) -> None:
        """Start the server (again) and wait until it accepts connections."""
        self._process = subprocess.Popen(
            [
                self.binary or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                LOOPBACK,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
                "--logfile",
                str(self.root / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: accepts_connections(self.port), START_TIMEOUT_S, "Redis")

    def stop(self) -> None:
        """Stop the server; its data is gone with it (no persistence)."""
        if self._process is not None:
            stop_process(self._process, 20)
            self._process = None

    def close(self) -> None:
        """Stop the server and delete its folder."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def started_redis() -> RedisServer:
    """A running Redis."""
    server = RedisServer()
    server.start()
    return server
