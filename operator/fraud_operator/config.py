"""What the operator is told by its own Deployment (environment), read once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OperatorConfig:
    """Cluster-wide settings the FraudModel spec does not carry.

    ``serving_env`` is handed to every serving pod: where Redis and PostgreSQL are.
    """

    tracking_uri: str = "http://mlflow.fraudops-system.svc:5000"
    serving_env: dict[str, str] = field(default_factory=dict)
    job_ttl_seconds: int = 86_400
    operator_namespace: str = "fraudops-system"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> OperatorConfig:
        """Read ``FRAUDOPS_*`` variables; ``FRAUDOPS_SERVING_ENV_<NAME>`` becomes ``<NAME>``."""
        env = dict(os.environ if environ is None else environ)
        prefix = "FRAUDOPS_SERVING_ENV_"
        defaults = cls()
        return cls(
            tracking_uri=env.get("MLFLOW_TRACKING_URI", defaults.tracking_uri),
            serving_env={k[len(prefix) :]: v for k, v in env.items() if k.startswith(prefix)},
            job_ttl_seconds=int(env.get("FRAUDOPS_JOB_TTL_SECONDS", defaults.job_ttl_seconds)),
            operator_namespace=env.get("FRAUDOPS_NAMESPACE", defaults.operator_namespace),
        )
