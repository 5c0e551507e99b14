"""The Dask cluster (issue 5 item 1): connect to ``STUDIO_SCHEDULER`` or start a local one.

A local cluster's workers declare what the machine has: one worker per GPU with
``resources={"VRAM": <GB of that GPU>}`` (from ``nvidia-smi``), or CPU-only workers that
declare no VRAM when there is no GPU. Tasks that need no GPU are submitted without resources,
so they run anywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING, Any, Final

from studio.config import load_settings
from studio.errors import StudioError

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

NVIDIA_SMI_TIMEOUT_S: Final = 10.0
WORKER_PRELOAD: Final = "studio.engine.tasks"
"""Imported by every worker the studio starts, when it starts: the first job does not pay
for importing the studio (half a second), so a first Generate is as quick as the next."""
CONNECT_TIMEOUT_S: Final = 30.0


class ClusterError(StudioError):
    pass


def parse_nvidia_smi(text: str) -> list[float]:
    """Pure: ``nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits`` output
    (MiB per line) -> GB per GPU, rounded down to whole GB as workers declare them."""
    sizes = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            try:
                sizes.append(float(int(float(line) / 1024)))
            except ValueError:
                continue  # "[N/A]" or a warning line: not a size
    return sizes


def detect_vram_gb() -> list[float]:
    """GPU memory per GPU on this machine, in GB; empty when there is no NVIDIA GPU."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        done = subprocess.run(
            [smi, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return parse_nvidia_smi(done.stdout) if done.returncode == 0 else []


def local_cluster(
    *,
    n_workers: int | None = None,
    vram_gb: list[float] | None = None,
    processes: bool = True,
    dashboard: bool = True,
) -> LocalCluster:
    """A local cluster whose workers declare the machine's GPUs (``vram_gb``, default
    detected). With GPUs: one single-threaded worker per GPU (one job per GPU at a time;
    GPUs of different sizes declare the smallest, a LocalCluster limitation). Without: CPU
    workers (default ``min(2, cores)``), declaring no VRAM."""
    from distributed import LocalCluster

    gpus = detect_vram_gb() if vram_gb is None else vram_gb
    options: dict[str, Any] = {
        "threads_per_worker": 1,
        "processes": processes,
        "dashboard_address": ":0" if dashboard else None,
        "preload": [WORKER_PRELOAD],
    }
    if gpus:
        options["resources"] = {"VRAM": min(gpus)}
        count = n_workers or len(gpus)
    else:
        count = n_workers or max(1, min(2, os.cpu_count() or 1))
    return LocalCluster(n_workers=count, **options)  # type: ignore[no-untyped-call]


def connect(*, scheduler: str | None = None) -> Client:
    """A client of ``scheduler`` (default ``STUDIO_SCHEDULER``), or of a new local cluster
    when none is configured."""
    from distributed import Client

    address = scheduler if scheduler is not None else load_settings().scheduler
    if not address:
        return Client(local_cluster())  # type: ignore[no-untyped-call]
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S)  # type: ignore[no-untyped-call]
    except OSError as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address}: {exc}",
            hint="start it with `dask scheduler` (or `studio cluster scheduler`), or unset "
            "STUDIO_SCHEDULER to use a local cluster",
        ) from None


def worker_vram(client: Client) -> list[float]:
    """The declared VRAM of every worker the scheduler knows (0 for a CPU-only worker)."""
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    return [float(w.get("resources", {}).get("VRAM", 0.0)) for w in workers.values()]


def dashboard_html(client: Client) -> str:
    """An HTML link to the Dask dashboard (shown in the notebook)."""
    link = client.dashboard_link
    return f'<a href="{link}" target="_blank">Dask dashboard</a>' if link else "no dashboard"


# --- team clusters: the commands `studio cluster` and `studio lab` start (pure) -------------


def scheduler_command(*, host: str, port: int, dashboard_port: int | None) -> list[str]:
    dashboard = f"{host}:{dashboard_port}" if dashboard_port is not None else ":0"
    return [
        sys.executable, "-m", "dask", "scheduler", "--host", host, "--port", str(port),
        "--dashboard-address", dashboard, "--no-show",
    ]  # fmt: skip


def worker_command(
    scheduler: str, *, vram_gb: float, nthreads: int = 1, name: str | None = None
) -> list[str]:
    """A worker declaring ``VRAM`` on its command line (the env-var route lower-cases the
    resource name, and a task asking for ``VRAM`` would then wait forever)."""
    command = [
        sys.executable, "-m", "dask", "worker", scheduler, "--nthreads", str(nthreads),
        "--no-dashboard", "--preload", WORKER_PRELOAD,
    ]  # fmt: skip
    if vram_gb > 0:
        command += ["--resources", f"VRAM={vram_gb:g}"]
    if name:
        command += ["--name", name]
    return command


def worker_env(gpu: int | None) -> dict[str, str]:
    """The worker's environment: pinned to one GPU when ``gpu`` is given."""
    env = dict(os.environ)
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = str(gpu)
    return env
