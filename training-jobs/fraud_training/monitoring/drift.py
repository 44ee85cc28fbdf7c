"""Drift of a window of live values against the reference profile a bundle carries.

One implementation, used by the monitoring Job, ``fraudctl monitor`` and the benchmark. It needs
only the profile (the training deciles and their counts, :mod:`fraud_training.profile`), never
the training rows, and it works on whatever columns the profile and the window share.

Two numbers per column:

* **PSI** (population stability index) over the reference's own decile bins. Bands: below
  ``moderate`` (0.1) stable, from ``major`` (0.25) a major shift — the usual credit-risk bands,
  configurable. PSI measures *how much* the distribution moved and does not grow with the
  window's size.
* **A chi-square test of homogeneity** of the window's bin counts against the reference's. The
  profile keeps binned counts, not raw training values, so a test on raw samples (KS,
  Wasserstein) is not available without shipping the training data with every model; the
  chi-square test is exact for what the profile holds, and it is the same test for continuous,
  count, binary and one-hot columns (their bin edges are the observed values). It says whether
  the movement is more than the sampling noise of a window that size.

One window tests every column at once, so the p-values are corrected for multiple testing with
Benjamini-Hochberg (false-discovery rate ``fdr``, 5 %): with 30 features and no correction, one
stable feature in five windows would be flagged by chance alone. A column is **drifted** when its
PSI is in the major band *and* its corrected test rejects: PSI alone flags noise in a small
window, the test alone flags shifts too small to matter in a large one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import chi2, false_discovery_control

#: Floor of a bin's share, so an empty bin on either side gives a large but finite PSI.
SHARE_FLOOR = 1e-4
#: Below this many finite window values a column gets no verdict.
MIN_COLUMN_ROWS = 100
NOT_IN_WINDOW = "no values in the window"


@dataclass(frozen=True)
class DriftBands:
    """Where PSI bands start, and the false-discovery rate of the per-column tests."""

    moderate: float = 0.1
    major: float = 0.25
    fdr: float = 0.05

    def __post_init__(self) -> None:
        if not 0.0 < self.moderate <= self.major:
            raise ValueError(
                f"psi bands: need 0 < moderate <= major, got {self.moderate} and {self.major}"
            )
        if not 0.0 < self.fdr < 1.0:
            raise ValueError(f"fdr: must be between 0 and 1, got {self.fdr}")

    def band(self, psi: float) -> str:
        """stable, moderate or major."""
        if psi >= self.major:
            return "major"
        return "moderate" if psi >= self.moderate else "stable"


@dataclass(frozen=True)
class ColumnDrift:
    """The drift of one column: the two statistics, the verdict and what moved."""

    name: str
    rows: int
    psi: float
    band: str
    chi2: float
    p_value: float
    q_value: float
    drifted: bool
    reference_mean: float
    window_mean: float

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-able fields."""
        return asdict(self)


@dataclass(frozen=True)
class DriftResult:
    """Every column's drift, and the columns that could not be judged with the reason."""

    columns: tuple[ColumnDrift, ...]
    skipped: dict[str, str]
    bands: DriftBands

    @property
    def drifted(self) -> list[str]:
        """Names of the drifted columns, largest PSI first."""
        return [c.name for c in sorted(self.columns, key=lambda c: -c.psi) if c.drifted]

    @property
    def score(self) -> float:
        """The largest PSI of any column: the one number to hold against a threshold."""
        return max((c.psi for c in self.columns), default=0.0)

    def column(self, name: str) -> ColumnDrift:
        """One column's drift by name."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{name}: no drift computed for this column")


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of the finite ``values`` in the profile's bins (see ``feature_profile``): bin ``i``
    is ``[edges[i], edges[i + 1])``, the first also takes values below, the last values above."""
    finite = values[np.isfinite(values)]
    index = np.clip(np.searchsorted(edges, finite, side="right") - 1, 0, edges.size - 1)
    return np.bincount(index, minlength=edges.size)


def population_stability(reference: np.ndarray, window: np.ndarray) -> np.ndarray:
    """PSI of each row of two count matrices (columns x bins, zero-padded), vectorised."""
    ref_share = _shares(reference)
    win_share = _shares(window)
    return ((win_share - ref_share) * np.log(win_share / ref_share)).sum(axis=1)


