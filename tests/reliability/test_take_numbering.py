"""Finding 4 of issue 11: take numbering is the contract, not an accident. An empty file named
like a take, without a sidecar (a stray), counts for neither numbers nor versions, is not
listed, and ``studio doctor`` reports it (``studio repair`` removes it); a reservation older
than its job's lifetime is reclaimed by the next one."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from studio import Project
from studio.engine.tasks import execute_shot_node, project_topic
from studio.pipelines import builtin_pipelines_dir
from studio.project.provenance import utc_now
from tests.conftest import git_out, run_studio
from tests.engine.test_reliability import add_shot, derive, pipeline_dirs

__all__ = ["pipeline_dirs"]
SHOT_DIR = "03_Renders/SCENE_01/SHOT_010"


def generate(project: Project, node_id: str, pipeline: str, job_id: str) -> str:
    """One generation of the shot as a worker runs it (real pipeline process, real commit)."""
    outcome = execute_shot_node(
        project_path=str(project.path), job_id=job_id, node_id=node_id,
        graph=project.graph.to_json(), pipeline_id=pipeline, quality="low", seed=5,
        topic=project_topic(str(project.uuid)),
    )  # fmt: skip
    assert outcome["ok"], outcome
    return str(outcome["name"])


@pytest.mark.slow
def test_a_stray_empty_file_changes_no_numbering(project: Project, workspace, pipeline_dirs: Path):
    pipeline = derive(builtin_pipelines_dir() / "t2i-draft", pipeline_dirs, "t2i-tiny", width=128)
    node_id = add_shot(project, pipeline)
    assert [generate(project, node_id, pipeline, f"job-{n}") for n in (1, 2)] == [
        "SHOT-010_v01_take01.png", "SHOT-010_v01_take02.png",
    ]  # fmt: skip
    stray = project.path / SHOT_DIR / "SHOT-010_v01_take99.png"
    stray.write_bytes(b"")  # no sidecar: nobody reserved it
    # the next unchanged generation keeps its version and its next number
    assert generate(project, node_id, pipeline, "job-3") == "SHOT-010_v01_take03.png"
    assert [t.name for t in project.takes(scene=1, shot=10)] == [
        "SHOT-010_v01_take01.png",
        "SHOT-010_v01_take02.png",
        "SHOT-010_v01_take03.png",
    ]  # fmt: skip  (the stray is not a take, so never "reserved forever")

    doctor = run_studio("doctor", project.name, "--json", "-w", str(workspace.path))
    assert doctor.returncode == 1, doctor.stderr
    findings = json.loads(doctor.stdout)["findings"]
    assert [(f["kind"], f["path"]) for f in findings] == [
        ("stray_file", f"{SHOT_DIR}/{stray.name}")
    ]
    repair = run_studio("repair", project.name, "-w", str(workspace.path))
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert not stray.exists()
    assert git_out(project.path, "status", "--porcelain") == ""


def test_a_stray_does_not_bump_the_version(project: Project):
    first = project.new_take(scene=1, shot=10, ext="png", prompt="p", seed=1)
    first.write_bytes(b"\x89PNG take one")
    (first.path.parent / "SHOT-010_v01_take99.png").write_bytes(b"")
    assert project.new_take(scene=1, shot=10, ext="png", prompt="p", seed=2).name == (
        "SHOT-010_v01_take02.png"
    )


def test_a_reservation_past_its_lease_is_reclaimed(project: Project):
    """A job reserved a take and died (its lease, the job's lifetime, ran out): the next
    reservation reclaims it. A live reservation, and one made by hand, are left alone."""
    live = project.new_take(scene=1, shot=10, ext="png", prompt="p", job_id="live", lease_s=60)
    by_hand = project.new_take(scene=1, shot=10, ext="png", prompt="p")  # no lease: never
    dead = project.new_take(scene=1, shot=10, ext="png", prompt="p", job_id="dead", lease_s=60)
    assert (live.number, by_hand.number, dead.number) == (1, 2, 3)
    dead.record(reserved_at=utc_now() - timedelta(minutes=5))
    by_hand.record(reserved_at=utc_now() - timedelta(days=30))
    again = project.new_take(scene=1, shot=10, ext="png", prompt="p", job_id="next", lease_s=60)
    assert again.name == dead.name  # the reclaimed number (never committed) is free again
    provenance = again.provenance
    assert provenance is not None and provenance.job_id == "next"
    assert live.sidecar_path.exists() and by_hand.sidecar_path.exists()
    assert [t.name for t in project.takes(scene=1, shot=10)] == [
        live.name, by_hand.name, again.name,
    ]  # fmt: skip
    # The process whose reservation was reclaimed cannot write into the new one.
    from studio.errors import TakeError

    with pytest.raises(TakeError, match="no longer reserved"):
        dead.write_bytes(b"\x89PNG late")
    assert not again.ready
    again.write_bytes(b"\x89PNG on time")
    assert again.ready
