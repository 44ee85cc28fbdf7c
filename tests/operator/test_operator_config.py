"""The operator's own settings, read from its Deployment's environment."""

from __future__ import annotations

import pytest
from fraud_operator.config import ConfigError, OperatorConfig, SecretKey


def test_serving_env_variables_become_the_serving_pods_variables() -> None:
    config = OperatorConfig.from_env({"FRAUDOPS_SERVING_ENV_REDIS_URL": "redis://r:6379/0"})

    assert config.serving_env == {"REDIS_URL": "redis://r:6379/0"}
    assert config.serving_secrets == {}


def test_serving_secret_variables_name_a_secret_and_its_key() -> None:
    config = OperatorConfig.from_env({"FRAUDOPS_SERVING_SECRET_DATABASE_URL": "fraudops-db/url"})

    assert config.serving_secrets == {"DATABASE_URL": SecretKey("fraudops-db", "url")}
    assert config.serving_env == {}


@pytest.mark.parametrize("value", ["fraudops-db", "Fraudops/url", "fraudops-db/", "db/u rl"])
def test_a_malformed_secret_reference_is_an_error_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="FRAUDOPS_SERVING_SECRET_DATABASE_URL: expected"):
        OperatorConfig.from_env({"FRAUDOPS_SERVING_SECRET_DATABASE_URL": value})


def test_one_variable_given_both_plain_and_from_a_secret_is_an_error() -> None:
    env = {
        "FRAUDOPS_SERVING_ENV_DATABASE_URL": "postgresql://db/fraudops",
        "FRAUDOPS_SERVING_SECRET_DATABASE_URL": "fraudops-db/url",
    }

    with pytest.raises(ConfigError, match="both set"):
        OperatorConfig.from_env(env)


@pytest.mark.parametrize("value", ["a day", "-5"])
def test_a_job_ttl_that_is_not_whole_seconds_is_an_error_naming_it(value: str) -> None:
    with pytest.raises(ConfigError, match="FRAUDOPS_JOB_TTL_SECONDS"):
        OperatorConfig.from_env({"FRAUDOPS_JOB_TTL_SECONDS": value})


def test_the_metrics_port_defaults_to_8080_and_0_turns_the_exporter_off() -> None:
    assert OperatorConfig.from_env({}).metrics_port == 8080
    assert OperatorConfig.from_env({"FRAUDOPS_METRICS_PORT": "0"}).metrics_port == 0


def test_the_metrics_are_served_on_every_interface_unless_a_host_is_named() -> None:
    assert OperatorConfig.from_env({}).metrics_host == "0.0.0.0"
    assert OperatorConfig.from_env({"FRAUDOPS_METRICS_HOST": "127.0.0.1"}).metrics_host == (
        "127.0.0.1"
    )


@pytest.mark.parametrize("value", ["http", "-1", "70000"])
def test_a_metrics_port_that_is_no_port_number_is_an_error_naming_it(value: str) -> None:
    with pytest.raises(ConfigError, match="FRAUDOPS_METRICS_PORT"):
        OperatorConfig.from_env({"FRAUDOPS_METRICS_PORT": value})