def chi_square_homogeneity(
    reference: np.ndarray, window: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Chi-square statistic and p-value of each row pair (reference vs window bin counts).

    A bin empty on both sides adds no degree of freedom.
    """
    table = np.stack([reference, window]).astype(np.float64)  # 2 x columns x bins
    totals = table.sum(axis=2, keepdims=True)
    bin_totals = table.sum(axis=0, keepdims=True)
    grand = totals.sum(axis=0, keepdims=True)
    expected = totals * bin_totals / np.where(grand > 0, grand, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cells = np.where(expected > 0, (table - expected) ** 2 / expected, 0.0)
    statistic = cells.sum(axis=(0, 2))
    freedom = np.maximum((bin_totals[0] > 0).sum(axis=1) - 1, 1)
    return statistic, chi2.sf(statistic, freedom)


def column_drift(
    window: Mapping[str, np.ndarray],
    profile: Mapping[str, Mapping[str, Sequence[float]]],
    bands: DriftBands | None = None,
) -> DriftResult:
    """Drift of every column present in both ``window`` (name to values) and ``profile``."""
    bands = bands or DriftBands()
    skipped: dict[str, str] = {}
    names: list[str] = []
    reference_rows: list[np.ndarray] = []
    window_rows: list[np.ndarray] = []
    means: list[tuple[float, float]] = []
    for name, values in window.items():
        entry = profile.get(name)
        if entry is None:
            skipped[name] = "not in the reference profile"
            continue
        edges = np.asarray(entry.get("bin_edges", ()), dtype=np.float64)
        counts = np.asarray(entry.get("counts", ()), dtype=np.float64)
        if edges.size == 0 or counts.sum() == 0:
            skipped[name] = "the reference profile has no values for it"
            continue
        values = np.asarray(values, dtype=np.float64)
        observed = bin_counts(values, edges)
        if observed.sum() == 0:
            skipped[name] = NOT_IN_WINDOW
            continue
        if observed.sum() < MIN_COLUMN_ROWS:
            skipped[name] = f"fewer than {MIN_COLUMN_ROWS} values in the window"
            continue
        names.append(name)
        reference_rows.append(counts)
        window_rows.append(observed)
        finite = values[np.isfinite(values)]
        means.append((float(entry["mean"][0]), float(finite.mean())))
    for name in profile:
        if name not in window:
            skipped[name] = NOT_IN_WINDOW
    if not names:
        return DriftResult((), skipped, bands)
    reference = _padded(reference_rows)
    observed_matrix = _padded(window_rows)
    psi = population_stability(reference, observed_matrix)
    statistic, p_values = chi_square_homogeneity(reference, observed_matrix)
    q_values = false_discovery_control(p_values, method="bh")
    columns = tuple(
        ColumnDrift(
            name=name,
            rows=int(observed_matrix[i].sum()),
            psi=float(psi[i]),
            band=bands.band(float(psi[i])),
            chi2=float(statistic[i]),
            p_value=float(p_values[i]),
            q_value=float(q_values[i]),
            drifted=bool(psi[i] >= bands.major and q_values[i] <= bands.fdr),
            reference_mean=means[i][0],
            window_mean=means[i][1],
        )
        for i, name in enumerate(names)
    )
    return DriftResult(columns, skipped, bands)


def matrix_columns(matrix: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
    """A rows x columns matrix as name to column, each column contiguous (fast to bin)."""
    columns = np.asfortranarray(np.asarray(matrix, dtype=np.float64))
    if columns.ndim != 2 or columns.shape[1] != len(names):
        raise ValueError(f"expected a matrix with {len(names)} columns, got shape {columns.shape}")
    return {name: columns[:, i] for i, name in enumerate(names)}


def _shares(counts: np.ndarray) -> np.ndarray:
    totals = counts.sum(axis=1, keepdims=True)
    return np.maximum(counts / np.where(totals > 0, totals, 1.0), SHARE_FLOOR)


def _padded(rows: list[np.ndarray]) -> np.ndarray:
    """Rows of different lengths as one zero-padded matrix."""
    matrix = np.zeros((len(rows), max(row.size for row in rows)), dtype=np.float64)
    for i, row in enumerate(rows):
        matrix[i, : row.size] = row
    return matrix
