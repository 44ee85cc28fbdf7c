"""A real ``mlflow server`` on a loopback port, with a throw-away SQLite store and artifact folder.

The server proxies artifacts (``--serve-artifacts``), so clients only ever talk HTTP to it, as
they do to a tracking server in a cluster. ``mlflow server`` starts a web server with worker
processes; stopping it stops every process it started, so none is left behind.

Use it from Python::

    with MlflowServer() as server:
        os.environ["MLFLOW_TRACKING_URI"] = server.tracking_uri

or from a shell: ``python -m localservices.mlflow_server`` prints the URI and serves until
interrupted.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from devcluster.processes import stop_tree

from localservices.ports import LOOPBACK, free_port, wait_until

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0
LOG_TAIL_CHARS = 3000
#: No telemetry, and no background job runner: it starts a pool of task consumers that tracking
#: and the registry never use, which costs seconds and memory on a small test machine.
SERVER_ENVIRONMENT = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
}
#: Host headers the server accepts: loopback, and the Service names the devcluster's pods use to
#: reach it (``cluster.expose_host_port``), as ``--allowed-hosts`` does on a cluster.
ALLOWED_HOSTS = "localhost:*,127.0.0.1:*,*.svc:*,*.svc.cluster.local:*"


class MlflowServer:
    """An ``mlflow server`` with its workers: ``start``, ``stop``, ``tracking_uri``, ``close``.

    Data lives in its own temp folder (or ``root``) and survives :meth:`stop`/:meth:`start`;
    :meth:`close` stops the server and deletes the folder.
    """

    def __init__(self, port: int | None = None, root: Path | None = None) -> None:
        self.port = port or free_port()
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="fraudops-mlflow-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_path = self.root / "mlflow-server.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (for a caller that outlives this object)."""
        return None if self._process is None else self._process.pid

    @property
    def tracking_uri(self) -> str:
        """What ``MLFLOW_TRACKING_URI`` should be to use this server."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def backend_store_uri(self) -> str:
        """The server's SQLite store (``mlflow ui --backend-store-uri`` reads it directly)."""
        return f"sqlite:///{self.root / 'mlflow.db'}"

    def start(self) -> None:
        """Start the server and wait until ``/health`` answers; a crash shows the log's tail."""
        command = [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--backend-store-uri",
            self.backend_store_uri,
            "--allowed-hosts",
            ALLOWED_HOSTS,
            "--serve-artifacts",
            "--artifacts-destination",
            str(self.root / "artifacts"),
        ]
        environment = {**os.environ, **SERVER_ENVIRONMENT}
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                cwd=self.root,
                start_new_session=True,
            )
        try:
            wait_until(self._healthy, START_TIMEOUT_S, "MLflow server")
        except BaseException:
            self.stop()
            raise

    def _healthy(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(
                f"mlflow server exited with code {self._process.returncode}:\n{self.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"{self.tracking_uri}/health", timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def log_tail(self) -> str:
        """The end of the server's log, for error messages."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]

    def stop(self) -> None:
        """Stop the server and its workers: SIGTERM to each, SIGKILL to any that linger."""
        if self._process is None:
            return
        process, self._process = self._process, None
        stop_tree(process.pid, STOP_TIMEOUT_S)
        process.wait(timeout=STOP_TIMEOUT_S)

    def close(self) -> None:
        """Stop the server and delete its data."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> MlflowServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def started_mlflow(root: Path | None = None) -> MlflowServer:
    """A running server (its data in ``root`` if given, else a temp folder)."""
    server = MlflowServer(root=root)
    try:
        server.start()
    except BaseException:
        server.close()
        raise
    return server


def main() -> None:
    """Serve until interrupted, printing the tracking URI first."""
    server = started_mlflow()
    print(f"MLFLOW_TRACKING_URI={server.tracking_uri}", flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        server.close()


if __name__ == "__main__":
    main()
