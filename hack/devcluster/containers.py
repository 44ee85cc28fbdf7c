"""One container of a devcluster pod: a local process, its restarts and its reported state.

The image is ignored: the container's `command` + `args` run directly on this machine in the
project's environment (see `podrunner`). What the kubelet would report about the container
(state, exit code, restarts, readiness) is kept here and rendered as a `ContainerStatus`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .podenv import expand
from .probes import Prober
from .processes import launch, tail

#: Lines of a failed container's log copied into `state.terminated.message`.
MESSAGE_LINES = 20
#: Restart back-off: doubles from 1 s up to this cap (the kubelet's is 10 s up to 300 s; a dev
#: cluster wants crash loops visible in seconds, not minutes).
MAX_BACKOFF_SECONDS = 30.0


def now_rfc3339() -> str:
    """The current time as the API's timestamps are written."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Container:
    """Runs and supervises one container's process; `status()` is its ContainerStatus."""

    def __init__(self, spec: Mapping[str, Any], log_path: Path) -> None:
        self.spec = spec
        self.name: str = spec["name"]
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.restart_count = 0
        self.started_once = False
        self.started_at = ""
        self.waiting = {"reason": "ContainerCreating"}
        self.terminated: dict[str, Any] | None = None
        self.last_terminated: dict[str, Any] | None = None
        self.next_start = 0.0
        self.readiness: Prober | None = None
        self.liveness: Prober | None = None
        self.ready = False

    @property
    def running(self) -> bool:
        return self.proc is not None

    @property
    def ports(self) -> list[Mapping[str, Any]]:
        return self.spec.get("ports") or []

    def argv(self, env: Mapping[str, str]) -> list[str]:
        """`command` + `args` with `$(VAR)` expanded; the image's entrypoint is unknowable here."""
        command = self.spec.get("command")
        if not command:
            raise ValueError(
                "devcluster runs a container's `command`; this one has none (image entrypoints "
                "are not available without a container runtime)"
            )
        return [expand(part, env) for part in [*command, *(self.spec.get("args") or [])]]

    def start(self, argv: list[str], env: Mapping[str, str], cwd: Path) -> None:
        """Start the process (a failed exec is reported as the kubelet does: StartError, 128)."""
        if self.started_once:
            self.restart_count += 1
            self.last_terminated = self.terminated
        self.started_once = True
        self.terminated = None
        self.started_at = now_rfc3339()
        executable = shutil.which(argv[0], path=env.get("PATH")) or argv[0]
        try:
            self.proc = launch([executable, *argv[1:]], self.log_path, env=env, cwd=cwd)
        except OSError as error:
            self._terminate_record(128, "StartError", f"exec {argv[0]!r}: {error}")
            return
        self.waiting = {}
        started = time.monotonic()
        probe = self.spec.get("readinessProbe")
        self.readiness = Prober(probe, started) if probe else None
        probe = self.spec.get("livenessProbe")
        self.liveness = Prober(probe, started) if probe else None
        self.ready = self.readiness is None

    def _terminate_record(self, exit_code: int, reason: str, message: str = "") -> None:
        self.proc = None
        self.ready = False
        self.waiting = {}
        self.terminated = {
            "exitCode": exit_code,
            "reason": reason,
            "startedAt": self.started_at,
            "finishedAt": now_rfc3339(),
        }
        if message:
            self.terminated["message"] = message

    def poll(self) -> bool:
        """Notice the process's exit; True when it has just exited.

        A failed container's `message` is the tail of its log: a process here has no container
        filesystem for a terminationMessagePath file, so every failure gets the
        FallbackToLogsOnError treatment, which is what tells a reader why a Job failed.
        """
        if self.proc is None or self.proc.poll() is None:
            return False
        code = self.proc.returncode
        exit_code = 128 - code if code < 0 else code
        if exit_code == 0:
            self._terminate_record(0, "Completed")
        else:
            self._terminate_record(exit_code, "Error", tail(self.log_path, MESSAGE_LINES))
        return True

    def probe(self, pod_ip: str) -> bool:
        """Run the readiness and liveness probes that are due; True when liveness has failed."""
        now = time.monotonic()
        if self.readiness is not None and self.readiness.due(now):
            self.readiness.run(pod_ip, self.ports)
            if self.readiness.succeeded:
                self.ready = True
            elif self.readiness.failed:
                self.ready = False
        if self.liveness is not None and self.liveness.due(now):
            self.liveness.run(pod_ip, self.ports)
            return self.liveness.failed
        return False

    def schedule_restart(self) -> None:
        """Wait with a doubling back-off before the next start, as CrashLoopBackOff does."""
        delay = min(2.0**self.restart_count, MAX_BACKOFF_SECONDS)
        self.next_start = time.monotonic() + delay
        self.waiting = {
            "reason": "CrashLoopBackOff",
            "message": f"back-off {delay:.0f}s restarting failed container",
        }

    def config_error(self, message: str) -> None:
        """The container cannot start yet (missing Secret, ...); retried in a few seconds."""
        self.waiting = {"reason": "CreateContainerConfigError", "message": message}
        self.next_start = time.monotonic() + 2

    def signal(self, sig: signal.Signals) -> None:
        """Send `sig` to the container's whole process group (it runs in its own session)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def stop(self, grace: float) -> None:
        """SIGTERM, wait up to `grace` seconds, then SIGKILL; records the exit."""
        if self.proc is None:
            return
        self.signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.proc.poll() is None:
            self.signal(signal.SIGKILL)
            self.proc.wait()
        else:
            self.signal(signal.SIGKILL)  # a child left in the group does not outlive the pod
        self.poll()

    def status(self, image: str) -> dict[str, Any]:
        """This container's ContainerStatus, as the API expects it."""
        if self.proc is not None:
            state: dict[str, Any] = {"running": {"startedAt": self.started_at}}
        elif self.terminated is not None and not self.waiting:
            state = {"terminated": self.terminated}
        else:
            state = {"waiting": self.waiting}
        last = self.terminated if "waiting" in state and self.terminated else self.last_terminated
        status: dict[str, Any] = {
            "name": self.name,
            "image": image,
            "imageID": "",
            "ready": self.ready,
            "started": self.proc is not None,
            "restartCount": self.restart_count,
            "state": state,
            "lastState": {"terminated": last} if last else {},
        }
        if self.proc is not None:
            status["containerID"] = f"devcluster://{self.proc.pid}"
        return status
