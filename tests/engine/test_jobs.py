"""The durable job log: atomic appends from many processes, folding, node status."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

from studio.engine import jobs as job_log
from studio.engine.cluster import parse_nvidia_smi


def _events(job_id: str, node_id: str) -> list[dict[str, Any]]:
    ids = {"node_id": node_id, "task_id": job_id}
    return [
        job_log.record(
            job_id=job_id,
            event="server:node_state_updated",
            payload={**ids, "state": "queued"},
            info={"pipeline": "t2i-draft"},
        ),
        job_log.record(
            job_id=job_id, event="server:node_state_updated", payload={**ids, "state": "generating"}
        ),
        job_log.record(
            job_id=job_id,
            event="server:task_progress",
            payload={**ids, "progress": 40, "step": "draw"},
        ),
    ]


def test_fold_latest_state_per_job(tmp_path: Path):
    (tmp_path / ".git").mkdir()
    for line in _events("a", "shot-1") + _events("b", "shot-2"):
        job_log.append(tmp_path, line)
    job_log.append(tmp_path, job_log.record(job_id="a", event="server:task_success", payload={
        "node_id": "shot-1", "task_id": "a",
        "result": {"output_url": "03_Renders/x.png", "take": "x.png"}}))  # fmt: skip
    job_log.append(tmp_path, job_log.record(job_id="b", event="server:task_failed", payload={
        "node_id": "shot-2", "task_id": "b", "error": "bad", "code": "INPUT_INVALID"}))  # fmt: skip
    states = {j.job_id: j for j in job_log.jobs(tmp_path)}
    assert states["a"].state == "success" and states["a"].take == "x.png"
    assert states["a"].progress == 100 and states["a"].info == {"pipeline": "t2i-draft"}
    assert states["b"].state == "failed" and states["b"].code == "INPUT_INVALID"
    assert all(j.finished for j in states.values())


def test_running_job_shows_latest_progress_and_node_status(tmp_path: Path):
    for line in _events("a", "shot-1"):
        job_log.append(tmp_path, line)
    [job] = job_log.jobs(tmp_path)
    assert (job.state, job.progress, job.step, job.finished) == ("generating", 40, "draw", False)
    status = job_log.node_status(job_log.read(tmp_path))
    assert status["shot-1"]["state"] == "generating" and status["shot-1"]["progress"] == 40


def test_cancel_is_reported_as_canceled(tmp_path: Path):
    job_log.append(tmp_path, job_log.record(job_id="c", event="server:node_state_updated",
                   payload={"node_id": "n", "state": "canceled"}))  # fmt: skip
    job_log.append(tmp_path, job_log.record(job_id="c", event="server:task_failed",
                   payload={"node_id": "n", "error": "canceled", "code": "CANCELED"}))  # fmt: skip
    assert job_log.jobs(tmp_path)[0].state == "canceled"


def test_torn_and_foreign_lines_are_skipped(tmp_path: Path):
    for line in _events("a", "shot-1"):
        job_log.append(tmp_path, line)
    with job_log.log_path(tmp_path).open("ab") as f:
        f.write(b'["not a record"]\n{"job_id": "a", "event": "server:task_pro')
    [job] = job_log.jobs(tmp_path)
    assert job.progress == 40


def _append_many(root: str, worker: int) -> None:
    for i in range(50):
        # Lines far above PIPE_BUF (4 KiB), where bare O_APPEND gives no guarantee.
        payload = {"node_id": "n", "task_id": "t", "progress": 1, "step": "x" * 6000}
        line = job_log.record(
            job_id=f"w{worker}-{i}", event="server:task_progress", payload=payload
        )
        job_log.append(Path(root), line)


def test_concurrent_appends_never_interleave(tmp_path: Path):
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_append_many, args=(str(tmp_path), w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    lines = job_log.log_path(tmp_path).read_bytes().splitlines()
    assert len(lines) == 200
    assert len({json.loads(line)["job_id"] for line in lines}) == 200


def test_parse_nvidia_smi():
    assert parse_nvidia_smi("24576\n16384\n") == [24.0, 16.0]
    assert parse_nvidia_smi("[N/A]\n\n81920\n") == [80.0]
    assert parse_nvidia_smi("") == []


def test_a_recovered_success_says_so() -> None:
    from studio.engine.jobs import fold, record

    result = {"output_url": "a.png", "take": "a.png", "recovered": True}
    lines = [
        record(job_id="j", event="server:node_state_updated",
               payload={"node_id": "n", "state": "generating"}),
        record(job_id="j", event="server:task_success",
               payload={"task_id": "j", "node_id": "n", "result": result}),
    ]  # fmt: skip
    [state] = fold(lines).values()
    assert (state.state, state.recovered, state.summary) == ("success", True, "success (recovered)")
