"""PNG plots of a hold-out evaluation, logged with every MLflow run.

Figures are built with matplotlib's object API (``Figure`` + ``savefig``) rather than pyplot: no
global figure state and no display backend, so plotting works the same in a headless training Job
and inside a test process.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

ROC_PNG = "roc_curve.png"
PR_PNG = "pr_curve.png"
CONFUSION_PNG = "confusion_matrix.png"
IMPORTANCE_PNG = "feature_importance.png"
DPI = 110


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    return path


def roc_plot(labels: np.ndarray, scores: np.ndarray, path: Path) -> Path:
    """The ROC curve with its area and the chance diagonal."""
    fpr, tpr, _ = roc_curve(labels, scores)
    figure = Figure(figsize=(5, 4.5))
    axes = figure.add_subplot()
    axes.plot(fpr, tpr, label=f"model (AUC {roc_auc_score(labels, scores):.4f})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (hold-out)")
    axes.legend(loc="lower right")
    return _save(figure, path)


def pr_plot(labels: np.ndarray, scores: np.ndarray, path: Path) -> Path:
    """The precision-recall curve; the baseline is the fraud rate, not 0.5."""
    precision, recall, _ = precision_recall_curve(labels, scores)
    figure = Figure(figsize=(5, 4.5))
    axes = figure.add_subplot()
    axes.step(
        recall, precision, where="post", label=f"AP {average_precision_score(labels, scores):.4f}"
    )
    axes.axhline(float(np.mean(labels)), linestyle="--", color="grey", label="fraud rate")
    axes.set(xlabel="recall", ylabel="precision", title="Precision-recall (hold-out)")
    axes.set_ylim(0.0, 1.02)
    axes.legend(loc="lower left")
    return _save(figure, path)


def confusion_plot(labels: np.ndarray, scores: np.ndarray, threshold: float, path: Path) -> Path:
    """Counts of each outcome when everything at or above ``threshold`` is flagged."""
    labels = np.asarray(labels).astype(bool)
    flagged = np.asarray(scores) >= threshold
    counts = np.array(
        [
            [np.sum(~labels & ~flagged), np.sum(~labels & flagged)],
            [np.sum(labels & ~flagged), np.sum(labels & flagged)],
        ]
    )
    figure = Figure(figsize=(4.5, 4))
    axes = figure.add_subplot()
    axes.imshow(np.log1p(counts), cmap="Blues")
    for (row, column), count in np.ndenumerate(counts):
        axes.text(column, row, f"{count:,}", ha="center", va="center", fontsize=12)
    axes.set_xticks([0, 1], ["approved", "flagged"])
    axes.set_yticks([0, 1], ["legit", "fraud"])
    axes.set_title(f"Confusion at threshold {threshold:.4f}")
    return _save(figure, path)


def importance_plot(
    names: Sequence[str], importance: np.ndarray, path: Path, top: int = 20
) -> Path:
    """The ``top`` features by importance (mean absolute contribution on the hold-out)."""
    importance = np.asarray(importance, dtype=np.float64)
    order = np.argsort(importance)[-top:]
    figure = Figure(figsize=(6, 0.3 * len(order) + 1.2))
    axes = figure.add_subplot()
    axes.barh([names[i] for i in order], importance[order])
    axes.set(xlabel="mean |contribution|", title="Feature importance (hold-out)")
    return _save(figure, path)


def evaluation_plots(
    labels: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    names: Sequence[str],
    importance: np.ndarray,
    folder: Path,
) -> list[Path]:
    """All four plots, written to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        roc_plot(labels, scores, folder / ROC_PNG),
        pr_plot(labels, scores, folder / PR_PNG),
        confusion_plot(labels, scores, threshold, folder / CONFUSION_PNG),
        importance_plot(names, importance, folder / IMPORTANCE_PNG),
    ]
