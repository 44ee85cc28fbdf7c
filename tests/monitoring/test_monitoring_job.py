"""``python -m fraud_training.monitoring``: one pass recorded in MLflow, the result for the
operator written where it is asked for, bad input a one-line exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fraud_training.monitoring.__main__ import main
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.services


def test_the_job_records_the_pass_in_mlflow_and_writes_its_result(
    audit_database: str,
    fill_audit: Callable[..., list[str]],
    bundle_folder: Path,
    mlflow_server: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fill_audit(3000, labelled=300, amount_shift=0.8, end=datetime.now(UTC))
    result_file = tmp_path / "termination-log"

    code = main(
        [
            *("--model-uri", str(bundle_folder)),
            *("--database-url", audit_database),
            *("--tracking-uri", mlflow_server.tracking_uri),
            *("--window", "2h", "--fraudmodel", "fraud/detector"),
            *("--result-file", str(result_file)),
        ]
    )

    assert code == 0
    result = json.loads(result_file.read_text())
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result
    assert result["driftedFeatures"] == ["amount"]
    assert result["labelledRows"] == 300
    run_id = result["report"].removeprefix("runs:/").split("/")[0]
    client = MlflowClient(mlflow_server.tracking_uri)
    run = client.get_run(run_id)
    assert run.data.tags["fraudops.monitor.verdict"] == "drifting"
    assert run.data.tags["fraudops.fraudmodel"] == "fraud/detector"
    assert run.data.metrics["drift_score"] == pytest.approx(result["driftScore"], abs=1e-4)
    artifacts = {a.path for a in client.list_artifacts(run_id, "monitoring")}
    assert artifacts == {"monitoring/report.html", "monitoring/result.json"}


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--window", "an hour"], "window"),
        (["--window", "1h", "--psi-moderate", "0.5", "--psi-major", "0.2"], "psi bands"),
        (["--window", "0h"], "window"),
    ],
)
def test_bad_options_exit_2_naming_them(
    arguments: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["--model-uri", "models:/x@champion", "--database-url", "postgresql://h/d", *arguments]
    )

    assert code == 2
    assert capsys.readouterr().err.startswith(f"error: {named}")


def test_without_a_database_the_job_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)

    assert main(["--model-uri", "models:/x@champion"]) == 2
    assert "database-url" in capsys.readouterr().err
