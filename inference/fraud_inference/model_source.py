"""Model URIs: naming versions and aliases of the served registered model for ``/reload``.

Loading itself is :func:`fraud_training.registry.download_model`, the one resolver of
``models:/`` and ``runs:/`` URIs shared with the training side (local folders:
:func:`fraud_training.bundle_layout.local_model_folder`).
"""

from __future__ import annotations

import re

_REGISTERED = re.compile(r"^models:/(?P<name>[^/@]+)(?:@[^/]+|/\d+)$")


def registered_uri(name: str, *, version: str | None = None, alias: str | None = None) -> str:
    """``models:/`` URI of a version or alias of a registered model."""
    return f"models:/{name}@{alias}" if alias else f"models:/{name}/{version}"


def registered_name(uri: str | None) -> str | None:
    """The registered model name in a ``models:/`` URI, else ``None``."""
    match = _REGISTERED.match(uri or "")
    return match["name"] if match else None
