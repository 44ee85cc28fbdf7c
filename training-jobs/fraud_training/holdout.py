"""The hold-out set a model was judged on, stored with its MLflow run.

The validation gate must compare a candidate with the current champion on the *same* rows, and
it may run long after training (``fraudctl validate``, the operator's gate step), so the rows
travel with the run as one Parquet artifact: the feature matrix (features of transactions with
customer history can only be rebuilt from the whole stream, so the matrix is stored, not the raw
rows), the labels, the amounts the cost model needs and the scores the candidate gave. Beside them
the rows keep what identifies them — transaction id, entity ids, timestamp — so a fraud team can
join the hold-out back to its own data and recompute any metric (card precision@k per day, losses
per merchant) from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fraud_training.schema import LABEL

HOLDOUT_ARTIFACT_DIR = "holdout"
HOLDOUT_FILE = "holdout.parquet"
AMOUNT_COLUMN = "amount_at_risk"
SCORE_COLUMN = "candidate_score"
FEATURE_PREFIX = "feature:"
#: The identifying columns of a transaction the hold-out keeps, when the data has them.
IDENTITY_COLUMNS: tuple[str, ...] = (
    "transaction_id",
    "customer_id",
    "merchant_id",
    "device_id",
    "timestamp",
    "amount",
)


def holdout_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The identifying columns of ``frame`` (those it has), re-indexed from 0."""
    present = [name for name in IDENTITY_COLUMNS if name in frame.columns]
    return frame[present].reset_index(drop=True)


@dataclass(frozen=True)
class HoldOut:
    """Rows a model never trained on, with what it scored them."""

    feature_names: tuple[str, ...]
    features: np.ndarray
    labels: np.ndarray
    amounts: np.ndarray
    scores: np.ndarray
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __len__(self) -> int:
        return len(self.labels)

    def save(self, folder: Path) -> Path:
        """Write the hold-out as one Parquet file in ``folder`` and return the file."""
        folder.mkdir(parents=True, exist_ok=True)
        features = pd.DataFrame(
            self.features, columns=[f"{FEATURE_PREFIX}{name}" for name in self.feature_names]
        )
        frame = pd.concat([self.rows.reset_index(drop=True), features], axis=1)
        frame[LABEL] = self.labels.astype(np.int8)
        frame[AMOUNT_COLUMN] = self.amounts
        frame[SCORE_COLUMN] = self.scores
        path = folder / HOLDOUT_FILE
        frame.to_parquet(path, index=False)
        return path

    @classmethod
    def load(cls, path: Path) -> HoldOut:
        """Read a file written by :meth:`save`."""
        frame = pd.read_parquet(path)
        feature_columns = [c for c in frame.columns if c.startswith(FEATURE_PREFIX)]
        return cls(
            feature_names=tuple(c.removeprefix(FEATURE_PREFIX) for c in feature_columns),
            features=frame[feature_columns].to_numpy(np.float64),
            labels=frame[LABEL].to_numpy(np.int64),
            amounts=frame[AMOUNT_COLUMN].to_numpy(np.float64),
            scores=frame[SCORE_COLUMN].to_numpy(np.float64),
            rows=frame[[c for c in IDENTITY_COLUMNS if c in frame.columns]],
        )

    def features_for(self, names: Sequence[str]) -> np.ndarray | None:
        """The matrix in the column order ``names`` asks for, or None if a column is missing."""
        position = {name: i for i, name in enumerate(self.feature_names)}
        if any(name not in position for name in names):
            return None
        return self.features[:, [position[name] for name in names]]
