"""A retraining Job trains on its configured data plus the labelled production window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fraud_training.errors import FraudOpsError
from fraud_training.generator import GeneratorConfig, generate_transactions
from fraud_training.generator.stream import write_transactions
from fraud_training.job import training_config, with_recent_production
from fraud_training.loaders import load_dataset
from monitoring_data import NOW

pytestmark = pytest.mark.services

SPEC = {"data": {"uri": "/unused"}, "registry": {"modelName": "fraud-detector"}}


@pytest.fixture
def configured(tmp_path: Path) -> Path:
    frame = generate_transactions(GeneratorConfig(rows=2000, seed=4))
    return write_transactions(frame, tmp_path / "configured.parquet")


def test_the_labelled_window_is_added_to_the_configured_data(
    tmp_path: Path,
    configured: Path,
    audit_database: str,
    fill_audit: Callable[..., list[str]],
) -> None:
    ids = fill_audit(1000, labelled=300)
    environ = {"FRAUDOPS_PRODUCTION_WINDOW": "2h", "DATABASE_URL": audit_database}

    config = with_recent_production(training_config(SPEC, configured), tmp_path, environ, NOW)

    trained_on = load_dataset(config.data, data_format=config.data_format).frame
    assert len(trained_on) == 2000 + 300
    assert set(ids[:300]) <= set(trained_on["transaction_id"])
    assert not set(ids[300:]) & set(trained_on["transaction_id"])  # unlabelled rows stay out


def test_without_a_window_the_configured_data_is_used_as_it_is(
    tmp_path: Path, configured: Path
) -> None:
    config = training_config(SPEC, configured)

    assert with_recent_production(config, tmp_path, {}, NOW) == config


def test_another_models_predictions_are_not_added(
    tmp_path: Path,
    configured: Path,
    audit_database: str,
    fill_audit: Callable[..., list[str]],
) -> None:
    fill_audit(1000, labelled=300)
    spec = {**SPEC, "registry": {"modelName": "another-model"}}
    environ = {"FRAUDOPS_PRODUCTION_WINDOW": "2h", "DATABASE_URL": audit_database}
    config = training_config(spec, configured)

    assert with_recent_production(config, tmp_path, environ, NOW) == config


def test_a_window_without_a_database_is_an_error_naming_both(
    tmp_path: Path, configured: Path
) -> None:
    config = training_config(SPEC, configured)

    with pytest.raises(FraudOpsError, match="FRAUDOPS_PRODUCTION_WINDOW is set but DATABASE_URL"):
        with_recent_production(config, tmp_path, {"FRAUDOPS_PRODUCTION_WINDOW": "1d"}, NOW)
