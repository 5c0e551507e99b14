"""The ``studio`` command line (typer): one module per command group.

Errors a user can act on (:class:`studio.StudioError`) print a message and a hint and exit 1;
``--json`` outputs are a stable contract for scripts.
"""

from __future__ import annotations

from studio.cli.app import app, err_console
from studio.errors import StudioError

__all__ = ["app", "main"]


def _register() -> None:
    # Importing a command module adds its commands to `app`.
    from studio.cli import (  # noqa: F401
        batch,
        cluster,
        doctor,
        lab,
        models,
        pipeline,
        render,
        takes,
        workspace,
    )


def main() -> None:
    _register()
    try:
        app()
    except StudioError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err_console.print(f"[yellow]hint:[/] {exc.hint}", highlight=False)
        raise SystemExit(1) from None
