"""The Dask cluster (issue 5 item 1): connect to ``STUDIO_SCHEDULER`` or start a local one.

A local cluster's workers declare what the machine has: one worker per GPU with
``resources={"VRAM": <GB of that GPU>}`` (from ``nvidia-smi``), or CPU-only workers that
declare no VRAM when there is no GPU.

The placement rule, by Dask worker resources:

* a GPU job asks for ``{"VRAM": <GB>}``, so it runs only on a worker whose GPU fits;
* a CPU pipeline (the draft pipelines) asks for nothing and runs anywhere;
* a CPU task that must never take a GPU worker's slot (``render_final_video``: minutes of
  MoviePy/ffmpeg encoding) asks for ``{"CPU": 1}``, which only workers *without* a GPU declare
  (``CPU=<threads>``). A machine with GPUs therefore also starts one CPU worker, and a cluster
  with no CPU worker refuses a render at once (:func:`cpu_slots`) rather than queue it forever
  (unless an autoscaler is configured: then it queues for one).
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
CPU_RESOURCE: Final = "CPU"
"""The Dask resource only workers without a GPU declare (one per thread): what a CPU task
that must not take a GPU worker's slot asks for (see the module doc)."""


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
    GPUs of different sizes declare the smallest, a LocalCluster limitation), plus one CPU
    worker for the tasks that must not take a GPU's slot. Without: CPU workers (default
    ``min(2, cores)``). CPU workers declare ``CPU`` slots and no VRAM."""
    from distributed import LocalCluster

    gpus = detect_vram_gb() if vram_gb is None else vram_gb
    options: dict[str, Any] = {
        "threads_per_worker": 1,
        "processes": processes,
        "dashboard_address": ":0" if dashboard else None,
        "preload": [WORKER_PRELOAD],
    }
    cpu_slots = {CPU_RESOURCE: float(options["threads_per_worker"])}
    if not gpus:
        count = n_workers or max(1, min(2, os.cpu_count() or 1))
        return LocalCluster(n_workers=count, resources=cpu_slots, **options)  # type: ignore[no-untyped-call]
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=n_workers or len(gpus), resources={"VRAM": min(gpus)}, **options
    )
    # A LocalCluster makes its workers alike; the CPU worker is one more entry of its spec.
    spec = cluster.new_spec
    cluster.worker_spec["cpu"] = {
        **spec, "options": {**spec["options"], "resources": cpu_slots}
    }  # fmt: skip
    cluster.sync(cluster._correct_state)  # type: ignore[no-untyped-call]
    return cluster


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


def cpu_slots(client: Client) -> float:
    """The ``CPU`` slots the workers the scheduler knows declare together (0: no worker
    without a GPU, so a task asking for one would wait for ever)."""
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    return sum(float(w.get("resources", {}).get(CPU_RESOURCE, 0.0)) for w in workers.values())


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
    resource name, and a task asking for ``VRAM`` would then wait forever); a worker without
    a GPU (``vram_gb`` 0) declares ``CPU`` slots instead, one per thread."""
    command = [
        sys.executable, "-m", "dask", "worker", scheduler, "--nthreads", str(nthreads),
        "--no-dashboard", "--preload", WORKER_PRELOAD,
    ]  # fmt: skip
    if vram_gb > 0:
        command += ["--resources", f"VRAM={vram_gb:g}"]
    else:
        command += ["--resources", f"{CPU_RESOURCE}={nthreads}"]
    if name:
        command += ["--name", name]
    return command


def worker_env(gpu: int | None) -> dict[str, str]:
    """The worker's environment: pinned to one GPU when ``gpu`` is given."""
    env = dict(os.environ)
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = str(gpu)
    return env
