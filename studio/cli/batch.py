"""``studio batch NOTEBOOK [-p NAME VALUE]... [--project P] [--json]``: a notebook run with
papermill in a project's folder, its executed copy saved to
``04_Project_Files/Batch/<name>_<UTC timestamp>.ipynb`` and committed.

stdout gets the executed notebook's path (or, with ``--json``, the result). Exit status: 0 every
cell ran, 1 a cell failed (the message names the cell and its error; the notebook is saved
with it), the run was canceled (from the queue: the cell it was in is named) or refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from studio.cli.app import app, err_console
from studio.cli.options import JsonOption, WorkspaceOption


def parameter_pairs(args: list[str]) -> list[tuple[str, str]]:
    """``-p NAME VALUE`` (or ``--parameter``) pairs of the command's extra arguments (typer
    has no repeatable two-value option); anything else is refused."""
    pairs, rest = [], list(args)
    while rest:
        flag = rest.pop(0)
        if flag not in ("-p", "--parameter"):
            raise typer.BadParameter(f"unexpected argument {flag!r}", param_hint="-p NAME VALUE")
        if len(rest) < 2:
            raise typer.BadParameter(f"{flag} needs a NAME and a VALUE", param_hint="-p")
        pairs.append((rest.pop(0), rest.pop(0)))
    return pairs


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    epilog="Parameters: -p NAME VALUE (repeatable), read as papermill's -p reads them: "
    "True/False, None, an int, a float, else text. Example: "
    "studio batch Batch_render.ipynb -p prompt 'lanterns at dusk' -p seed 7 --json",
)
def batch(
    ctx: typer.Context,
    notebook: Annotated[Path, typer.Argument(help="The notebook to run (.ipynb).")],
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            help="Project folder name, uuid or title in the workspace, or a project's folder "
            "(default: the project the current folder is in).",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    on_cluster: Annotated[
        bool,
        typer.Option(
            "--cluster",
            help="Run it on a worker of the workspace's Dask cluster (STUDIO_SCHEDULER, else "
            "workspace.json's scheduler, else a local cluster), its jobs on the same cluster.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Run a notebook with papermill (its cell tagged `parameters` gets the -p values) in the
    project's folder, here or on the cluster; the executed notebook is saved and committed, a
    failed cell's error in it. Shows up in the project's jobs (kind batch)."""
    from studio.batches import BatchFailed, batch_project, parse_parameters, run_batch

    try:
        parameters = parse_parameters(parameter_pairs(list(ctx.args)))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="-p") from None
    opened = batch_project(project, workspace=workspace)
    err_console.print(f"running {notebook} in {opened.path}…", highlight=False)
    try:
        result = run_batch(notebook, project=opened, parameters=parameters, cluster=on_cluster)
    except BatchFailed as exc:
        if as_json:
            typer.echo(json.dumps(exc.result.as_dict(opened.path), ensure_ascii=False))
        raise
    if as_json:
        typer.echo(json.dumps(result.as_dict(opened.path), ensure_ascii=False))
    else:
        err_console.print(f"done in {result.duration_s:.1f} s", highlight=False)
        typer.echo(str(result.output))
