"""``studio render PROJECT``: the real CLI in a subprocess, starting its own local Dask cluster
and rendering with the real renderer; versioned films checked with ffprobe, ``--edl-only``,
``--json`` refusals, and Ctrl+C canceling the render with no file left."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio import Project, Workspace
from studio.project.layout import EDLS_DIR, EXPORTS_DIR
from tests.conftest import run_studio
from tests.engine.films import probe, two_shot_edit

pytestmark = pytest.mark.slow


def exports(project: Project) -> list[str]:
    return sorted(p.name for p in (project.path / EXPORTS_DIR).iterdir() if p.name != ".gitkeep")


def test_render_writes_versioned_films_and_edl_only_writes_the_edl(
    workspace: Workspace, project: Project, tmp_path: Path
) -> None:
    two_shot_edit(project, tmp_path / "media")
    ws = str(workspace.path)
    done = run_studio("render", project.name, "--json", "-w", ws)
    assert done.returncode == 0, done.stderr
    first = json.loads(done.stdout)
    assert first["ok"] and first["output"] == "06_Exports/Test_Film_v001.mp4"
    assert first["edl"] == f"{EDLS_DIR}/Test_Film_v001.edl" and first["frames"] == 90
    assert "rendering frame" in done.stderr  # progress on stderr, the result alone on stdout
    facts = probe(project.path / first["output"])
    assert facts["frames"] == 90 and facts["video_duration"] == first["duration_s"] == 3.75

    done = run_studio("render", project.name, "-w", ws, "--assembler", "asm", "--quality", "low")
    assert done.returncode == 0, done.stderr
    second = project.path / EXPORTS_DIR / "Test_Film_v002.mp4"
    assert done.stdout.strip() == str(second)
    # low quality: libx264's quick draft settings, a smaller file of the same frames
    assert probe(second)["frames"] == 90
    assert second.stat().st_size < (project.path / first["output"]).stat().st_size

    done = run_studio("render", project.name, "--edl-only", "--json", "-w", ws)
    assert done.returncode == 0, done.stderr
    edl_only = json.loads(done.stdout)
    assert edl_only["edl"] == f"{EDLS_DIR}/Test_Film_v003.edl" and edl_only["version"] == 3
    assert (project.path / edl_only["fcp_xml"]).is_file()
    assert exports(project) == ["Test_Film_v001.mp4", "Test_Film_v002.mp4"]  # no new film


def test_a_refused_render_exits_1_with_the_node_to_fix(
    workspace: Workspace, project: Project
) -> None:
    graph = project.graph
    graph.add_node("Shot", id="s10", scene=1, shot=10)
    graph.add_node("VSEAssembler", id="asm")
    graph.connect("s10", "output", "asm", "clips")
    graph.save()
    done = run_studio("render", project.name, "--json", "-w", str(workspace.path))
    assert done.returncode == 1
    refused = json.loads(done.stdout)
    assert (refused["ok"], refused["code"], refused["node_id"]) == (False, "SequenceError", "s10")
    assert "generate it first" in refused["hint"]
    assert "error:" in done.stderr and "hint:" in done.stderr
    done = run_studio("render", project.name, "--quality", "ultra", "-w", str(workspace.path))
    assert done.returncode == 2 and "quality must be one of" in done.stderr


def test_ctrl_c_cancels_the_render_and_leaves_no_file(
    workspace: Workspace, project: Project, tmp_path: Path
) -> None:
    two_shot_edit(project, tmp_path / "media", seconds=(20, 20))
    command = [sys.executable, "-m", "studio", "render", project.name, "-w", str(workspace.path)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    seen = []
    deadline = time.monotonic() + 120
    for line in child.stderr:  # progress lines, as they come
        seen.append(line)
        if "rendering frame" in line and "rendering frame 0/" not in line:
            break
        assert time.monotonic() < deadline, seen
    child.send_signal(signal.SIGINT)
    _, rest = child.communicate(timeout=120)
    assert child.returncode == 130, "".join(seen) + rest
    assert "canceling the render" in rest
    assert exports(project) == []
    [state] = project.jobs()
    assert state.state == "canceled", state
