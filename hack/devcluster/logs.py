"""Where pod containers' logs go, and how tests and the operator read them.

There is no kubelet, so `kubectl logs` cannot work; instead each container's stdout and stderr
are appended to `<log_dir>/<namespace>_<pod>_<container>.log` (restarts append to the same file).
"""

from __future__ import annotations

from pathlib import Path

from .processes import tail


def pod_log_path(log_dir: Path, namespace: str, pod: str, container: str) -> Path:
    """The file holding `container`'s output in pod `namespace/pod`."""
    return Path(log_dir) / f"{namespace}_{pod}_{container}.log"


def log_tail(log_dir: Path, namespace: str, pod: str, container: str, lines: int = 20) -> str:
    """The last `lines` lines of a container's log ("" when it has written nothing yet)."""
    return tail(pod_log_path(log_dir, namespace, pod, container), lines)
