"""Request and response models of the scoring API.

The transaction request model is derived from :data:`fraud_training.schema.TRANSACTION_COLUMNS`,
so a column added to the schema is accepted here without a second definition. What the schema
does not say (bounds, allowed values, lengths) is added per column kind and per column below.
Optional fields default to :data:`fraud_training.schema.OPTIONAL_DEFAULTS`, the same values the
offline loaders fill in, so a missing field means the same thing online and offline.

Fields outside the schema are kept (``model_extra``): a model trained with the user's own columns
(``--feature``) reads them from there, as its bundle's input schema says, and a model that does
not use a field ignores it. Merchant categories are an open vocabulary, as in training.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fraud_training.decisions import DECISIONS
from fraud_training.schema import (
    OPTIONAL_DEFAULTS,
    TRANSACTION_COLUMNS,
    Channel,
    Column,
)
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

MAX_ID_LENGTH = 128
#: PostgreSQL text cannot hold NUL: refuse it at the door rather than poison the audit trail.
NO_NUL = r"^[^\x00]*$"
MAX_AMOUNT = 1e9
COUNTRY_PATTERN = r"^[A-Z]{2}$"

Decision = Literal[DECISIONS]  # type: ignore[valid-type]


def _as_utc(value: datetime) -> datetime:
    """Timestamps are UTC: a naive one is taken as UTC, an aware one is converted."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]

#: Python type and constraints of each column kind.
_KIND_TYPES: dict[str, tuple[Any, dict[str, Any]]] = {
    "str": (str, {"min_length": 1, "max_length": MAX_ID_LENGTH, "pattern": NO_NUL}),
    "float": (float, {}),
    "int": (int, {}),
    "datetime": (UtcDatetime, {}),
}
#: Allowed values of the category columns.
_CHOICES: dict[str, tuple[str, ...]] = {
    "channel": tuple(channel.value for channel in Channel),
}
#: Constraints a column needs beyond its kind's.
_COLUMN_CONSTRAINTS: dict[str, dict[str, Any]] = {
    "amount": {"ge": 0.0, "le": MAX_AMOUNT},
    "lat": {"ge": -90.0, "le": 90.0},
    "home_lat": {"ge": -90.0, "le": 90.0},
    "lon": {"ge": -180.0, "le": 180.0},
    "home_lon": {"ge": -180.0, "le": 180.0},
    "merchant_country": {"pattern": COUNTRY_PATTERN, "min_length": 2, "max_length": 2},
    "home_country": {"pattern": COUNTRY_PATTERN, "min_length": 2, "max_length": 2},
}


def _field(column: Column) -> tuple[Any, Any]:
    if column.kind == "category" and column.name not in _CHOICES:
        annotation, constraints = _KIND_TYPES["str"]
    elif column.kind == "category":
        annotation: Any = Literal[_CHOICES[column.name]]  # type: ignore[valid-type]
        constraints: dict[str, Any] = {}
    else:
        annotation, kind_constraints = _KIND_TYPES[column.kind]
        constraints = {**kind_constraints, **_COLUMN_CONSTRAINTS.get(column.name, {})}
    if column.required:
        return annotation, Field(..., description=column.doc, **constraints)
    default = OPTIONAL_DEFAULTS[column.name]
    return annotation, Field(default=default, description=column.doc, **constraints)


class _TransactionBase(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False, frozen=True)


Transaction: type[BaseModel] = create_model(
    "Transaction",
    __base__=_TransactionBase,
    __doc__="One card transaction at authorisation time, as in the transaction schema.",
    **{column.name: _field(column) for column in TRANSACTION_COLUMNS},  # type: ignore[call-overload]
)


class BatchRequest(BaseModel):
    """Transactions to score together, scored in the order given."""

    model_config = ConfigDict(extra="forbid")

    transactions: list[Transaction] = Field(..., min_length=1)  # type: ignore[valid-type]


class FeatureContribution(BaseModel):
    """One feature's value and its contribution (log-odds) to the score."""

    feature: str
    value: float
    contribution: float


class Prediction(BaseModel):
    """The score of one transaction and what to do about it."""

    request_id: str
    transaction_id: str
    fraud_probability: float
    decision: Decision
    model_name: str
    model_version: str
    top_features: list[FeatureContribution]
    features_degraded: bool = Field(
        description="True when the online history was unavailable and the score used only the "
        "fields the request carries."
    )
    latency_ms: float


class BatchPrediction(BaseModel):
    """Scores of a batch, in request order."""

    request_id: str
    model_name: str
    model_version: str
    features_degraded: bool
    latency_ms: float
    predictions: list[Prediction]


def _label(value: Any) -> Any:
    """A label is true/false or 1/0: not "yes", not 2, not 0.5 (pydantic's lax bool takes more)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError("a label is true/false or 1/0")


class FeedbackRequest(BaseModel):
    """A confirmed outcome for a scored transaction (a chargeback, a cleared alert)."""

    model_config = ConfigDict(extra="forbid")

    transaction_id: str = Field(
        ...,
        min_length=1,
        max_length=MAX_ID_LENGTH,
        pattern=NO_NUL,
        description="The transaction_id of an audited prediction.",
    )
    is_fraud: Annotated[bool, BeforeValidator(_label)] = Field(
        ..., description="The confirmed outcome: true/1 fraud, false/0 legitimate."
    )
    source: str = Field(default="chargeback", min_length=1, max_length=64, pattern=NO_NUL)
    reported_at: UtcDatetime | None = Field(
        default=None, description="When the outcome was established; default: now."
    )


class FeedbackReceipt(BaseModel):
    """The stored feedback row and the prediction it labels."""

    feedback_id: int
    transaction_id: str
    is_fraud: bool
    created: bool = Field(
        description="False when the same outcome was already stored (nothing was changed)."
    )
    model_version: str = Field(description="The model version that scored the transaction.")
    decision: Decision = Field(description="The decision that was served.")
    risk_state: str | None = Field(
        default=None,
        description=(
            "What the label did to the online risk features: applied, already_applied, "
            "not_a_fraud, unknown_transaction (not scored within the state's TTL) or unavailable "
            "(Redis down: send the feedback again later); null without Redis."
        ),
    )


class ReloadRequest(BaseModel):
    """What to load: a version or alias of the served registered model, or any model URI.
    Empty: the configured ``MODEL_URI`` again (an alias then resolves to its current version)."""

    model_config = ConfigDict(extra="forbid")

    version: str | None = Field(default=None, pattern=r"^\d+$")
    alias: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    model_uri: str | None = Field(default=None, min_length=1, max_length=1024)


class ModelInfo(BaseModel):
    """The model being served."""

    name: str
    version: str
    alias: str | None
    run_id: str | None
    source_uri: str
    algorithm: str
    feature_set: str
    feature_names: list[str]
    thresholds: dict[str, float]
    metrics: dict[str, float]
    predictor: str
    loaded_at: datetime


class Problem(BaseModel):
    """An error: one line saying what is wrong, plus per-field details for invalid input."""

    error: str
    detail: list[dict[str, Any]] = Field(default_factory=list)
