"""``studio.batch(notebook, parameters=..., project=...)``: one batch run, start to end."""

from __future__ import annotations

import threading
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
from studio.errors import InvalidInput, StudioError

if TYPE_CHECKING:
    from studio.project.project import Project


CANCEL_POLL_S = 0.5
"""How often a run looks for its Cancel (the queue's, or ``project.queue().cancel``)."""


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


def run_batch(
    notebook: str | Path,
    *,
    project: Project,
    parameters: dict[str, Any] | None = None,
    check: bool = True,
) -> BatchResult:
    """Run ``notebook`` with papermill in the project's folder (its ``parameters`` cell's
    values replaced by ``parameters``), save the executed notebook to
    ``04_Project_Files/Batch/<name>_<UTC timestamp>.ipynb`` and commit it. The takes the
    notebook makes are committed as they are made (by the engine, or ``commit_takes``); the
    executed notebook is a commit of its own. Logged in the job log as a job of kind
    ``batch``. A failed cell: the notebook is saved and committed with its error, then
    :class:`BatchFailed` is raised (``check=False``: returned, status ``failed``)."""
    source = Path(notebook).expanduser().resolve()
    if not source.is_file():
        raise InvalidInput(f"no notebook at {source}", hint="give the path of an .ipynb file")
    if source.suffix != ".ipynb":
        raise InvalidInput(f"{source.name} is not a notebook (.ipynb)")
    values = dict(parameters or {})
    root = project.path
    job_id = uuid.uuid4().hex
    started = datetime.now(UTC)
    output, partial = store.reserve_output(root, source, started)
    store.log_queued(root, job_id=job_id, notebook=source, parameters=values, output=output)
    clock = time.perf_counter()
    failed: FailedCell | None = None
    stop, finished = threading.Event(), threading.Event()
    threading.Thread(
        target=_watch_cancel, args=(job_log.cancel_marker(root, job_id), stop, finished),
        daemon=True, name=f"batch-cancel-{job_id[:8]}",
    ).start()  # fmt: skip
    try:
        store.log_running(root, job_id=job_id, notebook=source)
        failed = execute(source, output=partial, parameters=values, cwd=root, stop=stop)
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
        message = exc.message if isinstance(exc, StudioError) else f"{type(exc).__name__}: {exc}"
        store.log_finished(root, job_id=job_id, notebook=source, output=output,
                           error=message, info={})  # fmt: skip
        raise
    finally:
        finished.set()
    result = BatchResult(
        job_id=job_id, notebook=source, output=output, status=status,
        duration_s=time.perf_counter() - clock, parameters=values, commit=commit,
        failed_cell=failed,
    )  # fmt: skip
    ended: dict[str, Any] = {"duration_s": round(result.duration_s, 3), "commit": commit}
    if failed is not None:
        ended["failed_cell"] = failed.as_dict()
    error = None if failed is None else failed.describe(canceled=status == "canceled")
    store.log_finished(root, job_id=job_id, notebook=source, output=output, error=error,
                       info=ended, canceled=status == "canceled")  # fmt: skip
    if failed is not None and check:
        raise BatchFailed(result, failed)
    return result


def _watch_cancel(marker: Path, stop: threading.Event, finished: threading.Event) -> None:
    while not finished.wait(CANCEL_POLL_S):
        if marker.exists():
            stop.set()
            return
