"""Configuration from the environment, and the CLI: bad values are one clear line, exit non-zero."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fraud_inference.settings import Settings, SettingsError

FRAUDCTL = str(Path(sys.executable).with_name("fraudctl"))


def test_defaults_bind_all_interfaces_on_8080() -> None:
    settings = Settings.from_env({})

    assert (settings.host, settings.port, settings.max_batch_rows) == ("0.0.0.0", 8080, 10_000)


def test_pod_ip_is_the_bind_address_when_host_is_unset() -> None:
    assert Settings.from_env({"POD_IP": "10.1.2.3"}).host == "10.1.2.3"


def test_environment_names_map_to_settings(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "MODEL_URI": "models:/fraud@champion",
            "MLFLOW_TRACKING_URI": "http://mlflow:5000",
            "REDIS_URL": "redis://redis:6379/0",
            "DATABASE_URL": "postgresql://u@db/fraud",
            "ADMIN_TOKEN": "t",
            "MAX_BATCH_ROWS": "500",
            "TOP_K_FEATURES": "3",
            "AUDIT_SPOOL_DIR": str(tmp_path),
            "MODEL_NAME": "fraud",
        }
    )

    assert settings.model_uri == "models:/fraud@champion"
    assert settings.max_batch_rows == 500 and settings.top_k_features == 3
    assert settings.audit_spool_dir == tmp_path and settings.model_name == "fraud"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "http"}, "PORT: must be an integer"),
        ({"MAX_BATCH_ROWS": "0"}, "MAX_BATCH_ROWS: must be between 1"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL: must be a postgresql:// URL"),
        ({"EXPLAIN_METHOD": "lime"}, "EXPLAIN_METHOD: must be one of path, exact"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "0"], "--port"),
        (["--model-uri", "/m", "--database-url", "sqlite:///x"], "DATABASE_URL"),
        ([], "model_uri: pass --model-uri or set MODEL_URI"),
    ],
)
def test_fraudctl_serve_rejects_bad_options_in_one_line(args: list[str], message: str) -> None:
    result = subprocess.run(
        [FRAUDCTL, "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )

    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_the_container_entry_point_rejects_a_bad_environment_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fraud_inference"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PORT": "eighty"},
    )

    assert result.returncode == 2
    assert result.stderr.strip() == "error: PORT: must be an integer, got 'eighty'"
