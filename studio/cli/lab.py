"""``studio lab``: JupyterLab on the workspace, opened on the Welcome notebook."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from studio.cli.app import app, err_console
from studio.cli.doctor import report_readiness
from studio.cli.options import WorkspaceOption
from studio.config import load_settings
from studio.errors import StudioError
from studio.workspace import Workspace, locate_workspace

WELCOME = "Welcome.ipynb"


def install_welcome_notebook(workspace: Path) -> Path:
    """Copy the Welcome notebook into the workspace unless one is there (never overwritten)."""
    target = workspace / WELCOME
    if not target.exists():
        source = resources.files("studio") / "notebooks" / WELCOME
        with resources.as_file(source) as path:
            shutil.copyfile(path, target)
    return target


def jupyter_lab_command(
    workspace: Path, *, ip: str, port: int, open_browser: bool, extra: list[str]
) -> list[str]:
    command = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={workspace}",
        f"--ServerApp.ip={ip}",
        f"--ServerApp.port={port}",
        f"--ServerApp.open_browser={open_browser}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines run as root
    return [*command, *extra, WELCOME]


def prebuild_images(*, say: Callable[[str], None]) -> threading.Thread | None:
    """Build the built-in pipelines' missing Docker images in the background, so the first
    Generate is fast; a Generate that comes first waits for the same build (one per host).
    A model pipeline's (gigabytes of torch) only once its models are in the workspace's
    store: without weights it cannot run anyway. None when pipelines will run as local
    processes."""
    from studio.models import resolve_models
    from studio.pipelines import builtin_pipelines_dir, discover
    from studio.runner.contract import ProgressEvent
    from studio.runner.docker import docker_client
    from studio.runner.images import ensure_image

    if load_settings().runner == "process":
        return None
    try:
        client = docker_client(timeout=600)
    except StudioError:
        say("pipeline images: no Docker daemon answers, pipelines run as local processes")
        return None

    def build_all() -> None:
        last = ""

        def show(event: ProgressEvent) -> None:
            nonlocal last
            if event.message != last:
                last = event.message
                say(f"pipeline images: {event.message}")

        failed, waiting = [], []
        for pipeline in discover([builtin_pipelines_dir()]).values():
            if resolve_models(pipeline.manifest.models, project_root=None)[1]:
                waiting.append(pipeline.id)
                continue
            try:
                ensure_image(pipeline, client=client, on_progress=show)
            except StudioError as exc:
                failed.append(pipeline.id)
                say(f"pipeline images: {pipeline.id} cannot be built: {exc}")
        if waiting:
            say(f"pipeline images: {', '.join(waiting)} wait for their models "
                "(`studio models add`); a Generate builds them then")  # fmt: skip
        if failed:
            say(f"pipeline images: {', '.join(failed)} not built; a Generate will try again")
        else:
            say("pipeline images: ready")

    thread = threading.Thread(target=build_all, daemon=True, name="prebuild-images")
    thread.start()
    return thread


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def lab(
    ctx: typer.Context,
    workspace: WorkspaceOption = None,
    ip: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (the next free one if taken).")] = 8888,
    browser: Annotated[bool, typer.Option(help="Open a web browser.")] = True,
    skip_checks: Annotated[bool, typer.Option(help="Start even if git-lfs is missing.")] = False,
    cluster: Annotated[
        bool, typer.Option(help="Start a local Dask cluster (unless STUDIO_SCHEDULER is set).")
    ] = True,
    prebuild: Annotated[
        bool,
        typer.Option(help="Build the built-in pipelines' Docker images in the background."),
    ] = True,
) -> None:
    """Check the machine, prepare the workspace, start a local Dask cluster and JupyterLab
    on the workspace; kernels find the cluster through STUDIO_SCHEDULER. Extra arguments go
    to JupyterLab."""
    if not report_readiness(workspace) and not skip_checks:
        err_console.print("fix the above, or pass --skip-checks to start anyway")
        raise typer.Exit(1)
    ws = Workspace(locate_workspace(workspace))
    install_welcome_notebook(ws.path)
    command = jupyter_lab_command(
        ws.path, ip=ip, port=port, open_browser=browser, extra=list(ctx.args)
    )
    configured = load_settings().scheduler or ws.config.scheduler
    if configured or not cluster:
        if configured:
            typer.echo(f"kernels will use the Dask scheduler at {configured}")
        os.chdir(ws.path)
        os.execv(command[0], command)  # noqa: S606 - JupyterLab replaces this process
    from studio.engine.processes import local_team_cluster

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # so the cluster below is stopped on SIGTERM too

    signal.signal(signal.SIGTERM, stop)
    with local_team_cluster() as address:
        typer.echo(f"Dask scheduler at {address} (STUDIO_SCHEDULER for the kernels)", err=True)
        if prebuild:  # the local workers share this host, so its images
            prebuild_images(say=lambda line: typer.echo(line, err=True))
        lab_process = subprocess.Popen(
            command, cwd=ws.path, env={**os.environ, "STUDIO_SCHEDULER": address}
        )
        try:
            lab_process.wait()
        except KeyboardInterrupt:
            lab_process.terminate()
            lab_process.wait(timeout=30)
