"""Stopping the harness's service processes the same way everywhere."""

from __future__ import annotations

import subprocess


def stop_process(
    process: subprocess.Popen[bytes] | subprocess.Popen[str], timeout_s: float
) -> None:
    """Ask ``process`` to stop (SIGTERM), and kill it if it has not within ``timeout_s``: a
    service that hangs on shutdown must not hang the test session with it."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
