"""The names and defaults ``fraudctl`` shows, defined once and free of heavy imports.

The modules that act on them (algorithms, evaluation, loaders, splits, tracking, gate, registry)
import them from here, and the command modules read them without importing scikit-learn,
MLflow or pandas: ``fraudctl --help`` then answers in a fraction of a second instead of the
~2.3 s those imports take.
"""

from __future__ import annotations

#: Learners ``fraudctl train --algorithm`` accepts (``algorithms.ALGORITHMS`` builds them).
ALGORITHM_NAMES: tuple[str, ...] = ("xgboost", "lightgbm", "random_forest", "logistic_regression")
DEFAULT_ALGORITHM = "xgboost"
IMBALANCE_STRATEGIES: tuple[str, ...] = ("weights", "smote", "none")
DEFAULT_IMBALANCE = "weights"

#: Cost model: reviewing a false alarm costs this; a missed fraud costs its amount.
DEFAULT_REVIEW_FEE = 5.0
#: The decline threshold is the lowest score reaching this precision on the hold-out.
DEFAULT_DECLINE_PRECISION = 0.9

#: Input formats of the loaders.
FORMATS: tuple[str, ...] = ("auto", "transactions", "creditcard", "mapped")

DEFAULT_TEST_FRACTION = 0.2
#: Share of all rows, taken from the end of the training period, that early stopping and the
#: thresholds are chosen on.
DEFAULT_VALIDATION_FRACTION = 0.1
#: Days before the test period whose labels are left out of training (0: no gap).
DEFAULT_LABEL_DELAY_DAYS = 0.0
#: Risk features: a label counts once its transaction is this old (chargebacks take days to
#: weeks). Not the split gap above: that one decides which rows the model trains on.
DEFAULT_RISK_LABEL_DELAY_DAYS = 7.0
#: Windows of the merchant's and the card's history and of each key column the user names as
#: an entity (--entity).
DEFAULT_ENTITY_WINDOWS: tuple[str, ...] = ("1h", "24h", "7d", "30d")
#: Windows of the card x merchant pair's history.
DEFAULT_PAIR_WINDOWS: tuple[str, ...] = ("24h", "30d")
#: Risk features: windows of the delayed period, as m/h/d durations.
DEFAULT_RISK_WINDOWS: tuple[str, ...] = ("1d", "7d", "30d")
#: Risk features: pseudo-transactions at the prior fraud rate added to every entity's count.
DEFAULT_RISK_SMOOTHING = 10.0
#: Card precision@k: the k highest-scored cards of each test day.
DEFAULT_CARD_PRECISION_K = 100
DEFAULT_FOLDS = 5

DEFAULT_EXPERIMENT = "fraud-detection"
DEFAULT_MODEL_NAME = "fraud-detector"

#: Validation gate policy defaults.
DEFAULT_MIN_ROC_AUC = 0.90
DEFAULT_MIN_PR_AUC = 0.50
DEFAULT_MAX_REGRESSION = 0.02

#: Registry aliases, the only two the project uses.
CHAMPION = "champion"
CHALLENGER = "challenger"
ALIASES: tuple[str, ...] = (CHAMPION, CHALLENGER)
#: The run metrics ``fraudctl models list`` shows, in order.
KEY_METRICS: tuple[str, ...] = ("roc_auc", "pr_auc", "recall_at_precision_90", "cost_saved")
