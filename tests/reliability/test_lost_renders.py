"""A render whose client (and in-process cluster) is killed with SIGKILL mid-render: whoever
reads the jobs next settles it as lost (failed, never "generating" for ever) and removes what
it left in ``06_Exports`` (its staging folder: the encoder's partial file and mixed sound); no
film appears. Real processes, a real render, real git + LFS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio import Project
from studio.engine.render_task import STAGING_DIR
from studio.project.layout import EXPORTS_DIR
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
