"""A reference and a live window of 30 features with a shift planted in a few of them.

The columns imitate what fraud features look like (log-normal amounts, counts, binary flags,
bounded ratios, roughly normal scores). Shifts are planted in five columns, all large enough
to matter (PSI well above 0.25); one more column gets a shift too small to matter (0.05 standard
deviations), which neither method should flag.
"""

from __future__ import annotations

import numpy as np

COLUMNS = 30
#: Column name to what is planted in the live window.
PLANTED: dict[str, str] = {
    "amount_0": "log-amount mean +0.6",
    "count_0": "Poisson mean 2 -> 3.5",
    "flag_0": "rate 0.10 -> 0.35",
    "normal_0": "mean +0.75 sd",
    "ratio_0": "Beta(2,5) -> Beta(4,4)",
}
SUBTLE = {"normal_1": "mean +0.05 sd (too small to matter)"}


def column_names() -> list[str]:
    """amount_0..5, count_0..5, flag_0..5, ratio_0..5, normal_0..5."""
    return [
        f"{kind}_{i}" for kind in ("amount", "count", "flag", "ratio", "normal") for i in range(6)
    ]


def sample(rows: int, seed: int, shifted: bool) -> np.ndarray:
    """``rows`` x 30 float64 values; ``shifted`` plants :data:`PLANTED` and :data:`SUBTLE`."""
    rng = np.random.default_rng(seed)
    columns: list[np.ndarray] = []
    for name in column_names():
        kind, index = name.rsplit("_", 1)
        planted = shifted and (name in PLANTED or name in SUBTLE)
        if kind == "amount":
            columns.append(
                rng.lognormal(3.0 + (0.6 if planted else 0.0) + 0.1 * int(index), 1.0, rows)
            )
        elif kind == "count":
            columns.append(
                rng.poisson(3.5 if planted else 2.0 + int(index) * 0.5, rows).astype(float)
            )
        elif kind == "flag":
            columns.append((rng.random(rows) < (0.35 if planted else 0.1)).astype(float))
        elif kind == "ratio":
            columns.append(rng.beta(4.0, 4.0, rows) if planted else rng.beta(2.0, 5.0, rows))
        else:
            shift = {"normal_0": 0.75, "normal_1": 0.05}.get(name, 0.0) if planted else 0.0
            columns.append(rng.normal(shift, 1.0, rows))
    return np.column_stack(columns)
