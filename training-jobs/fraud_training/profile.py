"""The reference profile: how each training feature was distributed, for drift checks later.

Serving compares live feature values with this profile (population stability index, quantile
shifts) without access to the training data, so the profile must be small, plain JSON and
self-describing. Bin edges are the training deciles rather than equal widths: each bin then holds
about a tenth of the training rows, which keeps the stability index meaningful for the skewed
features fraud data is full of (amounts, counts, distances).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

QUANTILE_LEVELS: tuple[float, ...] = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
BIN_LEVELS: tuple[float, ...] = tuple(np.linspace(0.0, 1.0, 11).round(2).tolist())
PROFILE_LISTS: tuple[str, ...] = (
    "mean",
    "std",
    "quantile_levels",
    "quantiles",
    "bin_edges",
    "counts",
)


def feature_profile(values: np.ndarray) -> dict[str, list[float]]:
    """One feature's quantiles and decile histogram.

    ``bin_edges`` are the distinct training deciles, taken as observed values (so a binary or
    count feature gets its own values as edges). Bin ``i`` holds values from ``bin_edges[i]``
    (inclusive) to ``bin_edges[i + 1]`` (exclusive); the first bin also takes anything below the
    training minimum and the last bin everything at or above the training maximum. ``counts``
    therefore has one entry per edge and adds up to ``rows``.
    """
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return {"rows": [0.0], **{key: [] for key in PROFILE_LISTS}}
    edges = np.unique(np.quantile(finite, BIN_LEVELS, method="lower"))
    bins = np.maximum(np.searchsorted(edges, finite, side="right") - 1, 0)
    counts = np.bincount(bins, minlength=edges.size)
    return {
        "rows": [float(finite.size)],
        "mean": [float(finite.mean())],
        "std": [float(finite.std())],
        "quantile_levels": list(QUANTILE_LEVELS),
        "quantiles": np.quantile(finite, QUANTILE_LEVELS).tolist(),
        "bin_edges": edges.tolist(),
        "counts": counts.astype(float).tolist(),
    }


def reference_profile(
    features: np.ndarray, names: Sequence[str]
) -> dict[str, dict[str, list[float]]]:
    """The profile of every column of a feature matrix, keyed by feature name."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[1] != len(names):
        raise ValueError(f"expected a matrix with {len(names)} columns, got shape {features.shape}")
    return {name: feature_profile(features[:, i]) for i, name in enumerate(names)}
