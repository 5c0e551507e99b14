"""The project's health (studio.health): pure classification, examine and repair on
real projects (real git + LFS; a lost job whose cluster is gone)."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from studio import Project, Workspace
from studio.engine import jobs as job_log
from studio.graph.graph import Graph, GraphFileError
from studio.health import classify_reservation, classify_take, clean_numbers, examine, repair
from studio.project import active_take
from studio.project.provenance import Provenance, utc_now
from tests.conftest import git_out, run_studio

NOW = utc_now()


def sidecar(**fields: object) -> Provenance:
    return Provenance.model_validate({"take": "t", "creative_fingerprint": "f", **fields})


def test_classify_reservation():
    assert classify_reservation(sidecar(job_id="j"), job_running=True, now=NOW) is None
    assert classify_reservation(sidecar(job_id="j"), job_running=False, now=NOW) == (
        "orphan_reservation"
    )
    by_hand = sidecar(reserved_at=NOW - timedelta(days=9))  # no job, no lease: left alone
    assert classify_reservation(by_hand, job_running=False, now=NOW) is None
    leased = sidecar(reserved_at=NOW - timedelta(hours=2), lease_s=60)
    assert classify_reservation(leased, job_running=False, now=NOW) == "orphan_reservation"


def test_classify_take():
    assert classify_take(ready=True, tracked=False, provenance=None, job_running=False,
                         now=NOW) == "untracked_take"  # fmt: skip
    assert classify_take(ready=True, tracked=False, provenance=None, job_running=True,
                         now=NOW) is None  # its job is committing it  # fmt: skip
    assert classify_take(ready=True, tracked=True, provenance=None, job_running=False,
                         now=NOW) is None  # fmt: skip


def ended_process() -> int:
    """The pid of a process that has ended (and been reaped)."""
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def lost_job_with_a_complete_take(project: Project, png: bytes) -> str:
    take = project.new_take(scene=1, shot=10, ext="png", prompt="p", job_id="lost")
    take.write_bytes(png)
    take.record(finished_at=NOW)
    # as the engine records a job of a cluster that lived in a process that has ended
    info = {
        "scheduler": "tcp://127.0.0.1:9",
        "scene": 1,
        "shot": 10,
        "host": socket.gethostname(),
        "scheduler_pid": ended_process(),
    }
    job_log.append(project.path, job_log.record(
        job_id="lost", event="server:node_state_updated", info=info,
        payload={"node_id": "n", "state": "generating", "task_id": "lost"}))  # fmt: skip
    return take.name


def test_examine_then_repair(project: Project, make_png: Callable[..., bytes]):
    name = lost_job_with_a_complete_take(project, make_png())
    folder = project.shot_path(scene=1, shot=10)
    (folder / "SHOT-010_v01_take50.png").write_bytes(b"")
    orphan = project.new_take(scene=1, shot=10, ext="png", prompt="p", job_id="over")
    active_take.write_active(folder, "SHOT-010_v09_take01.png")
    kinds = sorted(f.kind for f in examine(project))
    assert kinds == ["dangling_active_take", "lost_job", "orphan_reservation", "stray_file",
                     "untracked_take"]  # fmt: skip
    assert git_out(project.path, "status", "--porcelain")  # examining changed nothing

    planned, remaining = repair(project, dry_run=True)
    assert all(r.action.startswith("would ") for r in planned) and len(remaining) == 5
    assert len(examine(project)) == 5  # a dry run changes nothing

    done, remaining = repair(project)
    assert remaining == [] and all(r.error is None for r in done)
    assert git_out(project.path, "status", "--porcelain") == ""
    assert [t.name for t in project.takes(scene=1, shot=10)] == [name]
    assert not orphan.path.exists() and not (folder / active_take.ACTIVE_FILE).exists()
    [state] = project.jobs()
    assert state.summary == "success (recovered)"


def test_a_post_nodes_outputs_are_examined_and_repaired_as_takes(project: Project):
    from studio.project.outputs import list_outputs, reserve_output
    from tests.project.media import video_take

    take = video_take(project)
    left = reserve_output(project.path, source=take, kind="sr", ext="mp4", pipeline="sr-lanczos",
                          inputs={"media": take.name}, job_id="over")  # fmt: skip
    left.write_from(take.path)  # complete, never committed (its worker died after writing)
    orphan = reserve_output(project.path, source=take, kind="restore", ext="mp4", job_id="over",
                            pipeline="restore-ffmpeg", inputs={"video": take.name})  # fmt: skip
    found = {f.path.rsplit("/", 1)[-1]: f.kind for f in examine(project)}
    assert found == {left.name: "untracked_take", orphan.name: "orphan_reservation"}
    done, remaining = repair(project)
    assert remaining == [] and all(r.error is None for r in done)
    assert git_out(project.path, "status", "--porcelain") == ""
    assert [o.name for o in list_outputs(project.path, scene=1, shot=10)] == [left.name]
    provenance = left.provenance
    assert provenance is not None and provenance.recovered_by == "repair"


# --- a canvas an older version wrote with NaN / Infinity ---------------------------------------


def test_clean_numbers_removes_fields_keeps_positions_and_list_slots():
    document = {
        "version": 4,
        "nodes": [
            {"id": "a", "position": {"x": float("nan"), "y": 2.0}, "width": float("inf"),
             "data": {"strength": float("-inf"), "steps": 2**60, "ok": 1.5,
                      "curve": [0.0, float("nan")]}},
        ],
    }  # fmt: skip
    cleaned, changes = clean_numbers(document)
    assert cleaned == {
        "version": 4,
        "nodes": [
            {"id": "a", "position": {"x": 0, "y": 2.0}, "data": {"ok": 1.5, "curve": [0.0, None]}}
        ],
    }
    assert changes == [
        "nodes[0].position.x: NaN -> 0",
        "nodes[0].width: Infinity removed",
        "nodes[0].data.strength: -Infinity removed",
        f"nodes[0].data.steps: {2**60} removed",
        "nodes[0].data.curve[1]: NaN -> null",
    ]
    assert clean_numbers({"a": [1, True, None, "NaN"]}) == ({"a": [1, True, None, "NaN"]}, [])


def write_old_canvas(project: Project) -> bytes:
    """The canvas as a version before the strict writer left it: Python's json wrote NaN."""
    project.graph.add_node("Shot", id="shot-1", prompt="dusk", scene=1, shot=10)
    project.graph.add_node("Shot", id="shot-2", prompt="night", scene=1, shot=20)
    project.graph.save()
    content = json.loads(project.canvas_path.read_text())
    content["nodes"][1]["position"]["x"] = float("nan")
    content["nodes"][1]["data"]["legacy_strength"] = float("inf")
    old = (json.dumps(content, indent=2) + "\n").encode()  # allow_nan: NaN, Infinity
    assert b"NaN" in old and b"Infinity" in old
    project.canvas_path.write_bytes(old)
    return old


