"""The on-disk audit spool: bounded, replayed oldest first, kept across restarts."""

from __future__ import annotations

from pathlib import Path

from fraud_inference.audit.spool import AuditSpool


def test_lines_come_back_oldest_segment_first(tmp_path: Path) -> None:
    spool = AuditSpool(tmp_path, max_bytes=1_000_000)
    spool.append([b"a\t1\n"])
    spool.append([b"b\t2\n", b"c\t3\n"])

    segment, data, count = spool.oldest()
    spool.remove(segment)

    assert (data, count) == (b"a\t1\n", 1)
    assert spool.oldest()[1:] == (b"b\t2\nc\t3\n", 2)
    assert spool.rows == 2


def test_a_full_spool_refuses_lines_instead_of_filling_the_disk(tmp_path: Path) -> None:
    spool = AuditSpool(tmp_path, max_bytes=40)

    assert spool.append([b"x" * 10 + b"\n"]) is True
    assert spool.append([b"y" * 30 + b"\n"]) is False
    assert spool.rows == 1


def test_segments_left_by_a_previous_process_are_picked_up(tmp_path: Path) -> None:
    AuditSpool(tmp_path, max_bytes=1_000_000).append([b"a\n", b"b\n"])

    reopened = AuditSpool(tmp_path, max_bytes=1_000_000)

    assert reopened.rows == 2
    assert reopened.oldest()[1] == b"a\nb\n"
