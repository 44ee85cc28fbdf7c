"""The MLflow pyfunc face of a model bundle, logged as code ("models from code").

MLflow copies this file into every logged model and runs it when the model is loaded, instead of
unpickling a Python object, so nothing but the bundle itself is ever unpickled. It exists so
that generic MLflow tooling (``mlflow models serve``, batch scoring with
``mlflow.pyfunc.load_model``) can use a FraudOps model: feature rows in, probability and decision
out. FraudOps' own serving loads the bundle directly and builds the features itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import set_model

from fraud_training.bundle import MLFLOW_ARTIFACT, ModelBundle


class FraudScoringModel(mlflow.pyfunc.PythonModel):
    """Scores rows whose columns are the bundle's feature names."""

    def load_context(self, context: Any) -> None:
        self.bundle = ModelBundle.load(Path(context.artifacts[MLFLOW_ARTIFACT]))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Probability of fraud and the approve/review/decline decision of each row."""
        features = pd.DataFrame(model_input)[list(self.bundle.feature_names)]
        probability = self.bundle.predict_proba(features.to_numpy(np.float64))
        return pd.DataFrame(
            {"probability": probability, "decision": self.bundle.thresholds.decide(probability)}
        )


set_model(FraudScoringModel())
