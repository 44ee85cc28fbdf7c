"""Errors a user can act on. The CLI prints their message and exits non-zero, never a traceback."""

from __future__ import annotations


class FraudOpsError(Exception):
    """A problem with the user's input or environment, stated so a person can fix it."""

    exit_code = 2


class DataError(FraudOpsError):
    """The data cannot be read, mapped or does not pass validation."""


class RegistryError(FraudOpsError):
    """The MLflow registry does not hold what was asked for."""


class GateFailed(FraudOpsError):
    """A model version did not pass the validation gate."""

    exit_code = 1
