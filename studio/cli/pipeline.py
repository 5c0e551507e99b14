"""``studio pipeline list | new | build | run | base-image``: the Function Runner from a shell."""

from __future__ import annotations

import json
import tempfile
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from studio.cli.app import app
from studio.cli.options import JsonOption
from studio.config import load_settings

pipeline_app = typer.Typer(help="Pipelines: list, scaffold, build images, run jobs.")
app.add_typer(pipeline_app, name="pipeline")
console = Console(stderr=True, highlight=False)


@pipeline_app.command("list")
def list_(json_: JsonOption = False) -> None:
    """The pipelines found (STUDIO_PIPELINE_DIRS, then the built-ins), by reference
    (``id:version``; the version is the image tag, ``id`` alone means the installed one)."""
    from studio.pipelines import discover

    pipelines = discover()
    if json_:
        typer.echo(
            json.dumps(
                [
                    {
                        **p.manifest.model_dump(mode="json"),
                        "ref": p.manifest.ref,
                        "image_name": p.manifest.image_name,
                        "folder": str(p.folder),
                    }
                    for p in pipelines.values()
                ],
                indent=2,
            )
        )
        return
    for p in pipelines.values():
        m = p.manifest
        draft = " [draft]" if m.draft else ""
        typer.echo(f"{m.ref:<24} {m.task:<15} {m.mode:<9} {m.title}{draft}")


@pipeline_app.command()
def new(
    name: Annotated[str, typer.Argument(help="Pipeline id (lower case, digits, -, _).")],
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Parent folder (default: ./pipelines).")
    ] = None,
) -> None:
    """Scaffold a working pipeline folder from the template."""
    from studio.pipelines import scaffold

    settings = load_settings()
    parent = directory or (
        settings.pipeline_dirs[0] if settings.pipeline_dirs else Path("pipelines")
    )
    folder = scaffold(name, parent=parent)
    typer.echo(str(folder))
    console.print(f"next: edit {folder}/entrypoint.py, then `studio pipeline run {folder} ...`")


@pipeline_app.command()
def build(
    pipeline: Annotated[str, typer.Argument(help="Pipeline id or folder.")],
    wheelhouse: Annotated[
        Path | None,
        typer.Option(help="Folder of wheels to install from (air-gapped: no download)."),
    ] = None,
    base_image: Annotated[
        str | None,
        typer.Option(
            help="BASE_IMAGE build argument (default: STUDIO_BASE_IMAGE, else found or made)."
        ),
    ] = None,
) -> None:
    """Build the pipeline's image, without network inside the build (a Generate builds a
    missing image by itself; this rebuilds on request, e.g. air-gapped with --wheelhouse).
    Waits for a build of the same image already running on this host."""
    from studio.pipelines import get_pipeline
    from studio.runner.contract import ProgressEvent
    from studio.runner.docker import docker_client
    from studio.runner.images import ensure_image

    def show(event: ProgressEvent) -> None:
        console.print(event.message, markup=False)

    found = get_pipeline(pipeline)
    client = docker_client()
    ensure_image(
        found,
        client=client,
        on_progress=show,
        base_image=base_image,
        wheelhouse=wheelhouse,
        force=True,
    )
    typer.echo(f"{found.manifest.image_name} {client.images.get(found.manifest.image_name).id}")


@pipeline_app.command("base-image")
def base_image(
    tag: Annotated[str, typer.Option(help="Image tag to create.")] = "studio-base:bookworm",
) -> None:
    """Build a local Debian + python3 base image with debootstrap (no registry needed)."""
    from studio.runner.build import build_base_image
    from studio.runner.docker import docker_client

    typer.echo(
        build_base_image(
            client=docker_client(),
            tag=tag,
            on_log=lambda line: console.print(line, markup=False),
        )
    )


@pipeline_app.command()
def run(
    pipeline: Annotated[str, typer.Argument(help="Pipeline id or folder.")],
    inputs: Annotated[
        list[str] | None, typer.Option("--input", "-i", help="NAME=VALUE (repeatable).")
    ] = None,
    quality: Annotated[str, typer.Option(help="low, standard or high.")] = "low",
    runner: Annotated[
        str | None, typer.Option(help="docker or process (default: STUDIO_RUNNER / auto).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Job folder (default: a new temp folder).")
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds (default: manifest).")] = None,
    json_: JsonOption = False,
) -> None:
    """Run one job locally, printing progress; exits 1 with the error code on failure."""
    from studio.models import require_models
    from studio.pipelines import get_pipeline, parse_cli_inputs
    from studio.quality import QUALITIES
    from studio.runner.base import Runner, create_job
    from studio.runner.contract import Event, JobFailed
    from studio.runner.select import default_runner
    from studio.workspace import find_workspace

    if quality not in QUALITIES:
        raise typer.BadParameter(f"quality must be one of {', '.join(QUALITIES)}")
    found = get_pipeline(pipeline)
    values = parse_cli_inputs(found.manifest, inputs or [])
    job_dir = out or Path(tempfile.mkdtemp(prefix=f"studio-job-{found.id}-")) / "job"
    models = require_models(found.id, found.manifest.models, project_root=None,
                            workspace=find_workspace(Path.cwd()))  # fmt: skip
    create_job(found, values, job_dir=job_dir, quality=quality, models=models)
    chosen: Runner
    if runner == "process":
        from studio.runner.process import ProcessRunner

        chosen = ProcessRunner()
    elif runner == "docker":
        from studio.runner.docker import DockerRunner

        chosen = DockerRunner()
    else:
        chosen = default_runner()

    def show(event: Event) -> None:
        if event.type == "progress":
            counter = f"[{event.step}/{event.total}] " if event.total else ""
            console.print(f"{counter}{event.message}", markup=False)
        elif event.type == "log":
            console.print(f"  {event.message}", style="dim", markup=False)

    cancel = threading.Event()
    try:
        with chosen:
            result = chosen.run(found, job_dir, on_event=show, cancel=cancel, timeout_s=timeout)
    except KeyboardInterrupt:
        cancel.set()
        raise
    if json_:
        typer.echo(json.dumps({**result.model_dump(mode="json"), "job_dir": str(job_dir)}))
    if result.error is not None:
        raise JobFailed(result.error)
    if not json_:
        for name, rel in result.outputs.items():
            typer.echo(f"{name}: {job_dir / rel}")
