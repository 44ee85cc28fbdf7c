"""Where the devcluster's binaries live: built once per machine by `make devcluster-bin`."""

from __future__ import annotations

import os
from pathlib import Path

from .versions import K8S_VERSION

NAMES = ("kube-apiserver", "kube-controller-manager", "kubectl", "etcd", "helm")


class MissingBinaryError(FileNotFoundError):
    """A devcluster binary has not been built on this machine yet."""


def bin_dir() -> Path:
    """The binary cache: `$FRAUDOPS_BIN_DIR`, else `~/.cache/fraudops/bin/<K8S_VERSION>`.

    The Makefile exports FRAUDOPS_BIN_DIR, so make targets and the Python side agree on one folder.
    """
    configured = os.environ.get("FRAUDOPS_BIN_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "fraudops" / "bin" / K8S_VERSION


def binary(name: str) -> Path:
    """Path of one built binary; raises with the command that builds it when it is missing."""
    path = bin_dir() / name
    if not os.access(path, os.X_OK):
        raise MissingBinaryError(f"{path} is missing: run `make devcluster-bin` first")
    return path
