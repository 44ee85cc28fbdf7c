"""``fraudctl monitor``: the production-monitor report in the terminal, HTML on request (one run
of the installed console script; the rest call the command in process)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fraud_training.commands.monitor import monitor
from fraud_training.errors import FraudOpsError

pytestmark = pytest.mark.services

FRAUDCTL = Path(sys.executable).with_name("fraudctl")


def fraudctl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the console script; output comes back with rich's line wrapping undone."""
    result = subprocess.run(
        [str(FRAUDCTL), "monitor", *map(str, args)], capture_output=True, text=True, timeout=300
    )
    result.stdout, result.stderr = (" ".join(out.split()) for out in (result.stdout, result.stderr))
    return result


def test_monitor_prints_the_verdict_drift_and_live_lines_and_writes_the_html(
    audit_database: str, fill_audit: Callable[..., list[str]], bundle_folder: Path, tmp_path: Path
) -> None:
    fill_audit(3000, labelled=300, amount_shift=0.8, end=datetime.now(UTC))
    page = tmp_path / "out" / "report.html"

    result = fraudctl(
        "--hours",
        "24",
        "--database-url",
        audit_database,
        "--model-uri",
        bundle_folder,
        "--report",
        page,
    )

    assert result.returncode == 0, result.stderr
    assert "verdict: DRIFTING rows 3,000" in result.stdout
    assert "drifted amount" in result.stdout
    assert "live: precision 100.0% recall 100.0%" in result.stdout
    assert "labelled 300" in result.stdout
    assert "DRIFTING" in page.read_text()


def test_monitor_json_is_the_status_document(
    audit_database: str,
    fill_audit: Callable[..., list[str]],
    bundle_folder: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fill_audit(200, end=datetime.now(UTC))

    monitor(hours=1, database_url=audit_database, model_uri=str(bundle_folder), as_json=True)

    document = json.loads(capsys.readouterr().out)
    assert (document["verdict"], document["rows"], document["driftScore"]) == (
        "not enough data",
        200,
        None,
    )


def test_monitor_without_a_database_url_names_it(
    bundle_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)

    with pytest.raises(FraudOpsError, match="database-url: give --database-url"):
        monitor(model_uri=str(bundle_folder))


def test_monitor_against_an_unreachable_database_names_it(bundle_folder: Path) -> None:
    with pytest.raises(FraudOpsError, match="database-url: cannot connect"):
        monitor(database_url="postgresql://nobody@127.0.0.1:1/none", model_uri=str(bundle_folder))


def test_monitor_refuses_bands_out_of_order(bundle_folder: Path) -> None:
    with pytest.raises(FraudOpsError, match="psi bands"):
        monitor(
            database_url="postgresql://h/d",
            model_uri=str(bundle_folder),
            psi_moderate=0.5,
            psi_major=0.2,
        )