def test_an_old_canvas_with_nan_says_where_and_what_to_do(project: Project):
    write_old_canvas(project)
    with pytest.raises(GraphFileError) as caught:
        Graph.load(project.canvas_path)
    message = caught.value.message
    assert "NaN is not a JSON number" in message
    assert 'nodes[1].position.x in the object with id "shot-2"' in message
    assert "line " in message and "column " in message
    assert caught.value.hint is not None and "studio repair" in caught.value.hint


def test_repair_fixes_an_old_canvas_with_a_backup(project: Project):
    old = write_old_canvas(project)
    canvas = project.canvas_path
    [finding] = examine(project)
    assert finding.kind == "canvas_numbers" and finding.repairable
    assert finding.path == "02_Source_Creative/Canvases/main_canvas.json"
    assert 'nodes[1].position.x in the object with id "shot-2"' in finding.message

    planned, remaining = repair(project, dry_run=True)
    assert [r.action for r in planned] == [
        "would remove the canvas's non-standard numbers (the old file kept beside it)"
    ]
    assert canvas.read_bytes() == old and remaining == [finding]  # a dry run changes nothing

    [done], remaining = repair(project)
    assert done.error is None and remaining == []
    assert "nodes[1].position.x: NaN -> 0" in done.action
    assert "nodes[1].data.legacy_strength: Infinity removed" in done.action
    [backup] = canvas.parent.glob("main_canvas.json.before-repair-*")
    assert backup.read_bytes() == old  # the file as it was, byte for byte
    assert f"(the file as it was: 02_Source_Creative/Canvases/{backup.name})" in done.action
    graph = Graph.load(canvas)  # opens again
    assert graph.version == 3  # one up: a client that held version 2 must reload
    assert graph.node("shot-2").position == {"x": 0, "y": graph.node("shot-2").position["y"]}
    assert graph.node("shot-2").data["prompt"] == "night"  # the rest is as it was
    assert "legacy_strength" not in graph.node("shot-2").data
    assert not list(canvas.parent.glob(".*.tmp"))  # written atomically: no temp file left


def test_a_second_repair_keeps_the_first_backup(project: Project):
    write_old_canvas(project)
    repair(project)
    [first] = Path(project.canvas_path.parent).glob("main_canvas.json.before-repair-*")
    kept = first.read_bytes()
    write_old_canvas_again = project.canvas_path.read_text().replace('"x": 0,', '"x": NaN,', 1)
    project.canvas_path.write_text(write_old_canvas_again)
    [done], remaining = repair(project)  # within the same second, most likely
    assert done.error is None and remaining == []
    backups = sorted(project.canvas_path.parent.glob("main_canvas.json.before-repair-*"))
    assert len(backups) == 2 and first.read_bytes() == kept


def test_a_canvas_malformed_otherwise_is_not_for_repair(project: Project):
    project.canvas_path.write_text('{"version": 1, "nodes": [')
    assert [f.kind for f in examine(project)] == []  # opening it says what is wrong


def test_the_commands_report_and_repair_an_old_canvas(workspace: Workspace, project: Project):
    write_old_canvas(project)
    doctor = run_studio("doctor", project.name, "--json", "-w", str(workspace.path))
    assert doctor.returncode == 1, doctor.stderr
    [finding] = json.loads(doctor.stdout)["findings"]
    assert finding["kind"] == "canvas_numbers" and "shot-2" in finding["message"]
    fixed = run_studio("repair", project.name, "-w", str(workspace.path))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "nodes[1].position.x: NaN -> 0" in fixed.stdout
    assert Graph.load(project.canvas_path).version == 3


def test_a_file_beside_a_take_with_another_extension_is_reported_never_removed(
    project: Project, make_png: Callable[..., bytes]
):
    take = project.new_take(scene=1, shot=10, ext="png", prompt="p")
    take.write_bytes(make_png())
    project.commit_takes([take])
    other = take.path.with_suffix(".jpg")
    other.write_bytes(b"a user's file")
    [finding] = examine(project)
    assert finding.kind == "other_file" and not finding.repairable
    assert take.name in finding.message and "never removes" in finding.message
    done, remaining = repair(project)
    assert done == [] and remaining == [finding]
    assert other.read_bytes() == b"a user's file"
