"""Loaders: our files, the ULB credit-card file and mapped CSVs become one validated Dataset."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fraud_training.errors import DataError
from fraud_training.generator import GeneratorConfig, generate_transactions, write_transactions
from fraud_training.loaders import ColumnMapping, load_dataset
from fraud_training.schema import (
    CREDITCARD_COLUMNS,
    CREDITCARD_PCA_COLUMNS,
    LABEL,
    OPTIONAL_DEFAULTS,
    PATTERN,
    REQUIRED_FIELDS,
    TRANSACTION_FIELDS,
)
from training_setup import ULB_FILE


@pytest.fixture(scope="module")
def generated() -> pd.DataFrame:
    return generate_transactions(GeneratorConfig(rows=3_000, seed=31))


@pytest.fixture
def bank_export(tmp_path, generated) -> Path:
    """A bank's CSV with its own column names and epoch-second times."""
    frame = pd.DataFrame(
        {
            "ref": generated["transaction_id"],
            "card": generated["customer_id"],
            "epoch": generated["timestamp"].astype("int64") // 10**9,
            "eur": generated["amount"],
            "chargeback": generated[LABEL],
            "mcc_group": generated["merchant_category"],
            "risk_score": np.where(np.arange(len(generated)) % 7 == 0, np.nan, 0.5),
            "product": np.where(np.arange(len(generated)) % 2 == 0, "W", "C"),
        }
    )
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    return path


BANK_MAPPING = {
    "transaction_id": "ref",
    "customer_id": "card",
    "timestamp": "epoch",
    "amount": "eur",
    LABEL: "chargeback",
}


def ulb_rows(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        rng.normal(size=(n, len(CREDITCARD_PCA_COLUMNS))), columns=CREDITCARD_PCA_COLUMNS
    )
    frame.insert(0, "Time", np.arange(n) * 30.0)
    frame["Amount"] = np.round(rng.uniform(0, 300, n), 2)
    frame["Class"] = (np.arange(n) % 10 == 0).astype(int)
    return frame[list(CREDITCARD_COLUMNS)]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_our_files_load_back_as_generated(tmp_path, generated, suffix):
    path = write_transactions(generated, tmp_path / f"stream{suffix}")
    dataset = load_dataset(path)
    assert dataset.feature_set == "transactions"
    pd.testing.assert_frame_equal(dataset.frame, generated)


