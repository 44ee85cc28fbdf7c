"""Step-by-step progress for long commands: one line per step with its own elapsed time.

Progress goes to stderr so that stdout carries only results (tables, JSON) a script can read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from fraud_training.train import ProgressCallback

progress_console = Console(stderr=True)


@contextmanager
def step_progress(console: Console = progress_console) -> Iterator[ProgressCallback]:
    """A callback that starts a new step line each time it is called; the previous step is
    marked done. Steps left running by an error keep their spinner stopped where they failed."""
    with Progress(
        SpinnerColumn(finished_text="[green]✓[/]"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        current: list[TaskID] = []

        def step(message: str) -> None:
            if current:
                progress.update(current[-1], completed=1)
            current.append(progress.add_task(message, total=1))

        yield step
        if current:
            progress.update(current[-1], completed=1)
