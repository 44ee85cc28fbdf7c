"""The kubeconfig file every client of the devcluster uses.

Credentials are embedded rather than referenced by path so the file stays valid when copied and
works unchanged for the built kubectl, helm, the Python `kubernetes` client and kopf.
"""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from .pki import Pki

CONTEXT = "fraudops-devcluster"


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write(path: Path, server: str, pki: Pki) -> Path:
    """Write an admin kubeconfig for `server` to `path` (mode 0600) and return the path."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT,
                "cluster": {"server": server, "certificate-authority-data": _b64(pki.ca_cert)},
            }
        ],
        "users": [
            {
                "name": "fraudops-admin",
                "user": {
                    "client-certificate-data": _b64(pki.admin_cert),
                    "client-key-data": _b64(pki.admin_key),
                },
            }
        ],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CONTEXT, "user": "fraudops-admin", "namespace": "default"},
            }
        ],
        "current-context": CONTEXT,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path
