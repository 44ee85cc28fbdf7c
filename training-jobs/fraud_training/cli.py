"""``fraudctl``: the user's entry point. Each command lives in the module that does its job;
this module only assembles them and turns :class:`FraudOpsError` into a message and exit code."""

from __future__ import annotations

import sys

import typer
from fraud_inference.serve_command import serve
from rich.console import Console

from fraud_training.commands.data import check_data, generate
from fraud_training.commands.monitor import monitor
from fraud_training.commands.registry import models_list, promote_command, validate_command
from fraud_training.commands.train import train
from fraud_training.errors import FraudOpsError

app = typer.Typer(
    name="fraudctl",
    help="Train, gate, promote and serve credit-card fraud models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="The MLflow model registry.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.command("serve")(serve)
app.command("generate")(generate)
app.command("check-data")(check_data)
app.command("train")(train)
app.command("validate")(validate_command)
app.command("promote")(promote_command)
app.command("monitor")(monitor)
models_app.command("list")(models_list)

err_console = Console(stderr=True)


def main() -> None:
    """Run the CLI; user errors print one clear message instead of a stack trace."""
    try:
        app(standalone_mode=False)
    except FraudOpsError as error:
        err_console.print(f"[bold red]error:[/] {error}")
        sys.exit(error.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as error:  # click usage errors carry their own exit code
        import click

        if isinstance(error, click.ClickException | typer.TyperException):  # typer bundles click
            err_console.print(f"[bold red]error:[/] {error.format_message()}")
            sys.exit(error.exit_code)
        raise
