"""The training configuration: one typed object for the CLI, the demo and the operator's Job.

The operator renders a ``FraudModel``'s ``training`` block into ``fraudctl train`` arguments;
every value arrives here and is checked once, with errors that name the option.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fraud_training.algorithms import ALGORITHMS, check_hyperparameters
from fraud_training.choices import (
    DEFAULT_ALGORITHM,
    DEFAULT_DECLINE_PRECISION,
    DEFAULT_ENTITY_WINDOWS,
    DEFAULT_EXPERIMENT,
    DEFAULT_FOLDS,
    DEFAULT_IMBALANCE,
    DEFAULT_LABEL_DELAY_DAYS,
    DEFAULT_MODEL_NAME,
    DEFAULT_PAIR_WINDOWS,
    DEFAULT_REVIEW_FEE,
    DEFAULT_RISK_LABEL_DELAY_DAYS,
    DEFAULT_RISK_SMOOTHING,
    DEFAULT_RISK_WINDOWS,
    DEFAULT_TEST_FRACTION,
    DEFAULT_VALIDATION_FRACTION,
    IMBALANCE_STRATEGIES,
)
from fraud_training.errors import FraudOpsError
from fraud_training.loaders import ColumnMapping
from fraud_training.risk_features import MERCHANT, RiskEntity, RiskFeatures, parse_windows
from fraud_training.splits import SPLIT_STRATEGIES


@dataclass(frozen=True)
class TrainingConfig:
    """Everything one training run needs to know."""

    #: A local file or an ``s3://bucket/key`` object (a string: ``Path`` would fold its ``//``).
    data: Path | str
    algorithm: str = DEFAULT_ALGORITHM
    imbalance: str = DEFAULT_IMBALANCE
    split: str = "time"
    folds: int = DEFAULT_FOLDS
    test_fraction: float = DEFAULT_TEST_FRACTION
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION
    label_delay_days: float = DEFAULT_LABEL_DELAY_DAYS
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    model_name: str = DEFAULT_MODEL_NAME
    experiment: str = DEFAULT_EXPERIMENT
    tracking_uri: str | None = None
    review_fee: float = DEFAULT_REVIEW_FEE
    decline_precision: float = DEFAULT_DECLINE_PRECISION
    mapping: ColumnMapping | None = None
    data_format: str = "auto"
    seed: int = 0
    summary_out: Path | None = None
    #: Risk features (transactions feature set): how old a transaction must be before its label
    #: counts, the windows of that delayed period, the smoothing toward the prior, the entities.
    risk_label_delay_days: float = DEFAULT_RISK_LABEL_DELAY_DAYS
    risk_windows: tuple[str, ...] = DEFAULT_RISK_WINDOWS
    risk_smoothing: float = DEFAULT_RISK_SMOOTHING
    risk_entities: tuple[RiskEntity, ...] = (MERCHANT,)
    #: Windows of the merchant's, the card's and each user-named entity's history.
    entity_windows: tuple[str, ...] = DEFAULT_ENTITY_WINDOWS
    #: Windows of the card x merchant pair's history.
    pair_windows: tuple[str, ...] = DEFAULT_PAIR_WINDOWS

    def __post_init__(self) -> None:
        choices = {
            "algorithm": (self.algorithm, tuple(ALGORITHMS)),
            "imbalance": (self.imbalance, IMBALANCE_STRATEGIES),
            "split": (self.split, SPLIT_STRATEGIES),
        }
        for option, (value, allowed) in choices.items():
            if value not in allowed:
                raise FraudOpsError(f"--{option}: {value!r} is not one of {', '.join(allowed)}")
        if not 0.0 < self.test_fraction < 1.0:
            raise FraudOpsError(
                f"--test-fraction: must be strictly between 0 and 1, got {self.test_fraction}"
            )
        if not 0.0 < self.validation_fraction < 1.0 - self.test_fraction:
            raise FraudOpsError(
                f"--validation-fraction: must be > 0 and below 1 - --test-fraction "
                f"({1.0 - self.test_fraction:g}), got {self.validation_fraction}"
            )
        if not self.label_delay_days >= 0 or self.label_delay_days == float("inf"):
            raise FraudOpsError(
                f"--label-delay-days: must be a number >= 0, got {self.label_delay_days}"
            )
        if self.folds < 2:
            raise FraudOpsError(f"--folds: need at least 2, got {self.folds}")
        if self.review_fee < 0:
            raise FraudOpsError(f"--review-fee: must be >= 0, got {self.review_fee}")
        if not 0.0 < self.decline_precision <= 1.0:
            raise FraudOpsError(
                f"--decline-precision: must be in (0, 1], got {self.decline_precision}"
            )
        if not self.model_name.strip():
            raise FraudOpsError("--model-name: must not be empty")
        check_hyperparameters(self.algorithm, self.imbalance, self.hyperparameters)
        self.risk_definition()
        self.entity_windows_ms()
        self.pair_windows_ms()

    def entity_windows_ms(self) -> tuple[tuple[str, int], ...]:
        """The merchant's, the card's and the user entities' windows as (suffix, ms), checked:
        whole m, h or d, distinct."""
        return parse_windows(self.entity_windows, "--entity-window")

    def pair_windows_ms(self) -> tuple[tuple[str, int], ...]:
        """The card x merchant pair's windows as (suffix, ms), checked like the entities'."""
        return parse_windows(self.pair_windows, "--pair-window")

    def risk_definition(self) -> RiskFeatures:
        """The risk features as configured (checked; the prior is fitted at training)."""
        return RiskFeatures.configured(
            self.risk_label_delay_days, self.risk_windows, self.risk_smoothing, self.risk_entities
        )

    def run_params(self) -> dict[str, Any]:
        """The options that shaped the run, as MLflow parameters."""
        params: dict[str, Any] = {
            "algorithm": self.algorithm,
            "imbalance": self.imbalance,
            "split": self.split,
            "review_fee": self.review_fee,
            "decline_precision": self.decline_precision,
            "seed": self.seed,
            "risk_label_delay_days": self.risk_label_delay_days,
            "risk_windows": ",".join(self.risk_windows),
            "risk_smoothing": self.risk_smoothing,
            "risk_entities": ",".join(entity.name for entity in self.risk_entities),
            "entity_windows": ",".join(self.entity_windows),
            "pair_windows": ",".join(self.pair_windows),
        }
        if self.split == "time":
            params["test_fraction"] = self.test_fraction
            params["validation_fraction"] = self.validation_fraction
            params["label_delay_days"] = self.label_delay_days
        else:
            params["folds"] = self.folds
        return params


def parse_assignments(pairs: Iterable[str], option: str) -> dict[str, str]:
    """``["a=1", "b=x"]`` as ``{"a": "1", "b": "x"}``; anything else names the bad pair."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise FraudOpsError(f"{option}: expected key=value, got {pair!r}")
        parsed[key.strip()] = value.strip()
    return parsed


def parse_value(text: str) -> Any:
    """A hyperparameter value as its JSON type (``6`` -> 6, ``0.1``, ``true``, ``null``);
    anything that is not JSON stays text (``balanced``)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_hyperparameters(pairs: Iterable[str]) -> dict[str, Any]:
    """``--param key=value`` options as typed hyperparameters."""
    return {key: parse_value(value) for key, value in parse_assignments(pairs, "--param").items()}
