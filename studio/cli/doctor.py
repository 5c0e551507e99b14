"""``studio doctor``: is this machine ready (PRD §3.2's startup check)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from studio.cli import app, err_console
from studio.cli.options import WorkspaceOption
from studio.config import load_settings
from studio.errors import StudioError, ToolMissing
from studio.project.repo import probe_tools, require_git_and_lfs


def report_readiness(workspace: Path | None) -> bool:
    """Print the checks; print the install instructions of what is missing; True if ready."""
    table = Table("check", "status", "detail")
    py_ok = sys.version_info >= (3, 11)
    table.add_row("python", "ok" if py_ok else "[red]too old (3.11+)", sys.version.split()[0])
    for tool in probe_tools():
        table.add_row(tool.name, "ok" if tool.found else "[red]missing", tool.version or "")
    chosen = workspace or load_settings().workspace
    table.add_row("workspace", "", str(chosen.expanduser().resolve()))
    Console().print(table)
    try:
        require_git_and_lfs()
    except ToolMissing as exc:
        err_console.print(f"[bold red]{exc.message}[/]", highlight=False)
        err_console.print(f"[yellow]{exc.hint}[/]", highlight=False)
        return False
    finally:
        report_quality_map(chosen)
    return py_ok


def report_quality_map(workspace: Path) -> None:
    """Warn about quality-map cells naming pipelines that are not installed (not fatal:
    other qualities, Pipeline nodes and the CPU drafts still work)."""
    from studio.workspace import pipeline_problems, workspace_quality_map

    root = workspace.expanduser().resolve()
    try:
        problems = pipeline_problems(workspace_quality_map(root if root.is_dir() else None))
    except StudioError as exc:  # an unreadable workspace.json: say so, the checks above stand
        problems = [str(exc)]
    for problem in problems:
        err_console.print(f"[yellow]warning:[/] {problem}", highlight=False)


@app.command()
def doctor(workspace: WorkspaceOption = None) -> None:
    """Check Python, git, git-lfs and the workspace; exit 1 with install instructions when
    something required is missing."""
    if not report_readiness(workspace):
        raise typer.Exit(1)