def test_sha256_is_the_hash_of_the_file_bytes(tmp_path, generated):
    path = write_transactions(generated, tmp_path / "stream.csv")
    assert load_dataset(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_missing_optional_columns_get_defaults_and_a_warning(tmp_path, generated, caplog):
    path = tmp_path / "minimal.csv"
    generated[[*REQUIRED_FIELDS, LABEL]].to_csv(path, index=False)
    with caplog.at_level(logging.WARNING, logger="fraud_training.loaders"):
        frame = load_dataset(path).frame
    assert list(frame.columns) == [*TRANSACTION_FIELDS, LABEL]
    for name, default in OPTIONAL_DEFAULTS.items():
        assert (frame[name] == default).all(), name
    assert "optional columns missing, filled with defaults: merchant_id='unknown'" in caplog.text


def test_empty_optional_values_get_the_default(tmp_path, generated, caplog):
    frame = generated.copy()
    frame.loc[[2, 5], "device_id"] = None
    path = tmp_path / "gaps.parquet"
    frame.to_parquet(path)
    with caplog.at_level(logging.WARNING, logger="fraud_training.loaders"):
        loaded = load_dataset(path).frame
    assert loaded.loc[[2, 5], "device_id"].tolist() == ["unknown", "unknown"]
    assert "device_id has 2 empty values" in caplog.text


def test_columns_outside_the_schema_are_dropped(tmp_path, generated):
    frame = generated.assign(note="internal")
    path = tmp_path / "extra.csv"
    frame.to_csv(path, index=False)
    assert "note" not in load_dataset(path).frame.columns


def test_text_ids_keep_leading_zeros(tmp_path, generated):
    frame = generated.assign(customer_id="007")
    path = tmp_path / "zeros.csv"
    frame.to_csv(path, index=False)
    assert (load_dataset(path).frame["customer_id"] == "007").all()


def test_ulb_file_becomes_the_creditcard_feature_set(tmp_path):
    rows = ulb_rows(40)
    rows = pd.concat([rows, rows.iloc[[3]]], ignore_index=True)  # an exact duplicate row
    path = tmp_path / "creditcard.csv.gz"
    rows.to_csv(path, index=False)
    dataset = load_dataset(path)
    frame = dataset.frame
    assert dataset.feature_set == "creditcard"
    assert list(frame.columns) == [*REQUIRED_FIELDS, *CREDITCARD_PCA_COLUMNS, LABEL]
    assert frame["transaction_id"].tolist()[:2] == ["00", "01"]
    assert frame["transaction_id"].is_unique
    assert (frame["customer_id"] == "unknown").all()
    assert frame["timestamp"].iloc[2] == pd.Timestamp("2013-09-01T00:01:00Z")
    assert frame["amount"].equals(rows["Amount"])
    assert frame[LABEL].equals(rows["Class"].astype(np.int64))


@pytest.mark.skipif(not ULB_FILE.exists(), reason="the ULB data set is not on this machine")
def test_the_real_ulb_file_loads_with_every_row():
    dataset = load_dataset(ULB_FILE)
    assert len(dataset.frame) == 284_807
    assert int(dataset.frame[LABEL].sum()) == 492
    assert dataset.frame["timestamp"].max() < pd.Timestamp("2013-09-03", tz="UTC")


def test_a_mapped_csv_with_epoch_seconds_loads(bank_export, generated):
    dataset = load_dataset(bank_export, mapping=ColumnMapping(BANK_MAPPING, timestamp_unit="s"))
    frame = dataset.frame
    assert dataset.feature_set == "transactions"
    assert frame["transaction_id"].equals(generated["transaction_id"])
    assert frame["timestamp"].equals(generated["timestamp"].dt.floor("s"))
    assert (frame["merchant_category"] == OPTIONAL_DEFAULTS["merchant_category"]).all()


def test_a_mapped_optional_field_is_used(bank_export, generated):
    mapping = ColumnMapping({**BANK_MAPPING, "merchant_category": "mcc_group"}, "s")
    frame = load_dataset(bank_export, mapping=mapping).frame
    assert frame["merchant_category"].equals(generated["merchant_category"])


def test_without_a_mapped_transaction_id_ids_are_row_numbers(bank_export):
    columns = {k: v for k, v in BANK_MAPPING.items() if k != "transaction_id"}
    frame = load_dataset(bank_export, mapping=ColumnMapping(columns, "s")).frame
    assert frame["transaction_id"].tolist()[:3] == ["0000", "0001", "0002"]


def test_feature_columns_pass_through_under_their_names_typed_by_their_values(bank_export):
    mapping = ColumnMapping(BANK_MAPPING, "s", features=("risk_score", "product"))
    dataset = load_dataset(bank_export, mapping=mapping)
    assert dataset.pass_through == {"risk_score": "numeric", "product": "categorical"}
    frame = dataset.frame
    assert frame["risk_score"].dtype == np.float64
    assert frame["risk_score"].isna().sum() == (len(frame) + 6) // 7  # empty stays missing
    assert set(frame["product"]) == {"W", "C"}


def test_a_feature_column_absent_from_the_file_is_named(bank_export):
    mapping = ColumnMapping(BANK_MAPPING, "s", features=("risk",))
    with pytest.raises(DataError, match=r"--feature column\(s\) not in the file: risk\."):
        load_dataset(bank_export, mapping=mapping)


@pytest.mark.parametrize(
    ("features", "problem"),
    [
        (("eur",), "--feature eur: the column is already mapped to amount"),
        (("merchant_id",), "--feature merchant_id: the name is one of our own fields"),
        (("log_amount",), "--feature log_amount: the name is one of our own fields"),
        (("product", "product"), "--feature: given more than once: product"),
    ],
)
def test_a_feature_that_clashes_with_the_mapping_is_refused(features, problem):
    with pytest.raises(DataError, match=problem):
        ColumnMapping(BANK_MAPPING, "s", features=features)


def test_a_yaml_mapping_lists_its_features(tmp_path, bank_export):
    path = tmp_path / "mapping.yaml"
    lines = [f"  {field}: {column}" for field, column in BANK_MAPPING.items()]
    path.write_text("columns:\n" + "\n".join(lines) + "\ntimestamp_unit: s\nfeatures: [product]\n")
    mapping = ColumnMapping.from_yaml(path).updated(ColumnMapping(features=("risk_score",)))
    assert mapping.features == ("product", "risk_score")
    assert set(load_dataset(bank_export, mapping=mapping).pass_through) == {"product", "risk_score"}


def test_a_mapping_naming_absent_columns_lists_the_file_columns(bank_export):
    mapping = ColumnMapping({**BANK_MAPPING, "amount": "amount_eur"}, "s")
    with pytest.raises(DataError) as caught:
        load_dataset(bank_export, mapping=mapping)
    message = str(caught.value)
    assert "mapped column(s) not in the file: amount='amount_eur'" in message
    assert (
        "The file's columns are: ref, card, epoch, eur, chargeback, mcc_group, risk_score"
        in message
    )


def test_a_mapping_leaving_required_fields_unmapped_names_them(bank_export):
    mapping = ColumnMapping({"customer_id": "card", "amount": "eur"})
    with pytest.raises(DataError, match="required field\\(s\\) not mapped: timestamp, is_fraud"):
        load_dataset(bank_export, mapping=mapping)


def test_a_mapping_without_a_label_is_enough_for_unlabelled_data(bank_export):
    columns = {k: v for k, v in BANK_MAPPING.items() if k != LABEL}
    dataset = load_dataset(bank_export, mapping=ColumnMapping(columns, "s"), require_label=False)
    assert LABEL not in dataset.frame.columns


def test_a_mapping_of_unknown_fields_is_refused():
    with pytest.raises(DataError, match="unknown field\\(s\\) amout; fields are: transaction_id"):
        ColumnMapping({"amout": "eur"})


@pytest.mark.parametrize("pair", ["amount", "=eur", "amount="])
def test_a_malformed_map_pair_is_refused(pair):
    with pytest.raises(DataError, match="is not of the form field=column"):
        ColumnMapping.from_pairs([pair])


def test_an_unknown_timestamp_unit_is_refused():
    with pytest.raises(DataError, match="timestamp_unit: 'hours' is not one of s, ms, us, ns"):
        ColumnMapping(BANK_MAPPING, timestamp_unit="hours")


def test_a_yaml_mapping_loads_and_map_pairs_override_it(tmp_path, bank_export, generated):
    mapping_file = tmp_path / "bank.yaml"
    lines = [f"  {field}: {column}" for field, column in BANK_MAPPING.items()]
    mapping_file.write_text("\n".join(["columns:", *lines, "timestamp_unit: s", ""]))
    mapping = ColumnMapping.from_yaml(mapping_file).updated(
        ColumnMapping.from_pairs(["merchant_category=mcc_group"])
    )
    frame = load_dataset(bank_export, mapping=mapping).frame
    assert mapping.timestamp_unit == "s"
    assert frame["merchant_category"].equals(generated["merchant_category"])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("columns: [a, b]\n", "expected a 'columns:' section"),
        ("columns: {amount: eur}\nunits: s\n", "unknown key(s) units"),
        ("columns: {amount: [\n", "not valid YAML"),
    ],
)
def test_a_bad_mapping_file_is_refused_saying_why(tmp_path, text, problem):
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    with pytest.raises(DataError) as caught:
        ColumnMapping.from_yaml(path)
    assert problem in str(caught.value)


