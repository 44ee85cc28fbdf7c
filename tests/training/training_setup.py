"""Names and sizes the training tests share (imported by the conftest and the test modules)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The real ULB credit-card file, beside the repository as in CI (read-only).
ULB_FILE = REPO_ROOT.parent / "shared" / "data" / "creditcard.csv.gz"
#: The registered model the session's two versions belong to.
MODEL_NAME = "fraud-test"
#: Small enough to train in a second or two, good enough to rank frauds well.
FAST_XGBOOST = {"n_estimators": 60, "max_depth": 4}
#: One stump: a model the gate must refuse next to the good one.
WEAK_XGBOOST = {"n_estimators": 1, "max_depth": 1}
