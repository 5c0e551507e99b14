"""The runners of a Dask worker: made once per worker process, kept across jobs.

A worker runs every job through one one-shot runner (Docker when a daemon answers, else
local processes, per ``STUDIO_RUNNER``) and, for manifests with ``"mode": "warm"``, one warm
pool of the same backend, so a warm pipeline pays its setup once per worker. The pool evicts
least-recently-used workers to stay within the worker's declared memory and ``VRAM``. Both
live in a Dask worker plugin, so they are closed (warm workers stopped, containers removed)
when the worker closes.
"""

from __future__ import annotations

import atexit
import threading
from typing import TYPE_CHECKING, Any, Final

from distributed.diagnostics.plugin import WorkerPlugin

from studio.config import load_settings
from studio.pipelines import Pipeline
from studio.quality import Quality
from studio.runner.base import Runner
from studio.runner.docker import DockerRunner
from studio.runner.select import default_runner
from studio.runner.warm import WarmRunner

if TYPE_CHECKING:
    from distributed import Worker

PLUGIN_NAME: Final = "studio-runners"
GB: Final = 1024**3


class WorkerRunners:
    """The one-shot runner and the warm pool of one worker, each made on first use."""

    def __init__(
        self, *, memory_budget_gb: float | None = None, vram_budget_gb: float | None = None
    ) -> None:
        self.memory_budget_gb = memory_budget_gb
        self.vram_budget_gb = vram_budget_gb
        self._one_shot: Runner | None = None
        self._warm: WarmRunner | None = None
        self._lock = threading.Lock()

    @property
    def one_shot(self) -> Runner:
        with self._lock:
            if self._one_shot is None:
                self._one_shot = default_runner()
            return self._one_shot

    @property
    def warm(self) -> WarmRunner:
        one_shot = self.one_shot
        with self._lock:
            if self._warm is None:
                # The same containers runner (one Docker client, one watchdog per worker).
                docker = one_shot if isinstance(one_shot, DockerRunner) else None
                self._warm = WarmRunner(
                    "docker" if docker is not None else "process",
                    docker=docker,
                    memory_budget_gb=self.memory_budget_gb,
                    vram_budget_gb=self.vram_budget_gb,
                )
            return self._warm

    def for_pipeline(self, pipeline: Pipeline, *, quality: Quality) -> Runner:
        """The warm pool for a ``warm`` manifest, else the one-shot runner — after idle warm
        workers made room for the job's GPU memory (Dask counts only running tasks')."""
        if pipeline.manifest.mode == "warm":
            return self.warm
        need = pipeline.manifest.resources_for(quality)
        with self._lock:
            warm = self._warm
        if warm is not None and need.vram_gb > 0:
            warm.release(vram_gb=need.vram_gb)
        return self.one_shot

    def close(self) -> None:
        with self._lock:
            runners = [r for r in (self._warm, self._one_shot) if r is not None]
            self._warm = self._one_shot = None
        for runner in runners:  # the warm pool first: it stops its workers' containers
            runner.close()


class RunnersPlugin(WorkerPlugin):
    """Holds a worker's :class:`WorkerRunners`; Dask calls ``teardown`` when the worker closes."""

    def __init__(self) -> None:
        self.runners: WorkerRunners | None = None

    def setup(self, worker: Worker) -> None:
        self.runners = WorkerRunners(**worker_budgets(worker))

    def teardown(self, worker: Worker) -> None:
        if self.runners is not None:
            self.runners.close()


def worker_budgets(worker: Any) -> dict[str, float | None]:
    """The warm pool's budgets on ``worker``: its memory limit and declared ``VRAM``, unless
    ``STUDIO_WARM_*_BUDGET_GB`` say otherwise."""
    settings = load_settings()
    limit = getattr(getattr(worker, "memory_manager", None), "memory_limit", None)
    resources = getattr(getattr(worker, "state", None), "total_resources", {}) or {}
    return {
        "memory_budget_gb": settings.warm_memory_budget_gb or (limit / GB if limit else None),
        "vram_budget_gb": settings.warm_vram_budget_gb or float(resources.get("VRAM", 0.0)),
    }


_install_lock = threading.Lock()
_outside_workers: dict[str, WorkerRunners] = {}


def worker_runners() -> WorkerRunners:
    """The runners of the Dask worker running this task (installed on its first job); outside
    a worker (a direct call), one set per ``STUDIO_RUNNER`` choice for the process, closed
    at exit."""
    from distributed import get_worker

    try:
        worker: Any = get_worker()
    except ValueError:
        choice = load_settings().runner
        with _install_lock:
            if choice not in _outside_workers:
                _outside_workers[choice] = WorkerRunners()
                atexit.register(_outside_workers[choice].close)
            return _outside_workers[choice]
    with _install_lock:
        plugin = worker.plugins.get(PLUGIN_NAME)
        if plugin is None:
            from distributed.utils import sync

            # plugin_add runs setup now and teardown at the worker's close
            sync(worker.loop, worker.plugin_add, plugin=RunnersPlugin(), name=PLUGIN_NAME)
            plugin = worker.plugins[PLUGIN_NAME]
        if plugin.runners is None:  # its setup failed (logged by Dask): make them here
            plugin.runners = WorkerRunners(**worker_budgets(worker))
    runners: WorkerRunners = plugin.runners
    return runners
