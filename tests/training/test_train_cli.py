"""``fraudctl train``, ``validate``, ``promote`` and ``models list`` as a user runs them: what
they print and the exit codes scripts and the operator rely on (0 ok, 1 gate failed, 2 user
error)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fraud_training.choices import CHAMPION
from fraud_training.cli import main
from fraud_training.tracking import TrackingTarget
from mlflow.tracking import MlflowClient
from training_setup import MODEL_NAME

FRAUDCTL = Path(sys.executable).with_name("fraudctl")


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


@pytest.fixture
def fraudctl(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    local_tracking: TrackingTarget,
) -> Callable[..., Outcome]:
    """Run the CLI in this process against the session's tracking store. Messages wrap at 80
    columns, so ``err`` comes back with its whitespace collapsed."""

    def run(*args: str) -> Outcome:
        argv = ["fraudctl", *args, "--tracking-uri", local_tracking.tracking_uri]
        monkeypatch.setattr(sys, "argv", argv)
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, " ".join(captured.err.split()))

    return run


def test_train_prints_the_metrics_and_registers_a_version(
    transactions_file: Path, local_tracking: TrackingTarget, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.json"
    completed = subprocess.run(
        [
            str(FRAUDCTL),
            "train",
            str(transactions_file),
            "--name",
            "fraud-cli",
            "--param",
            "n_estimators=30",
            "--tracking-uri",
            local_tracking.tracking_uri,
            "--summary-out",
            str(summary),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    written = json.loads(summary.read_text())
    assert f"{written['metrics']['roc_auc']:.4f}" in completed.stdout
    assert f"{written['metrics']['pr_auc']:.4f}" in completed.stdout
    assert "ROC-AUC" in completed.stdout and "PR-AUC" in completed.stdout
    assert "registered fraud-cli version 1" in completed.stdout
    assert "Traceback" not in completed.stderr


def test_train_on_bad_data_exits_2_naming_the_problem_and_registers_nothing(
    fraudctl: Callable[..., Outcome], client: MlflowClient, weak_version: object, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "transaction_id,customer_id,timestamp,amount,merchant_category,is_fraud\n"
        "t1,c1,2026-01-01T00:00:00Z,-12.50,casino,0\n"
    )
    before = len(client.search_model_versions(f"name = '{MODEL_NAME}'"))
    outcome = fraudctl("train", str(bad), "--name", MODEL_NAME)
    assert outcome.code == 2
    assert "amount: must be >= 0" in outcome.err
    assert "Traceback" not in outcome.err
    assert len(client.search_model_versions(f"name = '{MODEL_NAME}'")) == before


def test_train_refuses_an_unknown_hyperparameter_by_name(
    fraudctl: Callable[..., Outcome], transactions_file: Path
) -> None:
    outcome = fraudctl("train", str(transactions_file), "--param", "max_dept=3")
    assert outcome.code == 2
    assert "'max_dept' is not a parameter" in outcome.err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--risk-label-delay-days", "0", "--risk-label-delay-days: must be > 0"),
        ("--risk-window", "7x", "--risk-window: '7x' is not a window"),
        ("--risk-smoothing", "-1", "--risk-smoothing: must be a number >= 0"),
        ("--entity-window", "7x", "--entity-window: '7x' is not a window"),
        ("--pair-window", "7x", "--pair-window: '7x' is not a window"),
    ],
)
def test_train_refuses_a_bad_risk_feature_option_in_one_line(
    fraudctl: Callable[..., Outcome], transactions_file: Path, option: str, value: str, message: str
) -> None:
    outcome = fraudctl("train", str(transactions_file), option, value)
    assert outcome.code == 2
    assert message in outcome.err
    assert "Traceback" not in outcome.err


def test_train_refuses_a_risk_entity_the_data_does_not_have(
    fraudctl: Callable[..., Outcome], transactions_file: Path
) -> None:
    outcome = fraudctl("train", str(transactions_file), "--risk-entity", "email_domain")
    assert outcome.code == 2
    assert "--risk-entity email_domain: the data has no such column" in outcome.err
    assert "Traceback" not in outcome.err


def test_train_refuses_a_missing_file(fraudctl: Callable[..., Outcome], tmp_path: Path) -> None:
    outcome = fraudctl("train", str(tmp_path / "nothing.csv"))
    assert outcome.code == 2
    assert "no such file" in outcome.err


def test_validate_exits_0_when_every_check_passes(
    fraudctl: Callable[..., Outcome], no_aliases: None
) -> None:
    outcome = fraudctl("validate", "--version", "1", "--name", MODEL_NAME)
    assert outcome.code == 0, outcome.err
    for check in ("probabilities_valid", "min_roc_auc", "min_pr_auc", "no_regression_vs_champion"):
        assert check in outcome.out
    assert "FAIL" not in outcome.out
    assert "may be promoted" in outcome.out


def test_validate_exits_1_and_names_the_failed_check(
    fraudctl: Callable[..., Outcome], no_aliases: None
) -> None:
    outcome = fraudctl("validate", "--version", "1", "--name", MODEL_NAME, "--min-pr-auc", "0.999")
    assert outcome.code == 1
    assert "FAIL" in outcome.out
    assert "failed the gate: min_pr_auc" in outcome.err


def test_validate_with_promote_makes_a_passing_version_champion(
    fraudctl: Callable[..., Outcome], no_aliases: None, client: MlflowClient
) -> None:
    outcome = fraudctl("validate", "--version", "1", "--name", MODEL_NAME, "--promote")
    assert outcome.code == 0, outcome.err
    assert int(client.get_model_version_by_alias(MODEL_NAME, CHAMPION).version) == 1


def test_validate_with_promote_leaves_the_champion_when_the_gate_fails(
    fraudctl: Callable[..., Outcome], no_aliases: None, client: MlflowClient
) -> None:
    fraudctl("promote", "--version", "1", "--name", MODEL_NAME)
    outcome = fraudctl("validate", "--version", "2", "--name", MODEL_NAME, "--promote")
    assert outcome.code == 1
    assert int(client.get_model_version_by_alias(MODEL_NAME, CHAMPION).version) == 1


def test_validate_of_an_unknown_version_exits_2(
    fraudctl: Callable[..., Outcome], no_aliases: None
) -> None:
    outcome = fraudctl("validate", "--version", "42", "--name", MODEL_NAME)
    assert outcome.code == 2
    assert "has no version 42" in outcome.err


def test_promote_prints_the_move(fraudctl: Callable[..., Outcome], no_aliases: None) -> None:
    fraudctl("promote", "--version", "1", "--name", MODEL_NAME)
    outcome = fraudctl("promote", "--version", "2", "--alias", "champion", "--name", MODEL_NAME)
    assert outcome.code == 0
    assert f"{MODEL_NAME}@champion -> version 2 (was version 1)" in outcome.out


def test_promote_refuses_a_stage_name(fraudctl: Callable[..., Outcome], no_aliases: None) -> None:
    outcome = fraudctl("promote", "--version", "1", "--alias", "Production", "--name", MODEL_NAME)
    assert outcome.code == 2
    assert "'Production' is not one of champion, challenger" in outcome.err


def test_models_list_shows_versions_aliases_and_metrics(
    fraudctl: Callable[..., Outcome], no_aliases: None
) -> None:
    fraudctl("promote", "--version", "1", "--name", MODEL_NAME)
    outcome = fraudctl("models", "list", "--name", MODEL_NAME)
    assert outcome.code == 0
    lines = outcome.out.splitlines()
    version_one = next(line for line in lines if line.startswith(" 1 "))
    assert "champion" in version_one
    assert "xgboost" in version_one


def test_models_list_of_an_unknown_model_exits_2(fraudctl: Callable[..., Outcome]) -> None:
    outcome = fraudctl("models", "list", "--name", "nobody")
    assert outcome.code == 2
    assert "no registered model 'nobody'" in outcome.err