def test_an_unrecognised_header_asks_for_a_mapping(bank_export):
    with pytest.raises(DataError, match=r"cannot tell the format .* give a column mapping"):
        load_dataset(bank_export)


def test_forcing_the_creditcard_format_on_other_data_names_the_missing_columns(tmp_path, generated):
    path = write_transactions(generated, tmp_path / "ours.csv")
    with pytest.raises(DataError, match="not the ULB credit-card file, it lacks Time, V1"):
        load_dataset(path, data_format="creditcard")


def test_validation_problems_name_the_file(tmp_path, generated):
    frame = generated.copy()
    frame.loc[4, "amount"] = -3.0
    path = tmp_path / "negative.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"negative\.csv: 3,000 rows failed validation"):
        load_dataset(path)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("absent.csv", None, "no such file"),
        ("data.json", "{}", "unknown file type"),
        ("empty.csv", "", "the file is empty"),
        ("broken.parquet", "not parquet", "cannot be read"),
    ],
)
def test_unreadable_inputs_are_refused_saying_why(tmp_path, name, content, problem):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError, match=problem):
        load_dataset(path)


def test_the_summary_counts_rows_frauds_span_customers_and_patterns(tmp_path, generated):
    summary = load_dataset(write_transactions(generated, tmp_path / "s.parquet")).summary()
    assert summary["rows"] == 3_000
    assert summary["frauds"] == int(generated[LABEL].sum())
    assert summary["fraud_rate"] == pytest.approx(generated[LABEL].mean())
    assert summary["customers"] == generated["customer_id"].nunique()
    assert 29 < summary["span_days"] <= 30
    assert sum(summary["patterns"].values()) == 3_000
    assert set(summary["patterns"]) == set(generated[PATTERN])


