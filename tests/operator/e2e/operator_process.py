"""The real operator as a process (``python -m fraud_operator``) against the devcluster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from localservices.ports import LOOPBACK, free_port, wait_until

REPO = Path(__file__).resolve().parents[3]
STOP_TIMEOUT_S = 20.0


class OperatorProcess:
    """Starts, kills and restarts the operator, keeping its log in one file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.liveness_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, **self.env}
        env["FRAUDOPS_LIVENESS"] = f"http://{LOOPBACK}:{self.liveness_port}/healthz"
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "fraud_operator"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(self._live, 60.0, "the operator's liveness endpoint")

    def _live(self) -> bool:
        url = f"http://{LOOPBACK}:{self.liveness_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as when a node dies."""
        if self._process is not None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
            self._process = None

    def stop(self) -> None:
        if self._process is None:
            return
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
        self._process = None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]
