"""Service configuration from environment variables (12-factor), checked once at start-up.

The operator deploys the service as a Deployment or a KServe custom predictor and configures it
only through the environment; ``fraudctl serve`` options override the same names. A bad value
stops the start with a message naming the variable, before any port is bound.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fraud_training.errors import FraudOpsError

DEFAULT_PORT = 8080
DEFAULT_MODEL_NAME = "fraud-detector"
#: How top_features are computed (see :mod:`fraud_inference.explain`).
EXPLAIN_METHODS = ("path", "exact")
#: Which predictor scores (see :mod:`fraud_inference.predictor`): ``auto`` picks the compiled one
#: (the serving payload's, checked when the bundle was saved); ``estimator`` forces the bundle's
#: own (an escape hatch, and the "before" of the serving benchmark; needs the training stack).
PREDICTOR_CHOICES = ("auto", "estimator")


class SettingsError(FraudOpsError):
    """An environment variable or option has a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    model_uri: str | None = None
    tracking_uri: str | None = None
    model_name: str = DEFAULT_MODEL_NAME
    redis_url: str | None = None
    database_url: str | None = None
    admin_token: str | None = None
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    max_batch_rows: int = 10_000
    top_k_features: int = 5
    explain_method: str = "path"
    predictor: str = "auto"
    audit_spool_dir: Path = Path("/tmp/fraudops-audit-spool")
    audit_spool_max_mb: int = 512
    audit_queue_rows: int = 100_000
    audit_batch_rows: int = 1_000
    audit_linger_s: float = 0.002
    redis_timeout_s: float = 0.1
    online_state_ttl_days: int = 90
    log_level: str = "info"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``env`` (default: the process environment); unset names keep defaults."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {
            "model_uri": env.get("MODEL_URI") or None,
            "tracking_uri": env.get("MLFLOW_TRACKING_URI") or None,
            "model_name": env.get("MODEL_NAME") or DEFAULT_MODEL_NAME,
            "redis_url": env.get("REDIS_URL") or None,
            "database_url": env.get("DATABASE_URL") or None,
            "admin_token": env.get("ADMIN_TOKEN") or None,
            "host": env.get("HOST") or env.get("POD_IP") or cls.host,
            "port": _integer(env, "PORT", DEFAULT_PORT, 1, 65_535),
            "max_batch_rows": _integer(env, "MAX_BATCH_ROWS", cls.max_batch_rows, 1, 1_000_000),
            "top_k_features": _integer(env, "TOP_K_FEATURES", cls.top_k_features, 0, 100),
            "explain_method": (env.get("EXPLAIN_METHOD") or cls.explain_method).lower(),
            "predictor": (env.get("PREDICTOR") or cls.predictor).lower(),
            "audit_spool_dir": Path(env.get("AUDIT_SPOOL_DIR") or cls.audit_spool_dir),
            "audit_spool_max_mb": _integer(
                env, "AUDIT_SPOOL_MAX_MB", cls.audit_spool_max_mb, 1, 1_000_000
            ),
            "audit_queue_rows": _integer(
                env, "AUDIT_QUEUE_ROWS", cls.audit_queue_rows, 100, 10_000_000
            ),
            "audit_batch_rows": _integer(env, "AUDIT_BATCH_ROWS", cls.audit_batch_rows, 1, 100_000),
            "audit_linger_s": _number(env, "AUDIT_LINGER_S", cls.audit_linger_s, 0.0, 10.0),
            "redis_timeout_s": _number(env, "REDIS_TIMEOUT_S", cls.redis_timeout_s, 0.001, 10.0),
            "online_state_ttl_days": _integer(
                env, "ONLINE_STATE_TTL_DAYS", cls.online_state_ttl_days, 8, 3_650
            ),
            "log_level": (env.get("LOG_LEVEL") or cls.log_level).lower(),
        }
        return cls(**values).checked()

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given fields replaced (``None`` keeps the current value), re-checked."""
        given = {name: value for name, value in overrides.items() if value is not None}
        return replace(self, **given).checked()

    def checked(self) -> Settings:
        """This settings object, after checks that span more than one variable."""
        if self.database_url and not self.database_url.startswith(("postgresql://", "postgres://")):
            raise SettingsError(
                f"DATABASE_URL: must be a postgresql:// URL, got {self.database_url.split(':')[0]}:"
            )
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("REDIS_URL: must start with redis://, rediss:// or unix://")
        if self.log_level not in {"critical", "error", "warning", "info", "debug"}:
            raise SettingsError(
                f"LOG_LEVEL: must be one of critical, error, warning, info, debug; "
                f"got {self.log_level!r}"
            )
        if self.explain_method not in EXPLAIN_METHODS:
            raise SettingsError(
                f"EXPLAIN_METHOD: must be one of {', '.join(EXPLAIN_METHODS)}; "
                f"got {self.explain_method!r}"
            )
        if self.predictor not in PREDICTOR_CHOICES:
            raise SettingsError(
                f"PREDICTOR: must be one of {', '.join(PREDICTOR_CHOICES)}; got {self.predictor!r}"
            )
        if not 1 <= self.port <= 65_535:
            raise SettingsError(f"PORT: must be between 1 and 65535, got {self.port}")
        return self


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}: must be between {low} and {high}, got {value}")
    return value


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}: must be between {low} and {high}, got {value}")
    return value
