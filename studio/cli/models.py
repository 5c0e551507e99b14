"""``studio models add | list | verify | remove``: the model store (never a download)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from studio.cli.app import app, err_console
from studio.cli.options import JsonOption, WorkspaceOption
from studio.config import load_settings
from studio.errors import InvalidInput
from studio.models import ModelRecord, ModelStore, project_store, workspace_store
from studio.workspace import existing_workspace

models_app = typer.Typer(
    help="The model store: weights added once from a folder or the local Hugging Face cache, "
    "never fetched at run time.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")

ProjectOption = Annotated[
    str | None,
    typer.Option(
        "--project",
        "-p",
        help="A project (folder name, uuid or title): its own 01_Assets/AI_Models, committed "
        "through Git LFS (LoRAs, fine-tunes). Default: the workspace's shared store.",
        show_default=False,
    ),
]


def chosen_store(*, workspace: Path | None, project: str | None) -> ModelStore:
    """The project's store, else the shared one (``STUDIO_MODELS_DIR`` needs no workspace)."""
    if project is not None:
        return project_store(existing_workspace(workspace).open_project(project).path)
    if load_settings().models_dir is not None and workspace is None:
        return workspace_store(None)
    return workspace_store(existing_workspace(workspace).path)


def record_summary(record: ModelRecord, store: ModelStore) -> dict[str, object]:
    """The JSON shape of a model in ``models list --json``."""
    return {
        "id": record.id,
        "path": str(store.path(record.id)),
        "source": record.source,
        "added_at": record.added_at.isoformat(),
        "files": len(record.files),
        "size": record.size,
    }


@models_app.command()
def add(
    model_id: Annotated[str, typer.Argument(metavar="ID", help="Model id, e.g. flux1-schnell.")],
    path: Annotated[
        Path | None, typer.Argument(help="The weights' folder (or one file).", show_default=False)
    ] = None,
    from_hf_cache: Annotated[
        str | None,
        typer.Option(
            "--from-hf-cache",
            metavar="REPO",
            help="Take an already-downloaded snapshot of REPO (ORG/NAME) from the local Hugging "
            "Face cache (HF_HUB_CACHE, HF_HOME, ~/.cache/huggingface/hub); no network.",
        ),
    ] = None,
    revision: Annotated[
        str, typer.Option(help="With --from-hf-cache: the branch in refs/ or a commit hash.")
    ] = "main",
    replace: Annotated[bool, typer.Option("--replace", help="Replace a model of that id.")] = False,
    copy: Annotated[
        bool, typer.Option("--copy", help="Copy the files (default: hard links where possible).")
    ] = False,
    project: ProjectOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Add a model: its files are linked or copied into the store and hashed once."""
    if (path is None) == (from_hf_cache is None):
        raise InvalidInput(
            "give either PATH or --from-hf-cache REPO",
            hint="studio models add flux1-schnell /path/to/FLUX.1-schnell",
        )
    store = chosen_store(workspace=workspace, project=project)
    if from_hf_cache is not None:
        record = store.add_from_hf_cache(model_id, from_hf_cache, revision=revision,
                                         replace=replace)  # fmt: skip
    else:
        assert path is not None  # noqa: S101 - checked above
        record = store.add(model_id, path, replace=replace, link=not copy)
    where = store.path(record.id)
    typer.echo(f"{record.id}: {len(record.files)} files, {record.size} bytes in {where}")


@models_app.command("list")
def list_(
    project: ProjectOption = None, workspace: WorkspaceOption = None, as_json: JsonOption = False
) -> None:
    """The models of the store."""
    store = chosen_store(workspace=workspace, project=project)
    rows = [record_summary(r, store) for r in store.list()]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        Console().print(f"no models yet in {store.root}; add one with `studio models add ID PATH`")
        return
    table = Table("id", "files", "size", "source")
    for row in rows:
        table.add_row(str(row["id"]), str(row["files"]), str(row["size"]), str(row["source"]))
    Console().print(table)


@models_app.command()
def verify(
    model_ids: Annotated[
        list[str] | None, typer.Argument(metavar="[ID]...", help="Default: every model.")
    ] = None,
    project: ProjectOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Hash every file again and compare with the hashes recorded at add time; exits 1 when a
    file is missing or changed."""
    store = chosen_store(workspace=workspace, project=project)
    problems = store.verify(model_ids or None)
    for problem in problems:
        err_console.print(f"[bold red]error:[/] {problem}", highlight=False)
    if problems:
        err_console.print(
            "[yellow]hint:[/] add the model again from its source: studio models add ID PATH "
            "--replace",
            highlight=False,
        )
        raise typer.Exit(1)
    checked = model_ids or [r.id for r in store.list()]
    typer.echo(f"{len(checked)} model(s) verified in {store.root}")


@models_app.command()
def remove(
    model_id: Annotated[str, typer.Argument(metavar="ID")],
    project: ProjectOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Remove a model from the store (a project's: committed as a removal)."""
    store = chosen_store(workspace=workspace, project=project)
    store.remove(model_id)
    typer.echo(f"removed {model_id} from {store.root}")
