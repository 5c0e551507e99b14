"""``studio cluster scheduler|worker``: a team Dask cluster whose workers declare their VRAM."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from studio.cli.app import app
from studio.engine.cluster import (
    detect_vram_gb,
    scheduler_command,
    worker_command,
    worker_env,
)

cluster_app = typer.Typer(
    help="Run a team cluster: one scheduler, workers declaring their GPU memory (VRAM).",
    no_args_is_help=True,
)
app.add_typer(cluster_app, name="cluster")


@cluster_app.command()
def scheduler(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Scheduler port.")] = 8786,
    dashboard_port: Annotated[int, typer.Option(help="Dashboard port.")] = 8787,
) -> None:
    """Start the scheduler; point kernels at it with STUDIO_SCHEDULER=tcp://HOST:PORT."""
    command = scheduler_command(host=host, port=port, dashboard_port=dashboard_port)
    typer.echo(f"scheduler: tcp://{host}:{port}  (export STUDIO_SCHEDULER=tcp://{host}:{port})")
    os.execv(command[0], command)  # noqa: S606 - the scheduler replaces this process


@cluster_app.command()
def worker(
    scheduler_address: Annotated[str, typer.Argument(metavar="SCHEDULER", help="tcp://host:port")],
    vram: Annotated[
        float | None,
        typer.Option(help="GPU memory to declare, in GB (default: detected; none -> CPU only)."),
    ] = None,
    gpu: Annotated[int | None, typer.Option(help="Pin this worker to one GPU (index).")] = None,
    nthreads: Annotated[int, typer.Option(help="Tasks at a time.")] = 1,
    name: Annotated[str | None, typer.Option(help="Worker name.")] = None,
) -> None:
    """Start a worker that declares its VRAM, so GPU tasks only go where they fit."""
    if vram is None:
        sizes = detect_vram_gb()
        vram = sizes[gpu if gpu is not None else 0] if sizes else 0.0
    command = worker_command(scheduler_address, vram_gb=vram, nthreads=nthreads, name=name)
    typer.echo(
        f"worker for {scheduler_address}: VRAM={vram:g} GB"
        + (f", GPU {gpu}" if gpu is not None else "")
    )
    os.execve(command[0], command, worker_env(gpu))  # noqa: S606
