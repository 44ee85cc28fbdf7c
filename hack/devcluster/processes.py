"""Starting, waiting for and stopping the cluster's local processes.

Every component runs in its own session (process group) with its output in a log file, so a
component and whatever it spawned can be signalled as a unit and a failed start can show the
reason from the log instead of a bare timeout.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import psutil


class StartupError(RuntimeError):
    """A component died or did not become ready; the message carries its log's tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a text file, or "" when it does not exist yet."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read().decode(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def launch(
    argv: Sequence[str | Path],
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in a new session with stdout and stderr appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [str(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )


def wait_until(
    ready: Callable[[], bool],
    what: str,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
    log_path: Path | None = None,
) -> None:
    """Poll `ready` until it holds; fail early, with the log's tail, if `process` exits."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        if process is not None and process.poll() is not None:
            raise StartupError(
                f"{what}: process exited with {process.returncode}\n"
                + (tail(log_path, 40) if log_path else "")
            )
        with contextlib.suppress(Exception):
            if ready():
                return
        if time.monotonic() > deadline:
            detail = tail(log_path, 40) if log_path else ""
            raise StartupError(f"{what}: not ready after {timeout:.0f}s\n{detail}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def process_tree(pids: Iterable[int]) -> list[psutil.Process]:
    """The given processes and all their descendants that are still alive."""
    found: dict[int, psutil.Process] = {}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            found[proc.pid] = proc
            for child in proc.children(recursive=True):
                found[child.pid] = child
    return list(found.values())


def is_alive(proc: psutil.Process) -> bool:
    """True while `proc` runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def terminate(procs: Sequence[psutil.Process], grace: float) -> None:
    """SIGTERM `procs`, wait up to `grace` seconds, then SIGKILL whatever is left, and reap."""
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)


def stop_tree(pid: int, grace: float) -> None:
    """Stop one component and everything it spawned (SIGTERM, then SIGKILL after `grace`).

    The descendants are collected before the component is signalled: once it is gone they are
    re-parented and could no longer be found from its pid.
    """
    procs = process_tree([pid])
    if not procs:
        return
    leader, rest = procs[0], procs[1:]
    terminate([leader], grace)
    terminate([p for p in rest if is_alive(p)], grace=2)
