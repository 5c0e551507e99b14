"""A render whose client (and in-process cluster) is killed with SIGKILL mid-render: whoever
reads the jobs next settles it as lost (failed, never "generating" for ever) and removes what
it left in ``06_Exports`` (its staging folder: the encoder's partial file and mixed sound); no
film appears. Real processes, a real render, real git + LFS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from studio import Project
from studio.engine.render_task import STAGING_DIR, render_final_video
from studio.project.layout import EDLS_DIR, EXPORTS_DIR
from tests.engine.films import two_shot_edit
from tests.reliability.faults import kill_minus_9, start_script, wait_until

pytestmark = pytest.mark.slow

CLIENT = """
import json, time
import studio

if __name__ == "__main__":
    project = studio.Project({path!r})
    job = project.render()  # no STUDIO_SCHEDULER: a local cluster in this process group
    print(json.dumps({{"job": job.id}}), flush=True)
    time.sleep(600)
"""


def test_a_render_killed_with_its_client_is_settled_and_leaves_nothing(
    project: Project, tmp_path: Path
) -> None:
    two_shot_edit(project, tmp_path / "media", seconds=(30, 30))
    proc = start_script(CLIENT.format(path=str(project.path)), folder=tmp_path)
    assert proc.stdout is not None
    job_id = json.loads(proc.stdout.readline())["job"]
    staging = project.path / EXPORTS_DIR / STAGING_DIR / job_id
    wait_until(lambda: any(staging.glob("*.partial")), what="the encoder's partial file")
    kill_minus_9(proc)
    assert any(staging.iterdir())  # what the dead render left
    [state] = project.jobs()  # reading the jobs settles the lost one
    assert state.job_id == job_id and state.state == "failed"
    assert "the job was lost" in (state.error or "")
    assert not (project.path / EXPORTS_DIR / STAGING_DIR).exists()
    assert sorted(p.name for p in (project.path / EXPORTS_DIR).iterdir()) == [".gitkeep"]


RETRIED = """
import json
import studio
from studio.engine.render_task import render_final_video

if __name__ == "__main__":
    arguments = json.loads({arguments!r})
    render_final_video(**arguments)  # an attempt of a render that waited for post steps
"""


def test_a_retry_after_its_worker_died_renders_the_edl_the_dead_attempt_exported(
    project: Project, tmp_path: Path
) -> None:
    """A render that waited for post steps exports its EDL on the worker, then renders; its
    worker is killed mid-render and Dask retries the task: the retry renders that EDL, it
    does not export (and commit) a second version for the same render."""
    two_shot_edit(project, tmp_path / "media", seconds=(10, 10))
    sequence = project.sequence()
    arguments: dict[str, Any] = {
        "project_path": str(project.path), "job_id": "retried", "node_id": "asm", "edl": None,
        "otio": None, "fcp_xml": None, "title": sequence.title, "frame_rate_label": "24",
        "size": [sequence.width, sequence.height], "quality": "low", "topic": "retried",
        "graph": project.graph.to_json(), "after": [],
    }  # fmt: skip
    proc = start_script(RETRIED.format(arguments=json.dumps(arguments)), folder=tmp_path)
    staging = project.path / EXPORTS_DIR / STAGING_DIR / "retried"
    wait_until(lambda: any(staging.glob("*.partial")), what="the first attempt's encoder")
    kill_minus_9(proc)  # its worker died mid-render
    [exported] = sorted((project.path / EDLS_DIR).glob("*.edl"))

    outcome = render_final_video(**{**arguments, "size": tuple(arguments["size"])})  # retry

    assert outcome["ok"], outcome
    assert outcome["edl"] == exported.relative_to(project.path).as_posix()
    assert sorted((project.path / EDLS_DIR).glob("*.edl")) == [exported]  # no second version
    assert not staging.exists()
