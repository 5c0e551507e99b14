"""The durable job log: atomic appends from many processes, folding, node status."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path
from typing import Any

from studio.engine import jobs as job_log
from studio.engine.cluster import parse_nvidia_smi
from studio.events import apply_event


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


# --- one fold: the job log's job states and node status are the canvas's ---------------------


def _lifecycle() -> list[dict[str, Any]]:
    """Three jobs on two nodes, interleaved: a success (with result extras), a retried attempt
    that fails, a cancel, and notifications."""

    def line(job_id: str, node_id: str, event: str, **payload: Any) -> dict[str, Any]:
        return job_log.record(job_id=job_id, event=event, payload={"node_id": node_id, **payload})

    return [
        line("a", "n1", "server:notification", level="warning", message="fell back to draft"),
        line("a", "n1", "server:node_state_updated", state="queued", task_id="a"),
        line("a", "n1", "server:task_progress", task_id="a", progress=30, step="draw"),
        line("b", "n2", "server:node_state_updated", state="queued", task_id="b"),
        line("a", "n1", "server:task_success", task_id="a",
             result={"output_url": "x.png", "take": "x.png", "recovered": True}),
        line("b", "n2", "server:task_progress", task_id="b", progress=70, step="denoise"),
        line("b", "n2", "server:node_state_updated", state="generating", task_id="b"),  # retry
        line("b", "n2", "server:task_failed", task_id="b", error="OOM!", code="OOM"),
        line("c", "n1", "server:node_state_updated", state="queued", task_id="c"),
        line("c", "n1", "server:task_failed", task_id="c", error="stop", code="CANCELED"),
        line("c", "n1", "server:node_state_updated", state="canceled", task_id="c"),
    ]  # fmt: skip


def _replayed(lines: list[dict[str, Any]]) -> dict[str, Any]:
    status: dict[str, Any] = {}
    for line in lines:
        status = apply_event(status, {"event": line["event"], "payload": line["payload"]})
    return status


def test_the_log_folds_as_the_canvas_does(tmp_path: Path):
    lines = _lifecycle()
    assert job_log.node_status(lines) == _replayed(lines)
    jobs = job_log.fold(lines)
    for job_id, state in jobs.items():
        own = [line for line in lines if line["job_id"] == job_id]
        assert state.status == _replayed(own)[state.node_id]
    assert [(j.job_id, j.state, j.code, j.finished) for j in jobs.values()] == [
        ("a", "success", None, True),
        ("b", "failed", "OOM", True),
        ("c", "canceled", "CANCELED", True),
    ]
    assert (jobs["a"].take, jobs["a"].recovered, jobs["b"].progress) == ("x.png", True, 0)
    for line in lines:
        job_log.append(tmp_path, line)
    assert job_log.node_status(job_log.read(tmp_path)) == _replayed(lines)
    assert job_log.fold(job_log.read(tmp_path)) == jobs
    assert list(job_log.read(tmp_path)) == lines


def test_a_cancel_not_yet_confirmed_is_not_finished():
    queued = _events("j", "n")[0]
    stop = {"node_id": "n", "error": "stop", "code": "CANCELED"}
    failed = job_log.record(job_id="j", event="server:task_failed", payload=stop)
    [state] = job_log.fold([queued, failed]).values()
    assert (state.state, state.finished) == ("failed", False)  # "canceled" is on its way


# --- reading incrementally --------------------------------------------------------------------


def _progress(job_id: str, percent: float, node_id: str = "n") -> dict[str, Any]:
    payload = {"node_id": node_id, "task_id": job_id, "progress": percent}
    return job_log.record(job_id=job_id, event="server:task_progress", payload=payload)


def test_a_second_look_reads_only_what_was_appended(tmp_path: Path, monkeypatch):
    for line in _events("a", "shot-1"):
        job_log.append(tmp_path, line)
    first = job_log.snapshot(tmp_path)
    assert job_log.snapshot(tmp_path) is first  # nothing appended: nothing read
    parsed: list[bytes] = []
    parse = job_log._parse_record

    def counted(raw: bytes) -> dict[str, Any] | None:
        parsed.append(raw)
        return parse(raw)

    monkeypatch.setattr(job_log, "_parse_record", counted)
    job_log.append(tmp_path, _progress("a", 60))
    [job] = job_log.jobs(tmp_path)
    assert job.progress == 60 and len(parsed) == 1
    assert job_log.snapshot(tmp_path).size == job_log.log_path(tmp_path).stat().st_size
    assert first.jobs["a"].progress == 40  # an earlier snapshot does not change


def _append_progress(root: str, job_id: str) -> None:
    job_log.append(Path(root), _progress(job_id, 90))


def test_an_append_from_another_process_is_seen(tmp_path: Path):
    for line in _events("a", "shot-1"):
        job_log.append(tmp_path, line)
    assert [j.progress for j in job_log.jobs(tmp_path)] == [40]
    context = multiprocessing.get_context("spawn")
    other = context.Process(target=_append_progress, args=(str(tmp_path), "a"))
    other.start()
    other.join(timeout=60)
    assert other.exitcode == 0
    assert [j.progress for j in job_log.jobs(tmp_path)] == [90]


def test_a_torn_last_line_is_read_once_it_is_complete(tmp_path: Path):
    for line in _events("a", "shot-1"):
        job_log.append(tmp_path, line)
    data = (json.dumps(_progress("a", 80)) + "\n").encode()
    with job_log.log_path(tmp_path).open("ab") as f:
        f.write(data[:25])  # a writer in the middle of its line, as a reader may see it
    assert [j.progress for j in job_log.jobs(tmp_path)] == [40]
    with job_log.log_path(tmp_path).open("ab") as f:
        f.write(data[25:])
    assert [j.progress for j in job_log.jobs(tmp_path)] == [80]


def test_an_append_after_a_line_torn_by_a_crash_is_a_line_of_its_own(tmp_path: Path):
    for line in _events("a", "shot-1"):
        job_log.append(tmp_path, line)
    with job_log.log_path(tmp_path).open("ab") as f:
        f.write(b'{"job_id": "a", "event": "server:task_pro')  # its writer died here
    job_log.append(tmp_path, _progress("a", 70))
    assert [j.progress for j in job_log.jobs(tmp_path)] == [70]
    assert job_log.log_path(tmp_path).read_bytes().count(b"\n") == 5


def test_a_truncated_or_replaced_log_is_folded_afresh(tmp_path: Path):
    path = job_log.log_path(tmp_path)
    for job_id in ("a", "b", "c"):
        for line in _events(job_id, "n"):
            job_log.append(tmp_path, line)
    assert [j.job_id for j in job_log.jobs(tmp_path)] == ["a", "b", "c"]
    with path.open("r+b") as f:  # truncated in place (same inode), then written again
        f.truncate(0)
    job_log.append(tmp_path, _progress("d", 10))
    assert [j.job_id for j in job_log.jobs(tmp_path)] == ["d"]
    replacement = path.with_name("new.jsonl")
    replacement.write_text("".join(json.dumps(line) + "\n" for line in _events("e", "n")))
    replacement.replace(path)  # another inode
    assert [j.job_id for j in job_log.jobs(tmp_path)] == ["e"]
    # Rewritten in place, longer than what was read: told by the bytes before that point.
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.write(b"".join((json.dumps(line) + "\n").encode() for line in _events("f", "m")))
    assert path.stat().st_size >= size
    assert [j.job_id for j in job_log.jobs(tmp_path)] == ["f"]


def test_many_threads_read_while_it_grows(tmp_path: Path):
    errors: list[BaseException] = []
    stop = threading.Event()

    def look() -> None:
        seen = 0
        try:
            while not stop.is_set():
                count = len(job_log.jobs(tmp_path))
                job_log.node_status(job_log.read(tmp_path))
                assert count >= seen
                seen = count
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=look) for _ in range(4)]
    for reader in readers:
        reader.start()
    for i in range(200):
        job_log.append(tmp_path, _progress(f"j{i}", 50))
    stop.set()
    for reader in readers:
        reader.join(30)
    assert errors == []
    assert len(job_log.jobs(tmp_path)) == 200


def test_callers_get_their_own_node_status(tmp_path: Path):
    for line in _events("a", "shot-1"):
        job_log.append(tmp_path, line)
    mine = job_log.node_status(job_log.read(tmp_path))
    mine["shot-1"]["takes"] = ["x.png"]
    mine["other"] = {}
    assert job_log.node_status(job_log.read(tmp_path)) == {
        "shot-1": {"state": "generating", "task_id": "a", "progress": 40, "step": "draw"}
    }


# --- compacting -------------------------------------------------------------------------------


def test_compacting_keeps_every_state_and_drops_superseded_progress(tmp_path: Path):
    lines = _lifecycle()  # a's progress is overwritten by its success: dropped
    for percent in (10, 20, 30):  # d's and e's middle ones are dropped (their first: kept)
        lines += [_progress("d", percent, "n1"), _progress("e", percent, "n2")]
    lines += [_events("f", "n3")[0], _progress("f", 5, "n3")]  # running: its last is kept
    for line in lines:
        job_log.append(tmp_path, line)
    with job_log.log_path(tmp_path).open("ab") as f:
        f.write(b'["foreign"]\n{"job_id": "torn", "ev')
    before = job_log.fold(job_log.read(tmp_path)), job_log.node_status(job_log.read(tmp_path))
    inode = job_log.log_path(tmp_path).stat().st_ino
    assert job_log.compact(tmp_path) == 3
    after = job_log.fold(job_log.read(tmp_path)), job_log.node_status(job_log.read(tmp_path))
    assert after == before
    assert job_log.log_path(tmp_path).stat().st_ino != inode  # replaced, not rewritten
    data = job_log.log_path(tmp_path).read_bytes()
    assert b'["foreign"]\n' in data and data.endswith(b'{"job_id": "torn", "ev')
    assert job_log.compact(tmp_path) == 0  # nothing left to drop


def _append_jobs(root: str, worker: int) -> None:
    for i in range(40):
        job_log.append(Path(root), _progress(f"w{worker}-{i}", 50))


def test_compacting_while_others_append_loses_nothing(tmp_path: Path):
    for percent in range(1, 60):
        job_log.append(tmp_path, _progress("old", percent))
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_append_jobs, args=(str(tmp_path), w)) for w in range(2)]
    for p in procs:
        p.start()
    dropped = 0
    while any(p.is_alive() for p in procs):
        dropped += job_log.compact(tmp_path)
        job_log.append(tmp_path, _progress("old", 60 + dropped % 40))
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    ids = {j.job_id for j in job_log.jobs(tmp_path)}
    assert ids == {"old"} | {f"w{w}-{i}" for w in range(2) for i in range(40)}
    assert dropped > 0
