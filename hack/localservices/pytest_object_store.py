"""pytest plugin: a session-scoped real S3-compatible store (SeaweedFS), started on first use.

Skipped only when ``FRAUDOPS_WEED`` is unset, which ``make test`` never leaves it: the Makefile
builds ``weed`` and exports its path.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localservices.object_store_server import (
    WEED_ENV,
    ObjectStoreServer,
    started_object_store,
    weed_binary,
)


@pytest.fixture(scope="session")
def object_store() -> Iterator[ObjectStoreServer]:
    """A running store with one identity: ``.endpoint``, ``.environ()``, ``.put()``."""
    binary = weed_binary()
    if binary is None:
        pytest.skip(f"{WEED_ENV} is unset (make test builds weed and sets it)")
    server = started_object_store(binary)
    yield server
    server.close()
