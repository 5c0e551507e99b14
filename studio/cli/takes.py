"""``studio takes PROJECT SCENE SHOT``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from studio.cli.app import app, err_console
from studio.cli.options import JsonOption, WorkspaceOption
from studio.engine import settle
from studio.project.takes import Take
from studio.workspace import existing_workspace


def take_summary(take: Take, *, project_root: Any, active: bool) -> dict[str, Any]:
    """The JSON shape of a take in ``takes --json``: ``state`` is ready, reserved or broken
    (its sidecar does not read: ``error`` says why)."""
    provenance, error = take.read_provenance()
    return {
        "name": take.name,
        "path": str(take.path.relative_to(project_root)),
        "scene": take.scene,
        "shot": take.shot,
        "version": take.version,
        "take": take.number,
        "ext": take.ext,
        "state": "broken" if error else "ready" if take.ready else "reserved",
        "active": active,
        "provenance": provenance.model_dump(mode="json") if provenance else None,
        "error": error,
    }


@app.command()
def takes(
    project: Annotated[str, typer.Argument(help="Project folder name, uuid or title.")],
    scene: Annotated[int, typer.Argument(min=0, help="Scene number.")],
    shot: Annotated[int, typer.Argument(min=0, help="Shot number.")],
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a shot's takes (a scan of its render folder)."""
    opened = existing_workspace(workspace).open_project(project)
    settle(opened)  # a lost job's complete take is committed (or its leftovers removed) first
    view = opened.shot_view(scene=scene, shot=shot)
    rows = [take_summary(t, project_root=opened.path, active=t == view.active) for t in view.takes]
    if view.active_problem:
        shown = f"; {view.active.name} is shown as active" if view.active else ""
        err_console.print(
            f"[yellow]warning:[/] {view.active_problem}{shown}; `studio repair` removes the "
            "stale choice",
            highlight=False,
        )
    for row in rows:
        if row["error"]:
            err_console.print(f"[yellow]warning:[/] {row['name']} is broken: {row['error']}",
                              highlight=False)  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("", "take", "version", "state", "pipeline", "seed")
    for row in rows:
        prov = row["provenance"] or {}
        table.add_row(
            "*" if row["active"] else "",
            row["name"],
            f"v{row['version']:02d}",
            row["state"] if row["state"] != "broken" else "[red]broken",
            str(prov.get("pipeline") or ""),
            str(prov.get("seed") if prov.get("seed") is not None else ""),
        )
    Console().print(
        table if rows else f"no takes yet in {opened.shot_path(scene=scene, shot=shot)}"
    )
