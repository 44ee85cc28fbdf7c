"""``fraudctl generate`` and ``fraudctl check-data``: make a synthetic data set, or check one
before anything trains on it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fraud_training.choices import FORMATS
from fraud_training.commands.column_options import EntityColumns, FeatureColumns
from fraud_training.errors import DataError
from fraud_training.schema import LABEL

if TYPE_CHECKING:
    from fraud_training.loaders import ColumnMapping, Dataset

# The generator and the loaders (numpy, pandas, pyarrow, pandera) are imported inside the
# commands that use them, so that `fraudctl --help` does not wait for them.

console = Console()
progress_console = Console(stderr=True)


def generation_steps() -> tuple[str, ...]:
    """The generator's steps in order, one per fraud pattern among them (for the progress bar)."""
    from fraud_training.generator.patterns import PATTERNS

    return ("population", "legit behaviour", *(p.name for p in PATTERNS), "assemble", "write")


def generate(
    out: Annotated[Path, typer.Option(help="Output file: .csv or .parquet.")],
    rows: Annotated[int, typer.Option(help="Transactions in the stream.")] = 100_000,
    fraud_rate: Annotated[
        float, typer.Option(help="Fraction of fraudulent rows, 0.001 to 0.05.")
    ] = 0.02,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same file.")] = 0,
    customers: Annotated[
        int | None, typer.Option(help="Card holders (default: about 40 transactions each).")
    ] = None,
    days: Annotated[int, typer.Option(help="Length of the period, days.")] = 30,
    start: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="First day (UTC), YYYY-MM-DD.")
    ] = datetime(2026, 1, 1),
) -> None:
    """Generate a synthetic transaction stream with realistic fraud patterns."""
    from fraud_training.generator import (
        GeneratorConfig,
        check_output_path,
        generate_transactions,
        write_transactions,
    )

    steps = generation_steps()
    config = GeneratorConfig(
        rows=rows,
        fraud_rate=fraud_rate,
        seed=seed,
        customers=customers,
        days=days,
        start=start.date(),
    )
    check_output_path(out)
    with Progress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=progress_console,
    ) as progress:
        task = progress.add_task("generating", total=len(steps))

        def on_step(step: str) -> None:
            progress.update(task, description=step, completed=steps.index(step))

        frame = generate_transactions(config, on_step)
        on_step("write")
        write_transactions(frame, out)
        progress.update(task, description="done", completed=len(steps))
    frauds = int(frame[LABEL].sum())
    console.print(
        f"wrote {len(frame):,} transactions ({frauds:,} fraudulent, "
        f"{frauds / len(frame):.2%}) for {config.n_customers:,} customers to {out}"
    )


def check_data(
    path: Annotated[
        str, typer.Argument(help="The data file: CSV or Parquet, a path or s3://bucket/key.")
    ],
    map_pairs: Annotated[
        list[str] | None,
        typer.Option("--map", help="field=column: which file column holds our field (repeat)."),
    ] = None,
    mapping_file: Annotated[
        Path | None, typer.Option("--mapping", help="YAML mapping file (columns: {field: column}).")
    ] = None,
    timestamp_unit: Annotated[
        str | None,
        typer.Option(help="Mapped timestamps are epoch numbers in this unit: s, ms, us or ns."),
    ] = None,
    data_format: Annotated[
        str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")
    ] = "auto",
    feature: FeatureColumns = None,
    entity: EntityColumns = None,
) -> None:
    """Load and validate a data set; print a summary, or every problem and exit non-zero."""
    from fraud_training.loaders import load_dataset

    mapping = mapping_from_options(
        map_pairs or [], mapping_file, timestamp_unit, feature or [], entity or []
    )
    with progress_console.status(f"loading and validating {path}"):
        dataset = load_dataset(path, data_format=data_format, mapping=mapping)
    console.print(summary_table(dataset))


def mapping_from_options(
    pairs: list[str],
    mapping_file: Path | None,
    timestamp_unit: str | None,
    features: list[str] | None = None,
    entities: list[str] | None = None,
) -> ColumnMapping | None:
    """The mapping the options describe (``--map`` entries override the file's, ``--feature``
    and ``--entity`` columns are added to its ``features`` and ``entities``), or None."""
    if not pairs and mapping_file is None:
        options = (
            ("--timestamp-unit", timestamp_unit),
            ("--feature", features),
            ("--entity", entities),
        )
        for option, value in options:
            if value:
                raise DataError(f"{option}: only applies with a column mapping (--map/--mapping)")
        return None
    from fraud_training.loaders import ColumnMapping

    from_file = ColumnMapping.from_yaml(mapping_file) if mapping_file else ColumnMapping()
    return from_file.updated(
        ColumnMapping.from_pairs(pairs, timestamp_unit, features or [], entities or [])
    )


def summary_table(dataset: Dataset) -> Table:
    """What a person checks before training: size, fraud rate, period, customers, patterns."""
    summary = dataset.summary()
    table = Table(title=f"{dataset.source} is valid", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", overflow="fold")
    table.add_row("feature set", dataset.feature_set)
    table.add_row("sha256", dataset.sha256)
    table.add_row("rows", f"{summary['rows']:,}")
    if summary["frauds"] is not None:
        table.add_row("frauds", f"{summary['frauds']:,}")
        table.add_row("fraud rate", f"{summary['fraud_rate']:.3%}")
    table.add_row("first", str(summary["first"]))
    table.add_row("last", str(summary["last"]))
    table.add_row("time span", f"{summary['span_days']:.1f} days")
    table.add_row("customers", f"{summary['customers']:,}")
    for name, kind in dataset.pass_through.items():
        table.add_row(f"feature {name}", kind)
    for name in dataset.entities:
        table.add_row(f"entity {name}", f"{dataset.frame[name].nunique():,} values")
    for pattern, count in summary.get("patterns", {}).items():
        table.add_row(f"pattern {pattern}", f"{count:,}")
    return table
