"""The options both `fraudctl check-data` and `fraudctl train` take to name the file's own columns
as model inputs, defined once so the two commands read a data set the same way."""

from __future__ import annotations

from typing import Annotated

import typer

FeatureColumns = Annotated[
    list[str] | None,
    typer.Option(
        "--feature", help="A further column of the file to use as a model input (repeat)."
    ),
]
EntityColumns = Annotated[
    list[str] | None,
    typer.Option(
        "--entity",
        help="A key column of the file (e-mail domain, IP, BIN, ...) whose history becomes "
        "features: counts, amounts and distinct cards per window (repeat).",
    ),
]
