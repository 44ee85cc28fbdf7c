"""What the user asks of the generator, checked once so every module can rely on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from fraud_training.errors import DataError

MIN_ROWS = 1_000
MIN_FRAUD_RATE = 0.001
MAX_FRAUD_RATE = 0.05
#: Fraud needs history before it; a year is the longest period the population's habits hold.
MIN_DAYS, MAX_DAYS = 14, 366
#: Transactions per customer over the default 30 days when ``customers`` is not given: about
#: 1.3 a day, a typical card's activity.
ROWS_PER_CUSTOMER = 40
DAY_MS = 86_400_000


@dataclass(frozen=True)
class GeneratorConfig:
    """Size, fraud rate, randomness and period of one synthetic transaction stream."""

    rows: int
    fraud_rate: float = 0.02
    seed: int = 0
    customers: int | None = None
    days: int = 30
    start: date = date(2026, 1, 1)

    def __post_init__(self) -> None:
        if self.rows < MIN_ROWS:
            raise DataError(f"rows: must be at least {MIN_ROWS}, got {self.rows}")
        if not MIN_FRAUD_RATE <= self.fraud_rate <= MAX_FRAUD_RATE:
            raise DataError(
                f"fraud_rate: must be between {MIN_FRAUD_RATE} and {MAX_FRAUD_RATE} "
                f"(0.1 % to 5 %), got {self.fraud_rate}"
            )
        if self.customers is not None and not 50 <= self.customers <= self.rows // 5:
            raise DataError(
                f"customers: must be between 50 and rows / 5 = {self.rows // 5} so that every "
                f"customer has a history, got {self.customers}"
            )
        if not MIN_DAYS <= self.days <= MAX_DAYS:
            raise DataError(
                f"days: must be between {MIN_DAYS} and {MAX_DAYS} (fraud needs history before "
                f"it), got {self.days}"
            )

    @property
    def n_customers(self) -> int:
        """Customers in the population: as asked, or scaled to the stream's size."""
        if self.customers is not None:
            return self.customers
        return max(50, round(self.rows * 30 / (self.days * ROWS_PER_CUSTOMER)))

    @property
    def fraud_rows(self) -> int:
        """Fraudulent rows: the fraud rate of the rows, rounded."""
        return round(self.rows * self.fraud_rate)

    @property
    def start_ms(self) -> int:
        """The period's first instant (UTC midnight of ``start``), in epoch milliseconds."""
        midnight = datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)
        return int(midnight.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        """The instant after the period, in epoch milliseconds."""
        return self.start_ms + self.days * DAY_MS
