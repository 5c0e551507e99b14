"""A batch run's files and records: the executed notebook's name reserved in
``04_Project_Files/Batch/``, the notebook saved there atomically and committed (a commit of
its own, serialized with every other commit of the project), and the run's records in the
project's job log (kind ``batch``), so a queue view shows it like a job."""

from __future__ import annotations

import contextlib
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

from studio.atomic import atomic_write_bytes
from studio.batches.naming import BATCH_DIR, BATCH_KIND, batch_stem
from studio.engine import jobs as job_log
from studio.project import repo

ATTEMPTS = 100


def reserve_output(project_root: Path, notebook: Path, started: datetime) -> tuple[Path, Path]:
    """``(output, partial)``: the executed notebook's path, free, and the file papermill writes
    into until the run ends, in a hidden folder made exclusively (runs started in the same
    microsecond get ``_2``, ``_3``...). The folder, ``.<name>.tmp/``, is git-ignored like the
    studio's other in-flight files: a run in progress is no change of the project."""
    folder = project_root / BATCH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for attempt in range(ATTEMPTS):
        stem = batch_stem(notebook.name, started, attempt=attempt)
        output, running = folder / f"{stem}.ipynb", folder / f".{stem}.tmp"
        if output.exists():
            continue
        try:
            running.mkdir()
        except FileExistsError:
            continue
        return output, running / output.name
    raise FileExistsError(f"no free name for {notebook.name} in {folder}")


def save_output(partial: Path, output: Path) -> None:
    """The executed notebook put in place whole (a reader never sees half of it)."""
    atomic_write_bytes(output, partial.read_bytes())
    discard(partial)


def discard(partial: Path) -> None:
    """The run's hidden folder removed, with what papermill wrote in it."""
    partial.unlink(missing_ok=True)
    with contextlib.suppress(FileNotFoundError):
        partial.parent.rmdir()


def commit_output(project_root: Path, output: Path, *, notebook: str, status: str) -> str:
    return repo.commit_paths(
        project_root, [output], message=f"Batch run of {notebook}: {status} ({output.name})"
    )


def node_id(notebook: Path) -> str:
    """What the run's records name as their node: no canvas node, the batch notebook."""
    return f"{BATCH_KIND}:{notebook.name}"


def log_queued(
    project_root: Path,
    *,
    job_id: str,
    notebook: Path,
    parameters: dict[str, Any],
    output: Path,
    where: str = "local",
) -> None:
    """Queued, held by this process (its pid and host: the job is alive while it lives) until
    the process that runs it says it runs (:func:`log_running`)."""
    info = {
        "kind": BATCH_KIND,
        "notebook": str(notebook),
        "parameters": parameters,
        "output": output.relative_to(project_root).as_posix(),
        "where": where,
        **_this_process(),
    }
    payload = {"node_id": node_id(notebook), "state": "queued", "task_id": job_id}
    job_log.append(project_root, job_log.record(
        job_id=job_id, event="server:node_state_updated", payload=payload, info=info
    ))  # fmt: skip


def log_running(project_root: Path, *, job_id: str, notebook: Path) -> None:
    payload = {"node_id": node_id(notebook), "state": "generating", "task_id": job_id,
               "step": "running the notebook"}  # fmt: skip
    job_log.append(project_root, job_log.record(
        job_id=job_id, event="server:node_state_updated", payload=payload, info=_this_process()
    ))  # fmt: skip


def log_held(project_root: Path, *, job_id: str, notebook: Path, step: str) -> None:
    """Still queued, on a worker, held there by the project's paused queue."""
    payload = {"node_id": node_id(notebook), "state": "queued", "task_id": job_id, "step": step}
    job_log.append(project_root, job_log.record(
        job_id=job_id, event="server:node_state_updated", payload=payload
    ))  # fmt: skip


def _this_process() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def log_finished(
    project_root: Path,
    *,
    job_id: str,
    notebook: Path,
    output: Path,
    error: str | None,
    info: dict[str, Any],
    canceled: bool = False,
) -> None:
    """The run's last records: success, or failed (``BATCH_FAILED``) with the error, or
    canceled (``CANCELED``, and the node state a canceled job of the engine ends in)."""
    relative = output.relative_to(project_root).as_posix()
    if error is None:
        event = "server:task_success"
        payload: dict[str, Any] = {"task_id": job_id, "node_id": node_id(notebook),
                                   "result": {"output_url": relative}}  # fmt: skip
    else:
        event = "server:task_failed"
        payload = {"task_id": job_id, "node_id": node_id(notebook), "error": error,
                   "code": "CANCELED" if canceled else "BATCH_FAILED"}  # fmt: skip
    records = [job_log.record(job_id=job_id, event=event, payload=payload, info=info)]
    if canceled:
        records.append(job_log.record(
            job_id=job_id, event="server:node_state_updated",
            payload={"node_id": node_id(notebook), "state": "canceled", "task_id": job_id},
        ))  # fmt: skip
    job_log.append_many(project_root, records)
