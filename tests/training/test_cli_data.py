"""``fraudctl generate`` and ``fraudctl check-data``, run as the installed console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

FRAUDCTL = Path(sys.executable).with_name("fraudctl")


def fraudctl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the console script; stdout and stderr come back with rich's line wrapping undone."""
    result = subprocess.run(
        [str(FRAUDCTL), *map(str, args)], capture_output=True, text=True, timeout=300
    )
    result.stdout, result.stderr = (" ".join(out.split()) for out in (result.stdout, result.stderr))
    return result


@pytest.fixture(scope="module")
def generated_csv(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "stream.csv"
    result = fraudctl(
        "generate", "--rows", "20000", "--fraud-rate", "0.01", "--seed", "5", "--out", out
    )
    assert result.returncode == 0, result.stderr
    return out


def test_generate_writes_the_requested_stream(generated_csv):
    frame = pd.read_csv(generated_csv)
    assert len(frame) == 20_000
    assert frame["is_fraud"].sum() == 200


def test_generate_reports_what_it_wrote(tmp_path):
    out = tmp_path / "small.parquet"
    result = fraudctl(
        "generate", "--rows", "2000", "--days", "14", "--customers", "100", "--out", out
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 2,000 transactions (40 fraudulent, 2.00%) for 100 customers" in result.stdout
    assert out.is_file()


def test_check_data_summarises_a_valid_file(generated_csv):
    result = fraudctl("check-data", generated_csv)
    assert result.returncode == 0, result.stderr
    for row in ("rows", "20,000", "frauds", "200", "fraud rate", "1.000%", "customers", "500"):
        assert row in result.stdout


def test_generate_refuses_a_fraud_rate_out_of_range_and_writes_nothing(tmp_path):
    out = tmp_path / "x.csv"
    result = fraudctl("generate", "--rows", "5000", "--fraud-rate", "0.2", "--out", out)
    assert result.returncode != 0
    assert "fraud_rate: must be between 0.001 and 0.05" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_generate_refuses_an_unknown_output_type(tmp_path):
    result = fraudctl("generate", "--rows", "5000", "--out", tmp_path / "x.xlsx")
    assert result.returncode != 0
    assert "must end in .csv or .parquet" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_check_data_names_every_broken_column_and_exits_non_zero(tmp_path, generated_csv):
    frame = pd.read_csv(generated_csv, dtype=str)
    frame.loc[3, "amount"] = "-20.00"
    frame.loc[8, "transaction_id"] = frame.loc[9, "transaction_id"]
    broken = tmp_path / "broken.csv"
    frame.to_csv(broken, index=False)
    result = fraudctl("check-data", broken)
    assert result.returncode != 0
    assert "amount: must be >= 0 — 1 row, e.g. row 3: -20.0" in result.stderr
    assert "transaction_id: must be unique (duplicated) — 2 rows, e.g. row 8" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_data_maps_a_foreign_csv(tmp_path, generated_csv):
    source = pd.read_csv(generated_csv)
    export = tmp_path / "export.csv"
    source.rename(columns={"customer_id": "card", "is_fraud": "cb"}).to_csv(export, index=False)
    result = fraudctl(
        "check-data",
        export,
        "--map",
        "customer_id=card",
        "--map",
        "is_fraud=cb",
        "--map",
        "timestamp=timestamp",
        "--map",
        "amount=amount",
    )
    assert result.returncode == 0, result.stderr
    assert "20,000" in result.stdout


def test_check_data_lists_the_columns_when_a_mapped_column_is_absent(generated_csv):
    result = fraudctl("check-data", generated_csv, "--map", "customer_id=card_number")
    assert result.returncode != 0
    assert "mapped column(s) not in the file: customer_id='card_number'" in result.stderr
    assert "The file's columns are: transaction_id, customer_id, timestamp" in result.stderr


def test_check_data_on_a_missing_file_says_so(tmp_path):
    result = fraudctl("check-data", tmp_path / "nowhere.csv")
    assert result.returncode != 0
    assert "no such file" in result.stderr


MAPPED = ("--map", "customer_id=customer_id", "--map", "timestamp=timestamp")
MAPPED += ("--map", "amount=amount", "--map", "is_fraud=is_fraud")


def test_check_data_lists_pass_through_features_with_their_kind(tmp_path, generated_csv):
    source = pd.read_csv(generated_csv)
    export = tmp_path / "export.csv"
    source.rename(columns={"lat": "geo_lat", "device_id": "browser"}).to_csv(export, index=False)
    result = fraudctl("check-data", export, *MAPPED, "--feature", "geo_lat", "--feature", "browser")
    assert result.returncode == 0, result.stderr
    assert "feature geo_lat" in result.stdout and "numeric" in result.stdout
    assert "feature browser" in result.stdout and "categorical" in result.stdout


def test_a_feature_that_is_also_a_mapped_column_is_one_line_and_a_non_zero_exit(generated_csv):
    result = fraudctl("check-data", generated_csv, *MAPPED, "--feature", "amount")
    assert result.returncode != 0
    assert "--feature amount: the column is already mapped to amount" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_data_lists_entity_columns_with_their_number_of_values(tmp_path, generated_csv):
    source = pd.read_csv(generated_csv)
    export = tmp_path / "export.csv"
    source.rename(columns={"device_id": "browser"}).to_csv(export, index=False)
    result = fraudctl("check-data", export, *MAPPED, "--entity", "browser")
    assert result.returncode == 0, result.stderr
    assert "entity browser" in result.stdout
    assert f"{source['device_id'].nunique():,} values" in result.stdout


def test_an_entity_that_is_also_a_mapped_column_is_one_line_and_a_non_zero_exit(generated_csv):
    result = fraudctl("check-data", generated_csv, *MAPPED, "--entity", "customer_id")
    assert result.returncode != 0
    assert "--entity customer_id: the column is already mapped to customer_id" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_absent_entity_column_is_one_line_and_a_non_zero_exit(generated_csv):
    result = fraudctl("check-data", generated_csv, *MAPPED, "--entity", "ip_address")
    assert result.returncode != 0
    assert "--entity column(s) not in the file: ip_address" in result.stderr
    assert "Traceback" not in result.stderr
