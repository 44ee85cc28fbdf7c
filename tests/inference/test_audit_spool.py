"""The on-disk audit spool: bounded, replayed oldest first, kept across restarts."""

from __future__ import annotations

from pathlib import Path

from fraud_inference.audit.spool import AuditSpool


def test_rows_come_back_oldest_segment_first(tmp_path: Path) -> None:
    spool = AuditSpool(tmp_path, max_bytes=1_000_000)
    spool.append([("a", 1.5, True)])
    spool.append([("b", 2.5, False), ("c", None, True)])

    segment, rows = spool.oldest()
    spool.remove(segment)

    assert rows == [("a", 1.5, True)]
    assert spool.oldest()[1] == [("b", 2.5, False), ("c", None, True)]
    assert spool.rows == 2


def test_a_full_spool_refuses_rows_instead_of_filling_the_disk(tmp_path: Path) -> None:
    spool = AuditSpool(tmp_path, max_bytes=40)

    assert spool.append([("x" * 10,)]) is True
    assert spool.append([("y" * 30,)]) is False
    assert spool.rows == 1


def test_segments_left_by_a_previous_process_are_picked_up(tmp_path: Path) -> None:
    AuditSpool(tmp_path, max_bytes=1_000_000).append([("a",), ("b",)])

    reopened = AuditSpool(tmp_path, max_bytes=1_000_000)

    assert reopened.rows == 2
    assert reopened.oldest()[1] == [("a",), ("b",)]
