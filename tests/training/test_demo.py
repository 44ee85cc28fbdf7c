"""The local main job run twice: version 1 becomes champion, version 2 only if its gate passes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fraud_training.choices import CHALLENGER, CHAMPION
from fraud_training.demo import run_demo
from fraud_training.tracking import local_store

DEMO_ROWS = 12_000


def test_second_run_promotes_version_2_only_if_the_gate_passes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    client = local_store(tmp_path / "mlflow").client()

    assert run_demo(tmp_path, DEMO_ROWS, "fraud-demo") is True
    assert int(client.get_model_version_by_alias("fraud-demo", CHAMPION).version) == 1

    second_passed = run_demo(tmp_path, DEMO_ROWS, "fraud-demo")
    version_2 = client.get_model_version("fraud-demo", "2")
    aliases = client.get_registered_model("fraud-demo").aliases
    assert version_2.tags["gate"] == ("passed" if second_passed else "failed")
    if second_passed:
        assert {a: int(v) for a, v in aliases.items()} == {CHAMPION: 2}
    else:
        assert {a: int(v) for a, v in aliases.items()} == {CHAMPION: 1, CHALLENGER: 2}
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == [
        "transactions-1.parquet",
        "transactions-2.parquet",
    ]
