"""``studio.batch(notebook, parameters=..., project=...)``: one batch run, start to end."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from studio.batches import store
from studio.batches.execute import execute
from studio.batches.naming import FailedCell
from studio.engine import jobs as job_log
from studio.engine.cancel_watch import CancelWatch
from studio.errors import InvalidInput, StudioError, said

if TYPE_CHECKING:
    from distributed import Client

    from studio.project.project import Project


class BatchFailed(StudioError):
    """A cell of the batch notebook failed, or the run was canceled (the executed notebook,
    up to that cell and with its error, is saved and committed all the same)."""

    def __init__(self, result: BatchResult, cell: FailedCell) -> None:
        super().__init__(
            f"{result.notebook.name}: {cell.describe(canceled=result.status == 'canceled')}",
            hint=f"open {result.output} to see the cell's output and traceback",
        )
        self.result = result


@dataclass(frozen=True)
class BatchResult:
    """What a batch run did: where its executed notebook went and how it ended."""

    job_id: str
    notebook: Path
    output: Path
    status: Literal["success", "failed", "canceled"]
    duration_s: float
    parameters: dict[str, Any] = field(default_factory=dict)
    commit: str | None = None
    failed_cell: FailedCell | None = None

    def as_dict(self, project_root: Path) -> dict[str, Any]:
        """The ``--json`` shape (paths: absolute, and project-relative as ``output``)."""
        return {
            "ok": self.status == "success",
            "job_id": self.job_id,
            "status": self.status,
            "notebook": str(self.notebook),
            "path": str(self.output),
            "output": self.output.relative_to(project_root).as_posix(),
            "commit": self.commit,
            "duration_s": round(self.duration_s, 3),
            "parameters": self.parameters,
            "failed_cell": self.failed_cell.as_dict() if self.failed_cell else None,
        }


def batch_project(
    project: Project | str | Path | None, *, workspace: Path | None = None
) -> Project:
    """The project a batch runs in: given; a project's folder; a project of the workspace
    (folder name, uuid or title); or, when None, the project the current folder is in."""
    from studio.project.project import Project
    from studio.workspace import enclosing_project, existing_workspace

    if isinstance(project, Project):
        return project
    if project is None:
        found = enclosing_project(Path.cwd())
        if found is None:
            raise InvalidInput(
                f"{Path.cwd()} is not inside a project",
                hint="name one with --project (or project=...), or run from its folder",
            )
        return Project(found)
    folder = enclosing_project(Path(project)) if Path(project).is_dir() else None
    if folder is not None and folder == Path(project).expanduser().resolve():
        return Project(folder)
    return existing_workspace(workspace).open_project(str(project))


@dataclass(frozen=True)
class ReservedRun:
    """A batch run logged as queued, its output's name reserved: what runs it needs (sent to
    a Dask worker as it is, for a run on the cluster)."""

    job_id: str
    notebook: Path
    project_root: Path
    output: Path
    partial: Path
    parameters: dict[str, Any]


def run_batch(
    notebook: str | Path,
    *,
    project: Project,
    parameters: dict[str, Any] | None = None,
    check: bool = True,
    cluster: bool | Client = False,
) -> BatchResult:
    """Run ``notebook`` with papermill in the project's folder (its ``parameters`` cell's
    values replaced by ``parameters``), save the executed notebook to
    ``04_Project_Files/Batch/<name>_<UTC timestamp>.ipynb`` and commit it. The takes the
    notebook makes are committed as they are made (by the engine, or ``commit_takes``); the
    executed notebook is a commit of its own. Logged in the job log as a job of kind
    ``batch``. A failed cell: the notebook is saved and committed with its error, then
    :class:`BatchFailed` is raised (``check=False``: returned, status ``failed``).

    ``cluster``: run it on a Dask worker (``True``: the project's engine's cluster; or that
    client's), waiting for it here; its kernel's engine uses the same cluster."""
    source = Path(notebook).expanduser().resolve()
    if not source.is_file():
        raise InvalidInput(f"no notebook at {source}", hint="give the path of an .ipynb file")
    if source.suffix != ".ipynb":
        raise InvalidInput(f"{source.name} is not a notebook (.ipynb)")
    values = dict(parameters or {})
    root = project.path
    job_id = uuid.uuid4().hex
    output, partial = store.reserve_output(root, source, datetime.now(UTC))
    where = "cluster" if cluster is not False else "local"
    store.log_queued(root, job_id=job_id, notebook=source, parameters=values, output=output,
                     where=where)  # fmt: skip
    run = ReservedRun(job_id=job_id, notebook=source, project_root=root, output=output,
                      partial=partial, parameters=values)  # fmt: skip
    if cluster is False:
        result = run_reserved(run)
    else:
        result = _on_cluster(run, client=_client(project, cluster))
    if result.failed_cell is not None and check:
        raise BatchFailed(result, result.failed_cell)
    return result


def _client(project: Project, cluster: bool | Client) -> Client:
    if not isinstance(cluster, bool):
        return cluster
    from studio.engine.engine import default_engine

    return default_engine(project).client


def _on_cluster(run: ReservedRun, *, client: Client) -> BatchResult:
    """The run as a task on a worker, waited for (the caller's process holds it: its pid in
    the log keeps the job alive while it is queued)."""
    try:
        key = job_log.process_task_key(run.job_id)
        future = client.submit(run_on_worker, run, key=key, pure=False)
        result: BatchResult = future.result()
    except BaseException as exc:
        state = job_log.snapshot(run.project_root).jobs.get(run.job_id)
        if state is not None and not state.finished and state.state == "queued":
            # It never started (not submitted, or the cluster let it go): nothing ran.
            store.discard(run.partial)
            store.log_finished(run.project_root, job_id=run.job_id, notebook=run.notebook,
                               output=run.output, error=f"not run on the cluster: {said(exc)}",
                               info={})  # fmt: skip
        raise
    return result


def run_on_worker(run: ReservedRun) -> BatchResult:
    """The Dask task of a run on the cluster. It secedes from the worker's thread pool first:
    the jobs its notebook submits need that slot (on a one-thread worker they would wait for
    this task forever); its kernel is told the scheduler's address (``STUDIO_SCHEDULER``)."""
    from distributed import get_worker, secede

    address = str(get_worker().scheduler.address)
    _hold_while_paused(run)  # on its worker slot, as the engine's jobs wait
    secede()  # type: ignore[no-untyped-call]  # distributed is untyped
    # An in-process cluster's address means nothing to another process (the kernel's
    # engine then makes its own cluster, as a kernel without a scheduler does).
    return run_reserved(run, scheduler=None if address.startswith("inproc://") else address)


def run_reserved(run: ReservedRun, *, scheduler: str | None = None) -> BatchResult:
    """Run a reserved batch here (this process, or a worker's task): running, then the
    executed notebook saved and committed, then the run's last record."""
    root, source, job_id, output, partial = (
        run.project_root, run.notebook, run.job_id, run.output, run.partial
    )  # fmt: skip
    clock = time.perf_counter()
    failed: FailedCell | None = None
    watch = CancelWatch(job_log.cancel_marker(root, job_id))
    stop = watch.event
    env = {"STUDIO_SCHEDULER": scheduler} if scheduler else {}
    try:
        store.log_running(root, job_id=job_id, notebook=source)
        failed = execute(source, output=partial, parameters=run.parameters, cwd=root,
                         stop=stop, env=env)  # fmt: skip
        store.save_output(partial, output)
        status: Literal["success", "failed", "canceled"] = (
            "success" if failed is None else "canceled" if stop.is_set() else "failed"
        )
        commit = store.commit_output(root, output, notebook=source.name, status=status)
    except BaseException as exc:
        # Not a cell's failure (no kernel, a commit refused, Ctrl+C): what ran is kept.
        if partial.exists() and partial.stat().st_size:
            store.save_output(partial, output)
        store.discard(partial)
        store.log_finished(root, job_id=job_id, notebook=source, output=output,
                           error=said(exc), info={})  # fmt: skip
        raise
    finally:
        watch.close()
    result = BatchResult(
        job_id=job_id, notebook=source, output=output, status=status,
        duration_s=time.perf_counter() - clock, parameters=run.parameters, commit=commit,
        failed_cell=failed,
    )  # fmt: skip
    ended: dict[str, Any] = {"duration_s": round(result.duration_s, 3), "commit": commit}
    if failed is not None:
        ended["failed_cell"] = failed.as_dict()
    error = None if failed is None else failed.describe(canceled=status == "canceled")
    store.log_finished(root, job_id=job_id, notebook=source, output=output, error=error,
                       info=ended, canceled=status == "canceled")  # fmt: skip
    return result


def _hold_while_paused(run: ReservedRun) -> None:
    """While the project's queue is paused, a run on the cluster waits before it starts
    (until resumed, or canceled: it then starts and its first cell is interrupted)."""
    from studio.engine import pause

    watch = CancelWatch(job_log.cancel_marker(run.project_root, run.job_id))

    def held() -> None:
        store.log_held(run.project_root, job_id=run.job_id, notebook=run.notebook,
                       step=pause.HELD_STEP)  # fmt: skip

    try:
        pause.hold_while_paused(run.project_root, stop=watch.event, on_held=held)
    finally:
        watch.close()
