"""The typer app and its error console: a module of their own, so each command module can
import them without importing the package that registers the commands."""

from __future__ import annotations

import typer
from rich.console import Console

from studio.__about__ import __version__

app = typer.Typer(
    name="studio",
    help="Generative Media Studio: workspaces, projects, takes and the Jupyter lab.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True, soft_wrap=True)  # no wrapping: paths stay copyable


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Generative Media Studio."""
