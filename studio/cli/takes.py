"""``studio takes PROJECT SCENE SHOT``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from studio.cli import app
from studio.cli.options import JsonOption, WorkspaceOption
from studio.project.takes import Take
from studio.workspace import Workspace


def take_summary(take: Take, *, project_root: Any, active: bool) -> dict[str, Any]:
    """The JSON shape of a take in ``takes --json``."""
    provenance = take.provenance
    return {
        "name": take.name,
        "path": str(take.path.relative_to(project_root)),
        "scene": take.scene,
        "shot": take.shot,
        "version": take.version,
        "take": take.number,
        "ext": take.ext,
        "state": "ready" if take.ready else "reserved",
        "active": active,
        "provenance": provenance.model_dump(mode="json") if provenance else None,
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
    opened = Workspace(workspace).open_project(project)
    shot_takes, active = opened.shot_takes(scene=scene, shot=shot)
    rows = [take_summary(t, project_root=opened.path, active=t == active) for t in shot_takes]
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
            row["state"],
            str(prov.get("pipeline") or ""),
            str(prov.get("seed") if prov.get("seed") is not None else ""),
        )
    Console().print(
        table if rows else f"no takes yet in {opened.shot_path(scene=scene, shot=shot)}"
    )
