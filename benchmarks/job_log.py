"""Looking at a project's jobs on a 2000-job log (issue 11, H3): ``settle()``,
``project.jobs()`` and the node status of a full sync, which read the log incrementally, vs
reading and folding the whole log on every look (what they did before), in the same run; then
``compact()`` and a process's first look at the compacted log.

Each job has the records a real one leaves: queued, generating, ten progress events, success.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from benchmarks.timing import median_seconds, report
from studio import Workspace
from studio.engine import jobs as job_log
from studio.engine import settle
from studio.events import apply_event

JOBS: Final = 2000
NODES: Final = 40
PROGRESS_EVENTS: Final = 10
REPEAT: Final = 20


def _job_records(n: int) -> list[dict[str, Any]]:
    job_id, node_id = f"job{n:05d}", f"shot-{n % NODES}"
    ids = {"node_id": node_id, "task_id": job_id}
    info = {"pipeline": "t2i-draft", "quality": "draft", "scene": 1, "shot": 10 + n % NODES,
            "seed": n, "scheduler": "tcp://127.0.0.1:8786", "host": "bench"}  # fmt: skip
    records = [
        job_log.record(job_id=job_id, event="server:node_state_updated",
                       payload={**ids, "state": "queued"}, info=info),
        job_log.record(job_id=job_id, event="server:node_state_updated",
                       payload={**ids, "state": "generating"}),
    ]  # fmt: skip
    for step in range(1, PROGRESS_EVENTS + 1):
        progress = {**ids, "progress": 100 * step / PROGRESS_EVENTS, "step": f"step {step}"}
        records.append(job_log.record(job_id=job_id, event="server:task_progress",
                                      payload=progress))  # fmt: skip
    take = f"SHOT-{10 + n % NODES:03d}_v01_take{n:02d}.png"
    result = {"output_url": f"03_Renders/SCENE_01/{take}", "take": take,
              "thumbnail_url": "data:image/jpeg;base64,AAAA"}  # fmt: skip
    records.append(job_log.record(job_id=job_id, event="server:task_success",
                                  payload={**ids, "result": result}))  # fmt: skip
    return records


def _write_log(project_root: Path) -> None:
    path = job_log.log_path(project_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:  # as append() writes them, without 26k fsyncs
        for n in range(JOBS):
            for record in _job_records(n):
                f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")


def _whole_log(project_root: Path) -> Iterator[dict[str, Any]]:
    """Every record, read again from the start (a generator: nothing cached is used)."""
    with job_log.log_path(project_root).open("rb") as f:
        for raw in f:
            record = json.loads(raw)
            yield record


def _replayed_as_before(project_root: Path) -> dict[str, Any]:
    """The node status as the full sync replayed it before: every record through
    ``apply_event`` (validated)."""
    status: dict[str, Any] = {}
    for record in _whole_log(project_root):
        status = apply_event(status, {"event": record["event"], "payload": record["payload"]})
    return status


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Workspace(Path(tmp) / "ws").create_project("Job log")
        _write_log(project.path)
        root = project.path
        lines = sum(1 for _ in _whole_log(root))
        size_mb = job_log.log_path(root).stat().st_size / 1e6
        print(f"{JOBS} jobs, {lines} records, {size_mb:.1f} MB")
        assert len(project.jobs()) == JOBS and all(j.finished for j in project.jobs())
        assert job_log.node_status(job_log.read(root)) == job_log.node_status(_whole_log(root))

        full_fold_s = median_seconds(lambda: job_log.fold(_whole_log(root)), repeat=5)
        report("settle() (nothing unfinished)", median_seconds(lambda: settle(project),
               repeat=REPEAT), "reading + folding the whole log", full_fold_s)  # fmt: skip
        report("project.jobs()", median_seconds(project.jobs, repeat=REPEAT),
               "reading + folding the whole log", full_fold_s)  # fmt: skip
        status_s = median_seconds(lambda: job_log.node_status(job_log.read(root)), repeat=REPEAT)
        report("node status of a full sync", status_s, "reading + folding the whole log",
               median_seconds(lambda: job_log.node_status(_whole_log(root)), repeat=5))  # fmt: skip
        report("node status of a full sync", status_s, "replaying it through apply_event",
               median_seconds(lambda: _replayed_as_before(root), repeat=3))  # fmt: skip

        extra = iter(range(JOBS, JOBS + 10_000))

        def jobs_after_an_append() -> float:
            job_log.append(root, _job_records(next(extra))[-1])  # a worker's event
            started = time.perf_counter()
            project.jobs()
            return time.perf_counter() - started

        after_append_s = statistics.median(jobs_after_an_append() for _ in range(REPEAT))
        report("project.jobs() after an append", after_append_s,
               "reading + folding the whole log", full_fold_s)  # fmt: skip

        def first_look() -> None:
            job_log._forget_cached_logs()  # as a new process sees the log
            job_log.jobs(root)

        first_look_s = median_seconds(first_look, repeat=5)
        report("a process's first look (jobs())", first_look_s,
               "reading + folding the whole log", full_fold_s)  # fmt: skip

        states, status = job_log.jobs(root), job_log.node_status(job_log.read(root))
        started = time.perf_counter()
        dropped = job_log.compact(root)
        compact_s = time.perf_counter() - started
        assert job_log.jobs(root) == states and job_log.node_status(job_log.read(root)) == status
        left = sum(1 for _ in _whole_log(root))
        print(
            f"compact(): {compact_s * 1000:.0f} ms, {dropped} superseded progress records "
            f"dropped, {left} left ({job_log.log_path(root).stat().st_size / 1e6:.1f} MB)"
        )
        report(
            "a first look after compact()",
            median_seconds(first_look, repeat=5),
            "before compacting",
            first_look_s,
        )


if __name__ == "__main__":
    main()
