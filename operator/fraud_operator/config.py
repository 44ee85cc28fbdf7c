"""What the operator is told by its own Deployment (environment), read once at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

SERVING_ENV_PREFIX = "FRAUDOPS_SERVING_ENV_"
SERVING_SECRET_PREFIX = "FRAUDOPS_SERVING_SECRET_"
ALLOWED_TRACKING_URIS = "FRAUDOPS_ALLOWED_TRACKING_URIS"
# A Secret's name is a DNS subdomain; its keys are [-._a-zA-Z0-9]+ (the API server's rules).
_SECRET_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


class ConfigError(ValueError):
    """A ``FRAUDOPS_*`` variable the operator cannot use; the message names it."""


@dataclass(frozen=True)
class SecretKey:
    """One key of a Secret in the FraudModel's namespace."""

    name: str
    key: str


@dataclass(frozen=True)
class OperatorConfig:
    """Cluster-wide settings the FraudModel spec does not carry.

    ``serving_env`` is handed to every serving pod as plain values (where Redis is);
    ``serving_secrets`` as ``secretKeyRef`` (a database URL with a password), so the value never
    appears in the Deployment, only the Secret's name: the Secret has to exist in each namespace
    whose FraudModels serve.

    ``allowed_tracking_uris``: the MLflow servers a FraudModel's ``spec.registry.trackingUri`` may
    name (the operator's own is always allowed). Training, gate and serving pods talk to that
    server with the FraudModel's model, so an arbitrary URI would let anyone who may write a
    FraudModel point them at a server of their choosing.
    """

    tracking_uri: str = "http://mlflow.fraudops-system.svc:5000"
    serving_env: dict[str, str] = field(default_factory=dict)
    serving_secrets: dict[str, SecretKey] = field(default_factory=dict)
    job_ttl_seconds: int = 86_400
    operator_namespace: str = "fraudops-system"
    allowed_tracking_uris: tuple[str, ...] = ()
    #: Where ``/metrics`` is served (FRAUDOPS_METRICS_HOST, FRAUDOPS_METRICS_PORT); port 0
    #: serves none.
    metrics_host: str = "0.0.0.0"
    metrics_port: int = 8080

    def tracking_uri_allowed(self, uri: str) -> bool:
        """Whether a FraudModel may use the MLflow server at ``uri`` (trailing "/" ignored)."""
        allowed = {u.rstrip("/") for u in (self.tracking_uri, *self.allowed_tracking_uris)}
        return uri.rstrip("/") in allowed

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OperatorConfig:
        """Read ``FRAUDOPS_*`` variables: ``FRAUDOPS_SERVING_ENV_<NAME>=<value>`` and
        ``FRAUDOPS_SERVING_SECRET_<NAME>=<secret>/<key>`` become the serving pods' ``<NAME>``.

        Raises :class:`ConfigError` naming the variable that is wrong.
        """
        env = dict(os.environ if environ is None else environ)
        defaults = cls()
        plain = {
            k.removeprefix(SERVING_ENV_PREFIX): v
            for k, v in env.items()
            if k.startswith(SERVING_ENV_PREFIX)
        }
        secrets = {
            k.removeprefix(SERVING_SECRET_PREFIX): _secret_key(k, v)
            for k, v in env.items()
            if k.startswith(SERVING_SECRET_PREFIX)
        }
        if both := sorted(plain.keys() & secrets.keys()):
            raise ConfigError(
                f"{SERVING_ENV_PREFIX}{both[0]} and {SERVING_SECRET_PREFIX}{both[0]} are both "
                "set; keep one"
            )
        return cls(
            tracking_uri=env.get("MLFLOW_TRACKING_URI", defaults.tracking_uri),
            serving_env=plain,
            serving_secrets=secrets,
            job_ttl_seconds=_seconds(env, "FRAUDOPS_JOB_TTL_SECONDS", defaults.job_ttl_seconds),
            operator_namespace=env.get("FRAUDOPS_NAMESPACE", defaults.operator_namespace),
            allowed_tracking_uris=tuple(
                uri.strip() for uri in env.get(ALLOWED_TRACKING_URIS, "").split(",") if uri.strip()
            ),
            metrics_host=env.get("FRAUDOPS_METRICS_HOST", defaults.metrics_host),
            metrics_port=_port(env, "FRAUDOPS_METRICS_PORT", defaults.metrics_port),
        )


def _secret_key(variable: str, value: str) -> SecretKey:
    name, slash, key = value.partition("/")
    if not slash or not _SECRET_NAME.match(name) or not _SECRET_KEY.match(key):
        raise ConfigError(
            f"{variable}: expected <secret-name>/<key> (a DNS subdomain, then [-._a-zA-Z0-9]+), "
            f"got {value!r}"
        )
    return SecretKey(name, key)


def _seconds(env: Mapping[str, str], variable: str, default: int) -> int:
    raw = env.get(variable)
    if raw is None:
        return default
    try:
        seconds = int(raw)
    except ValueError:
        seconds = -1
    if seconds < 0:
        raise ConfigError(f"{variable}: expected a whole number of seconds >= 0, got {raw!r}")
    return seconds


def _port(env: Mapping[str, str], variable: str, default: int) -> int:
    raw = env.get(variable)
    if raw is None:
        return default
    port = int(raw) if raw.isdigit() else -1
    if not 0 <= port <= 65535:
        raise ConfigError(f"{variable}: expected a port number from 0 to 65535, got {raw!r}")
    return port
