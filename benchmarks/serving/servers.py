"""The servers the benchmark compares, each one process on a loopback port.

MLServer 1.7 lives in a virtual environment of its own (it caps FastAPI below 0.116, and its
inference workers die with uvloop 0.21 and later; the project's environment has newer of both),
created here on first use.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
from reference_venv import CACHE, ensure_venv

REPO = Path(__file__).resolve().parents[2]
MLSERVER_VENV = CACHE / "mlserver-venv"
MLSERVER_REQUIREMENTS = (
    "mlserver==1.7.*",
    "mlserver-xgboost==1.7.*",
    "fastapi<0.116",
    "uvloop<0.21",  # 0.21+ raise in get_event_loop() where MLServer's workers call it
)
MLSERVER_MODEL = "fraud"
START_TIMEOUT_S = 120.0


class ServerProcess:
    """A server started as a child process; ready once ``ready_path`` answers 200."""

    def __init__(
        self, label: str, command: list[str], env: dict[str, str], port: int, ready_path: str
    ):
        self.label = label
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self._log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{port}.log", "wb")  # noqa: SIM115
        self._process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready(ready_path)

    @property
    def pid(self) -> int:
        """The server's process id (its workers, if any, are its children)."""
        return self._process.pid

    def _wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"{self.label} exited with {self._process.returncode}; see {self._log.name}"
                )
            try:
                if httpx.get(self.base_url + path, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise TimeoutError(
            f"{self.label} not ready after {START_TIMEOUT_S:.0f} s; see {self._log.name}"
        )

    def rss_mb(self) -> float:
        """Resident memory of the server and its worker processes, in MB."""
        root = psutil.Process(self._process.pid)
        processes = [root, *root.children(recursive=True)]
        return sum(p.memory_info().rss for p in processes if p.is_running()) / 1e6

    def stop(self) -> None:
        """SIGTERM the process group, then wait (SIGKILL after 20 s)."""
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._log.close()


def ours(
    port: int, bundle: Path, redis_url: str, database_url: str, spool: Path, **env: str
) -> ServerProcess:
    """``python -m fraud_inference`` with Redis features, PostgreSQL audit and metrics on."""
    settings = {
        "MODEL_URI": str(bundle),
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "AUDIT_SPOOL_DIR": str(spool),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "warning",
        **env,
    }
    label = "fraudops " + " ".join(f"{k}={v}" for k, v in env.items())
    return ServerProcess(
        label.strip(), [sys.executable, "-m", "fraud_inference"], settings, port, "/readyz"
    )


def ensure_mlserver_venv() -> Path:
    """The MLServer executable of its virtual environment (created on first use)."""
    venv = ensure_venv(
        MLSERVER_VENV,
        MLSERVER_REQUIREMENTS,
        "MLServer 1.7 and its XGBoost runtime",
        lambda venv: (venv / "bin" / "mlserver").exists(),
    )
    return venv / "bin" / "mlserver"


def mlserver(
    port: int, folder: Path, model_file: Path, tuned: bool, free_port: Callable[[], int]
) -> ServerProcess:
    """MLServer serving ``model_file`` with its XGBoost runtime, default or tuned settings.

    Tuned: inference in the server process (``parallel_workers: 0``) and one OpenMP thread, so
    XGBoost's thread pool does not fight the event loop for the two cores.
    """
    binary = ensure_mlserver_venv()
    folder.mkdir(parents=True, exist_ok=True)
    settings: dict[str, object] = {
        "http_port": port,
        "grpc_port": free_port(),
        "metrics_port": free_port(),
    }
    if tuned:
        settings["parallel_workers"] = 0
    (folder / "settings.json").write_text(json.dumps(settings))
    (folder / "model-settings.json").write_text(
        json.dumps(
            {
                "name": MLSERVER_MODEL,
                "implementation": "mlserver_xgboost.XGBoostModel",
                "parameters": {"uri": str(model_file), "version": "1"},
            }
        )
    )
    env = {"OMP_NUM_THREADS": "1"} if tuned else {}
    label = "MLServer 1.7 " + ("tuned" if tuned else "default")
    return ServerProcess(
        label, [str(binary), "start", str(folder)], env, port, f"/v2/models/{MLSERVER_MODEL}/ready"
    )
