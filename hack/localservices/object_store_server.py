"""A throw-away S3-compatible object store: SeaweedFS's ``weed server -s3`` on loopback ports.

The tests read training data from a real store rather than a mock of one, so the SDK's requests,
signatures and error replies are the real thing. ``weed`` is built by the Makefile into the cache
(``FRAUDOPS_WEED``); one process runs the master, a volume server, the filer and the S3 gateway,
each on a free port (their gRPC ports too), with data in a temp folder removed by :meth:`close`.
The S3 gateway knows exactly one identity, :attr:`access_key` / :attr:`secret_key`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from localservices.ports import LOOPBACK, accepts_connections, free_port, wait_until
from localservices.processes import stop_process

WEED_ENV = "FRAUDOPS_WEED"
START_TIMEOUT_S = 60.0
#: The components whose ports are chosen here (each also has a gRPC port).
COMPONENTS = ("master", "volume", "filer", "s3")


class ObjectStoreServer:
    """One ``weed server -s3`` process: ``endpoint``, ``access_key``, ``secret_key``,
    ``create_bucket()``, ``put()``, ``close()``."""

    def __init__(self, binary: str) -> None:
        if not os.access(binary, os.X_OK):
            raise FileNotFoundError(f"{WEED_ENV}={binary}: no such executable; run `make weed`")
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="fraudops-weed-"))
        self.ports = {name: free_port() for name in COMPONENTS}
        self.grpc_ports = {name: free_port() for name in COMPONENTS}
        self.access_key = "fraudops-test"
        self.secret_key = secrets.token_hex(16)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """The S3 API's URL."""
        return f"http://{LOOPBACK}:{self.ports['s3']}"

    @property
    def log(self) -> Path:
        return self.root / "weed.log"

    def _identities(self) -> Path:
        config = self.root / "s3.json"
        identity = {
            "name": "fraudops",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        return config

    def start(self) -> None:
        """Start the store and wait until its S3 gateway answers a signed request."""
        data = self.root / "data"
        data.mkdir(exist_ok=True)
        args = [
            self.binary,
            "server",
            f"-dir={data}",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=4",
            "-s3",
            f"-s3.config={self._identities()}",
            # The gateway's catalog servers listen on fixed ports by default; the tests need none.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            *(f"-{name}.port={port}" for name, port in self.ports.items()),
            *(f"-{name}.port.grpc={port}" for name, port in self.grpc_ports.items()),
        ]
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._answers, START_TIMEOUT_S, f"SeaweedFS S3 (log: {self.log})")

    def _answers(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(f"weed exited with {self._process.returncode}; see {self.log}")
        if not accepts_connections(self.ports["s3"]):
            return False
        try:
            self.client().list_buckets()
        except Exception:  # not ready yet, whatever the gateway answers
            time.sleep(0.2)
            return False
        return True

    def client(self) -> Any:
        """An S3 client of the store's one identity."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def environ(self, **overrides: str) -> dict[str, str]:
        """The variables a training Job gets for this store (see the operator's builder)."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            **overrides,
        }

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def put(self, bucket: str, key: str, path: Path) -> str:
        """Upload a file; its ``s3://`` URI."""
        self.client().upload_file(str(path), bucket, key)
        return f"s3://{bucket}/{key}"

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process, 20)
            self._process = None

    def close(self) -> None:
        """Stop the store and delete its folder."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def weed_binary() -> str | None:
    """The ``weed`` the Makefile built (``FRAUDOPS_WEED``, always set by ``make test``), or None
    when the variable is unset. A set variable naming no binary fails at start, loudly."""
    return os.environ.get(WEED_ENV) or None


def started_object_store(binary: str) -> ObjectStoreServer:
    """A running store."""
    server = ObjectStoreServer(binary)
    try:
        server.start()
    except BaseException:
        server.close()
        raise
    return server
