"""A bounded on-disk spool of audit lines that could not be written to PostgreSQL yet.

Lines (COPY text, see :mod:`fraud_inference.audit.records`) are written as segment files, to a
temporary name and then renamed so a crash never leaves half a segment, and replayed oldest
first once the database is back. Segments left by a previous process are picked up at start-up.
When the spool reaches its size bound, new lines are refused (and counted as dropped by the
caller) rather than filling the disk. A segment the database rejects as data is set aside under
another suffix, never replayed and never deleted.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

SEGMENT_SUFFIX = ".copy"
REJECTED_SUFFIX = ".rejected"


class AuditSpool:
    """Segments of spooled lines in ``folder``, at most ``max_bytes`` in all."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        folder.mkdir(parents=True, exist_ok=True)
        self._lines: dict[Path, int] = {}
        self._bytes = 0
        for segment in sorted(folder.glob(f"*{SEGMENT_SUFFIX}")):
            self._lines[segment] = segment.read_bytes().count(b"\n")
            self._bytes += segment.stat().st_size

    @property
    def rows(self) -> int:
        """Rows waiting in the spool."""
        return sum(self._lines.values())

    def append(self, lines: list[bytes]) -> bool:
        """Write ``lines`` as one new segment; ``False`` (nothing written) if over the bound."""
        if not lines:
            return True
        payload = b"".join(lines)
        if self._bytes + len(payload) > self.max_bytes:
            return False
        segment = self.folder / f"{time.time_ns():020d}-{os.getpid()}{SEGMENT_SUFFIX}"
        partial = segment.with_suffix(".partial")
        with partial.open("wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        partial.replace(segment)
        self._lines[segment] = len(lines)
        self._bytes += len(payload)
        return True

    def oldest(self) -> tuple[Path, bytes, int] | None:
        """The oldest segment, its content and its number of lines; ``None`` when empty."""
        if not self._lines:
            return None
        segment = min(self._lines)
        return segment, segment.read_bytes(), self._lines[segment]

    def remove(self, segment: Path) -> None:
        """Forget a segment once its rows are in the database."""
        self._bytes -= segment.stat().st_size
        segment.unlink()
        del self._lines[segment]

    def set_aside(self, segment: Path) -> Path:
        """Take a segment out of the spool without deleting it; return where it now is."""
        kept = segment.with_suffix(REJECTED_SUFFIX)
        self._bytes -= segment.stat().st_size
        segment.replace(kept)
        del self._lines[segment]
        return kept
