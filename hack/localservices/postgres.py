"""A throw-away PostgreSQL cluster on a loopback port, from the Debian binaries.

PostgreSQL refuses to run as root, so when the harness is root (CI, containers) every server
command runs as the unprivileged ``postgres`` user the Debian package creates, and the cluster
lives in a temp folder owned by that user. The port stays fixed across :meth:`stop` and
:meth:`start`, so clients can reconnect after an outage test restarts the server.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from localservices.ports import LOOPBACK, accepts_connections, free_port, wait_until

PG_BIN = Path(os.environ.get("FRAUDOPS_PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVICE_USER = "postgres"
SUPERUSER = "fraudops"
DATABASE = "fraudops"
START_TIMEOUT_S = 60.0


class PostgresServer:
    """One PostgreSQL cluster in its own temp folder: ``start``, ``stop``, ``dsn``, ``close``."""

    def __init__(self, port: int | None = None) -> None:
        if not (PG_BIN / "postgres").is_file():
            raise FileNotFoundError(
                f"PostgreSQL binaries not found in {PG_BIN}: run `make system-deps` "
                "(apt-get install postgresql-15) or set FRAUDOPS_PG_BIN"
            )
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="fraudops-pg-"))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.socket_dir.mkdir()
        self._run_as = SERVICE_USER if os.geteuid() == 0 else None
        if self._run_as:
            account = pwd.getpwnam(self._run_as)
            for folder in (self.root, self.socket_dir):
                os.chown(folder, account.pw_uid, account.pw_gid)
        self._pg(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )

    @property
    def dsn(self) -> str:
        """libpq URI of the test database."""
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{self.port}/{DATABASE}"

    def start(self) -> None:
        """Start the server (again) on the same port and wait until it accepts connections."""
        # fsync off is safe here (the OS does not crash under a test); synchronous_commit stays on
        # so that an immediate stop (the outage test) loses no row the client saw committed.
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses={LOOPBACK} "
            "-c fsync=off -c full_page_writes=off"
        )
        self._pg(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            str(int(START_TIMEOUT_S)),
            "start",
        )
        wait_until(lambda: accepts_connections(self.port), START_TIMEOUT_S, "PostgreSQL")

    def stop(self) -> None:
        """Stop the server at once (clients see their connections drop), keeping its data."""
        self._pg("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str = DATABASE) -> None:
        """Create a database owned by the superuser the DSN names."""
        self._pg("createdb", "-h", LOOPBACK, "-p", str(self.port), "-U", SUPERUSER, name)

    def close(self) -> None:
        """Stop the server if it runs and delete its folder."""
        if (self.data_dir / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _pg(self, command: str, *args: str) -> None:
        subprocess.run(
            [str(PG_BIN / command), *args],
            check=True,
            capture_output=True,
            user=self._run_as,
            cwd=self.root,
        )


def started_postgres() -> PostgresServer:
    """A running server with the test database created."""
    server = PostgresServer()
    try:
        server.start()
        server.create_database()
    except BaseException:
        server.close()
        raise
    return server
