"""``studio init``, ``studio new``, ``studio list``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from studio.cli.app import app
from studio.cli.options import JsonOption, WorkspaceOption
from studio.project.project import Project
from studio.quality import Quality
from studio.workspace import BrokenProject, Workspace, existing_workspace, locate_workspace


def project_summary(project: Project) -> dict[str, Any]:
    """The JSON shape of a project in ``new --json`` and ``list --json``."""
    manifest = project.manifest
    return {
        "uuid": str(manifest.uuid),
        "title": manifest.title,
        "name": project.name,
        "path": str(project.path),
        "description": manifest.description,
        "quality": manifest.project_settings.quality,
        "aspect_ratio": manifest.project_settings.aspect_ratio,
        "version": manifest.version,
        "broken": False,
    }


def broken_summary(broken: BrokenProject) -> dict[str, Any]:
    """The JSON shape of a project that does not open, in ``list --json``."""
    return {"name": broken.name, "path": str(broken.path), "broken": True, "error": broken.error}


@app.command()
def init(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Workspace folder (default: $STUDIO_WORKSPACE, else the one the current folder is "
            "in, else ./workspace)."
        ),
    ] = None,
) -> None:
    """Create a workspace (or complete an existing one; nothing is ever removed)."""
    ws = Workspace(locate_workspace(path))
    typer.echo(f"workspace ready: {ws.path}")


@app.command()
def new(
    title: Annotated[str, typer.Argument(help="Project title (any characters).")],
    description: Annotated[str, typer.Option(help="What the project is about.")] = "",
    quality: Annotated[Quality, typer.Option(help="Project-wide quality.")] = "standard",
    aspect_ratio: Annotated[str, typer.Option(help="Default aspect ratio, W:H.")] = "16:9",
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a project: the full folder layout, project.json, a git + LFS repository."""
    project = Workspace(locate_workspace(workspace)).create_project(
        title, description=description, quality=quality, aspect_ratio=aspect_ratio
    )
    if as_json:
        typer.echo(json.dumps(project_summary(project), ensure_ascii=False))
    else:
        typer.echo(f"created {project.title!r} in {project.path}")


@app.command("list")
def list_projects(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """List the workspace's projects; one that does not open is listed as broken, with why."""
    projects, broken = existing_workspace(workspace).scan_projects()
    if as_json:
        rows = [project_summary(p) for p in projects] + [broken_summary(b) for b in broken]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("title", "folder", "quality", "aspect", "uuid")
    for project in projects:
        settings = project.manifest.project_settings
        table.add_row(
            project.title, project.name, settings.quality, settings.aspect_ratio, str(project.uuid)
        )
    for problem in broken:
        table.add_row("[red](broken)", problem.name, "", "", "")
    console = Console()
    console.print(
        table if projects or broken else "no projects yet: create one with `studio new TITLE`"
    )
    for problem in broken:
        console.print(f"[red]broken:[/] {problem.name}: {problem.error}", highlight=False)
