"""The ``studio`` command line (typer): one module per command group.

Errors a user can act on (:class:`studio.StudioError`) print a message and a hint and exit 1;
``--json`` outputs are a stable contract for scripts.
"""

from __future__ import annotations

import typer
from rich.console import Console

from studio.__about__ import __version__
from studio.errors import StudioError

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


def _register() -> None:
    # Imported here so each command module can import `app` from this one.
    from studio.cli import cluster, doctor, lab, pipeline, takes, workspace  # noqa: F401


def main() -> None:
    _register()
    try:
        app()
    except StudioError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err_console.print(f"[yellow]hint:[/] {exc.hint}", highlight=False)
        raise SystemExit(1) from None
