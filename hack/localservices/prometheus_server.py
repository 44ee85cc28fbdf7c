"""A throw-away Prometheus (Debian's) on a loopback port: its own config, rules and TSDB folder.

It scrapes the given targets every second and evaluates the rule files every second, so a test can
see rates, recording rules and alerts within seconds of load.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml

from localservices.ports import LOOPBACK, free_port, wait_until
from localservices.processes import stop_process

START_TIMEOUT_S = 30.0
SCRAPE_INTERVAL = "1s"


class PrometheusServer:
    """One prometheus process: ``start()``, ``query()``, ``query_range()``, ``close()``.

    ``targets`` maps a scrape job name to ``host:port`` addresses.
    """

    def __init__(
        self, targets: Mapping[str, Sequence[str]], rule_files: Sequence[Path] = ()
    ) -> None:
        self.binary = shutil.which("prometheus")
        if self.binary is None:
            raise FileNotFoundError(
                "prometheus not found: run `make system-deps` (apt-get install prometheus)"
            )
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="fraudops-prometheus-"))
        self.config_path = self.root / "prometheus.yml"
        self.config_path.write_text(yaml.safe_dump(self.config(targets, rule_files)))
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def config(targets: Mapping[str, Sequence[str]], rule_files: Sequence[Path]) -> dict[str, Any]:
        """The prometheus.yml: fast scrapes and rule evaluation, one static job per target."""
        return {
            "global": {
                "scrape_interval": SCRAPE_INTERVAL,
                "scrape_timeout": SCRAPE_INTERVAL,
                "evaluation_interval": SCRAPE_INTERVAL,
            },
            "rule_files": [str(path) for path in rule_files],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": list(addresses)}]}
                for job, addresses in targets.items()
            ],
        }

    @property
    def url(self) -> str:
        """Base URL of the HTTP API and UI."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where the server writes its log."""
        return self.root / "prometheus.log"

    def start(self) -> None:
        """Start the server and wait until it reports ready."""
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    self.binary or "prometheus",
                    f"--config.file={self.config_path}",
                    f"--storage.tsdb.path={self.root / 'data'}",
                    f"--web.listen-address={LOOPBACK}:{self.port}",
                    "--storage.tsdb.retention.time=1h",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._ready, START_TIMEOUT_S, "Prometheus")

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(f"prometheus exited:\n{self.log_path.read_text(errors='replace')}")
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def api(self, path: str, **params: str | float) -> Any:
        """``data`` of a GET to the HTTP API; an error status raises with Prometheus's message."""
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=10.0)
        body = response.json()
        if body.get("status") != "success":
            raise RuntimeError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector of ``expr`` now."""
        return self.api("query", query=expr)["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """The range matrix of ``expr`` between two Unix times."""
        return self.api("query_range", query=expr, start=start, end=end, step=step)["result"]

    def stop(self) -> None:
        """Stop the server."""
        if self._process is not None:
            stop_process(self._process, 30)
            self._process = None

    def close(self) -> None:
        """Stop the server and delete its folder (config, TSDB, log)."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def started_prometheus(
    targets: Mapping[str, Sequence[str]], rule_files: Sequence[Path] = ()
) -> PrometheusServer:
    """A running Prometheus scraping ``targets``."""
    server = PrometheusServer(targets, rule_files)
    server.start()
    return server