def test_entity_columns_are_kept_as_text_with_empty_values_missing(bank_export):
    mapping = ColumnMapping(BANK_MAPPING, "s", entities=("product",))
    dataset = load_dataset(bank_export, mapping=mapping)
    assert dataset.entities == ("product",)
    assert dataset.pass_through == {}
    assert set(dataset.frame["product"]) == {"W", "C"}


def test_an_entity_column_absent_from_the_file_is_named(bank_export):
    mapping = ColumnMapping(BANK_MAPPING, "s", entities=("ip_address",))
    with pytest.raises(DataError, match=r"--entity column\(s\) not in the file: ip_address\."):
        load_dataset(bank_export, mapping=mapping)


@pytest.mark.parametrize(
    ("features", "entities", "problem"),
    [
        ((), ("card",), "--entity card: the column is already mapped to customer_id"),
        (("product",), ("product",), "--entity product: the column is also a --feature"),
        ((), ("merchant_id",), "--entity merchant_id: the name is one of our own fields"),
        ((), ("merchant",), "--entity merchant: the name is one of our own fields or entities"),
        ((), ("product", "product"), "--entity: given more than once: product"),
    ],
)
def test_an_entity_that_clashes_with_the_mapping_is_refused(features, entities, problem):
    with pytest.raises(DataError, match=problem):
        ColumnMapping(BANK_MAPPING, "s", features=features, entities=entities)


def test_a_yaml_mapping_lists_its_entities(tmp_path):
    path = tmp_path / "mapping.yaml"
    lines = [f"  {field}: {column}" for field, column in BANK_MAPPING.items()]
    path.write_text("columns:\n" + "\n".join(lines) + "\nentities: [product]\n")
    mapping = ColumnMapping.from_yaml(path).updated(ColumnMapping(entities=("bin",)))
    assert mapping.entities == ("product", "bin")
