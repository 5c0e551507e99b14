"""``studio doctor [PROJECT]``: is this machine ready (PRD §3.2's startup check), and is the
project whole; ``studio repair PROJECT``: fix what doctor finds that can be fixed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from studio.cli.app import app, err_console
from studio.cli.options import JsonOption, WorkspaceOption
from studio.config import load_settings
from studio.errors import StudioError, ToolMissing
from studio.health import Finding, Repair, examine
from studio.health import repair as repair_project
from studio.project.repo import probe_tools, require_git_and_lfs
from studio.workspace import existing_workspace, locate_workspace

ProjectArgument = Annotated[str, typer.Argument(help="Project folder name, uuid or title.")]


def report_readiness(workspace: Path | None, *, console: Console | None = None) -> bool:
    """Print the checks; print the install instructions of what is missing; True if ready."""
    table = Table("check", "status", "detail")
    py_ok = sys.version_info >= (3, 11)
    table.add_row("python", "ok" if py_ok else "[red]too old (3.11+)", sys.version.split()[0])
    for tool in probe_tools():
        table.add_row(tool.name, "ok" if tool.found else "[red]missing", tool.version or "")
    chosen = workspace or load_settings().workspace
    table.add_row("workspace", "", str(chosen.expanduser().resolve()))
    (console or Console()).print(table)
    try:
        require_git_and_lfs()
    except ToolMissing as exc:
        err_console.print(f"[bold red]{exc.message}[/]", highlight=False)
        err_console.print(f"[yellow]{exc.hint}[/]", highlight=False)
        return False
    finally:
        report_quality_map(chosen)
        report_missing_models(chosen)
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


def report_missing_models(workspace: Path) -> None:
    """Warn about installed pipelines whose models are in no store (not fatal: a Generate
    with such a pipeline is refused before it is queued, with the same sentence)."""
    from studio.models import resolve_models
    from studio.models.ids import missing_message
    from studio.pipelines import scan

    root = workspace.expanduser().resolve()
    try:
        pipelines = scan().pipelines
        for pipeline_id, pipeline in sorted(pipelines.items()):
            if not pipeline.manifest.models:
                continue
            _, missing = resolve_models(pipeline.manifest.models, project_root=None,
                                        workspace=root if root.is_dir() else None)  # fmt: skip
            if missing:
                err_console.print(f"[yellow]warning:[/] {missing_message(pipeline_id, missing)}",
                                  highlight=False)  # fmt: skip
    except (StudioError, OSError) as exc:  # e.g. an unreadable workspace.json or store
        err_console.print(f"[yellow]warning:[/] the model store cannot be read: {exc}",
                          highlight=False)  # fmt: skip


def print_findings(findings: list[Finding], *, title: str) -> None:
    """One problem per entry, its path whole (a table would cut it) and what to do."""
    console = Console(soft_wrap=True)
    if not findings:
        console.print(f"{title}: no problems found")
        return
    console.print(f"{title}: {len(findings)} problem(s)")
    for finding in findings:
        fix = "studio repair fixes it" if finding.repairable else "[yellow]fix by hand[/]"
        console.print(f"  [bold]{finding.kind}[/] {finding.path}", highlight=False)
        console.print(f"      {finding.message} ({fix})", highlight=False)


@app.command()
def doctor(
    project: Annotated[
        str | None, typer.Argument(help="Also check this project (folder name, uuid or title).")
    ] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check Python, git, git-lfs, the workspace and the models its pipelines need, and with
    PROJECT its takes and jobs (untracked takes, orphan reservations, stray files, dangling
    active takes, lost jobs); exit 1 with what to do when something is missing or wrong."""
    ready = report_readiness(locate_workspace(workspace), console=Console(stderr=as_json))
    if project is None:
        if not ready:
            raise typer.Exit(1)
        return
    opened = existing_workspace(workspace).open_project(project)
    findings = examine(opened)
    if as_json:
        rows = [finding.as_json() for finding in findings]
        typer.echo(json.dumps({"project": opened.name, "findings": rows}, ensure_ascii=False))
    else:
        print_findings(findings, title=f"project {opened.name}")
        if any(finding.repairable for finding in findings):
            typer.echo(f"run `studio repair {opened.name}` to fix what it can "
                       "(`--dry-run` shows what it would do)")  # fmt: skip
    if not ready or findings:
        raise typer.Exit(1)


@app.command()
def repair(
    project: ProjectArgument,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be done; change nothing.")
    ] = False,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fix what `studio doctor PROJECT` finds that can be fixed: settle lost jobs, commit
    complete takes left uncommitted (marked recovered), remove orphan reservations, empty
    stray files and stale active-take choices, remove the non-standard numbers (NaN,
    Infinity) of a canvas that does not open for them (the old file kept beside it). Exit 1
    if problems remain."""
    opened = existing_workspace(workspace).open_project(project)
    done, remaining = repair_project(opened, dry_run=dry_run)
    if as_json:
        typer.echo(json.dumps({"project": opened.name, "dry_run": dry_run,
                               "repairs": [r.as_json() for r in done],
                               "remaining": [f.as_json() for f in remaining]},
                              ensure_ascii=False))  # fmt: skip
    else:
        print_repairs(done, dry_run=dry_run)
        if not dry_run:
            print_findings(remaining, title=f"project {opened.name} after repair")
    if remaining and not dry_run:
        raise typer.Exit(1)


def print_repairs(done: list[Repair], *, dry_run: bool) -> None:
    console = Console(soft_wrap=True)
    if not done:
        console.print("nothing to repair")
        return
    for item in done:
        outcome = f"[red]{item.action}: {item.error}[/]" if item.error else item.action
        console.print(f"  {item.finding.kind} {item.finding.path}: {outcome}", highlight=False)
