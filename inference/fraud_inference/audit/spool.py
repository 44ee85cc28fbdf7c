"""A bounded on-disk spool of audit rows that could not be written to PostgreSQL yet.

Rows are written as JSON-lines segment files (written to a temporary name, then renamed, so a
crash never leaves half a segment) and replayed oldest first once the database is back. Segments
left by a previous process are picked up at start-up. When the spool reaches its size bound, new
rows are refused (and counted as dropped by the caller) rather than filling the disk.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson

from fraud_inference.audit.records import Row

SEGMENT_SUFFIX = ".jsonl"


class AuditSpool:
    """Segments of spooled rows in ``folder``, at most ``max_bytes`` in all."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        folder.mkdir(parents=True, exist_ok=True)
        self._rows: dict[Path, int] = {}
        self._bytes = 0
        for segment in self._segments_on_disk():
            self._rows[segment] = _count_lines(segment)
            self._bytes += segment.stat().st_size

    @property
    def rows(self) -> int:
        """Rows waiting in the spool."""
        return sum(self._rows.values())

    def append(self, rows: list[Row]) -> bool:
        """Write ``rows`` as one new segment; ``False`` (nothing written) if over the bound."""
        if not rows:
            return True
        payload = b"".join(orjson.dumps(row) + b"\n" for row in rows)
        if self._bytes + len(payload) > self.max_bytes:
            return False
        segment = self.folder / f"{time.time_ns():020d}-{os.getpid()}{SEGMENT_SUFFIX}"
        partial = segment.with_suffix(".partial")
        with partial.open("wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        partial.replace(segment)
        self._rows[segment] = len(rows)
        self._bytes += len(payload)
        return True

    def oldest(self) -> tuple[Path, list[Row]] | None:
        """The oldest segment and its rows, or ``None`` when the spool is empty."""
        if not self._rows:
            return None
        segment = min(self._rows)
        rows = [tuple(orjson.loads(line)) for line in segment.read_bytes().splitlines() if line]
        return segment, rows

    def remove(self, segment: Path) -> None:
        """Forget a segment once its rows are in the database."""
        self._bytes -= segment.stat().st_size
        segment.unlink()
        del self._rows[segment]

    def _segments_on_disk(self) -> list[Path]:
        return sorted(self.folder.glob(f"*{SEGMENT_SUFFIX}"))


def _count_lines(segment: Path) -> int:
    return segment.read_bytes().count(b"\n")
