"""The real `studio` CLI in subprocesses."""

import json
from pathlib import Path

from studio import Workspace
from tests.conftest import run_studio


def test_init_new_list_takes_json(tmp_path: Path, make_png) -> None:
    ws_path = tmp_path / "ws"
    done = run_studio("init", str(ws_path))
    assert done.returncode == 0, done.stderr
    assert (ws_path / "Projects").is_dir()

    done = run_studio(
        "new", "Night Market", "--description", "d", "--quality", "low",
        "--aspect-ratio", "2:1", "--json", "-w", str(ws_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert created["title"] == "Night Market"
    assert Path(created["path"]) == ws_path.resolve() / "Projects" / "Night_Market"
    assert (created["quality"], created["aspect_ratio"]) == ("low", "2:1")

    listed = json.loads(run_studio("list", "--json", "-w", str(ws_path)).stdout)
    assert [p["uuid"] for p in listed] == [created["uuid"]]

    project = Workspace(ws_path).open_project(created["uuid"])
    take = project.new_take(scene=1, shot=10, ext="png", prompt="p", seed=5)
    take.write_bytes(make_png())
    project.new_take(scene=1, shot=10, ext="png", prompt="p")
    done = run_studio("takes", "Night_Market", "1", "10", "--json", "-w", str(ws_path))
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["name"], r["state"], r["active"]) for r in rows] == [
        ("SHOT-010_v01_take01.png", "ready", True),
        ("SHOT-010_v01_take02.png", "reserved", False),
    ]
    assert rows[0]["provenance"]["seed"] == 5
    assert rows[0]["path"] == "03_Renders/SCENE_01/SHOT_010/SHOT-010_v01_take01.png"

    human = run_studio("takes", "Night Market", "1", "10", "-w", str(ws_path))
    assert "SHOT-010_v01_take01.png" in human.stdout


def test_workspace_from_environment(tmp_path: Path) -> None:
    done = run_studio(
        "new", "Env Film", "--json", env={"STUDIO_WORKSPACE": str(tmp_path / "envws")}
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["path"].startswith(str((tmp_path / "envws").resolve()))


def test_errors_are_clear_and_exit_1(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    done = run_studio("takes", "missing", "1", "1", "-w", ws)  # no workspace there
    assert done.returncode == 1
    assert "is not a studio workspace" in done.stderr and "studio init" in done.stderr
    assert not (tmp_path / "ws").exists()  # reading commands never create one

    Workspace(ws)
    done = run_studio("takes", "missing", "1", "1", "-w", ws)
    assert done.returncode == 1
    assert "error: no project 'missing'" in done.stderr
    assert "hint:" in done.stderr
    assert "Traceback" not in done.stderr

    done = run_studio("new", "X", "--quality", "ultra", "-w", ws)
    assert done.returncode == 2  # usage error, from typer
    assert "ultra" in done.stderr

    done = run_studio("new", "X", "--aspect-ratio", "wide", "-w", ws)
    assert done.returncode == 1
    assert "aspect_ratio" in done.stderr


def test_doctor(tmp_path: Path, path_without_git_lfs: str) -> None:
    done = run_studio("doctor", "-w", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "git-lfs" in done.stdout

    done = run_studio("doctor", env={"PATH": path_without_git_lfs})
    assert done.returncode == 1
    assert "missing" in done.stdout
    assert "git-lfs is not installed" in done.stderr
    assert "sudo apt-get install git-lfs" in done.stderr
    assert "git lfs install" in done.stderr


def test_writing_commands_check_git_lfs(tmp_path: Path, path_without_git_lfs: str) -> None:
    done = run_studio("new", "Film", "-w", str(tmp_path / "ws"), env={"PATH": path_without_git_lfs})
    assert done.returncode == 1
    assert "git-lfs is not installed" in done.stderr
    assert "apt-get install git-lfs" in done.stderr
    assert list((tmp_path / "ws/Projects").iterdir()) == []
