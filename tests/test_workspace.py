import json
import warnings
from pathlib import Path

import pytest

from studio import InvalidInput, ManifestError, ProjectNotFound, Workspace
from studio.config import load_settings
from studio.workspace import read_workspace_config


def test_creates_the_prd_layout(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    for rel in (
        "Library/Branding",
        "Library/Stock_Media",
        "Library/Pipeline_Templates",
        "Projects",
    ):
        assert (ws.path / rel).is_dir()
    config = json.loads((ws.path / "workspace.json").read_text())
    assert config["format"] == "generative-media-studio/workspace"
    assert ws.library.pipeline_templates == ws.path / "Library/Pipeline_Templates"


def test_reopening_is_idempotent_and_destroys_nothing(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    logo = ws.library.branding / "logo.png"
    logo.write_bytes(b"logo")
    config = json.loads((ws.path / "workspace.json").read_text())
    config["my_setting"] = 42
    (ws.path / "workspace.json").write_text(json.dumps(config))
    project = ws.create_project("Keep Me")
    (ws.path / "Library/Stock_Media").rmdir()

    again = Workspace(ws.path)
    assert logo.read_bytes() == b"logo"
    assert json.loads((ws.path / "workspace.json").read_text())["my_setting"] == 42
    assert (ws.path / "Library/Stock_Media").is_dir()  # recreated
    assert [p.uuid for p in again.projects()] == [project.uuid]


def test_default_path_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_WORKSPACE", str(tmp_path / "from-env"))
    assert load_settings().workspace == tmp_path / "from-env"
    assert Workspace().path == (tmp_path / "from-env").resolve()


def test_a_notebook_in_the_workspace_opens_it_not_a_nested_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STUDIO_WORKSPACE", raising=False)
    served = Workspace(tmp_path / "films")  # what `studio lab` serves: its notebooks run here
    project = served.create_project("Night Market")
    for folder in (served.path, project.path):  # a notebook there, or in a project's folder
        monkeypatch.chdir(folder)
        assert Workspace().path == served.path
    assert not (served.path / "workspace").exists()
    monkeypatch.chdir(tmp_path)  # outside any workspace: ./workspace, created
    assert Workspace().path == (tmp_path / "workspace").resolve()


def test_a_file_is_not_a_workspace(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInput, match="not a folder"):
        Workspace(tmp_path / "file")


def test_broken_workspace_config_is_reported(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws/workspace.json").write_text("{broken")
    with pytest.raises(ManifestError, match=r"workspace\.json: malformed JSON"):
        Workspace(tmp_path / "ws")
    assert (tmp_path / "ws/workspace.json").read_text() == "{broken"


def test_open_project_by_name_uuid_and_title(workspace: Workspace) -> None:
    project = workspace.create_project("Night Market")
    assert workspace.open_project("Night_Market").uuid == project.uuid
    assert workspace.open_project(str(project.uuid)).uuid == project.uuid
    assert workspace.open_project(str(project.uuid).upper()).uuid == project.uuid
    assert workspace.open_project(project.manifest.uuid).uuid == project.uuid  # a uuid.UUID
    assert workspace.open_project("Night Market").uuid == project.uuid


def test_open_project_errors(workspace: Workspace) -> None:
    workspace.create_project("Twin Film")
    workspace.create_project("Twin Film")
    with pytest.raises(InvalidInput, match="2 projects are titled 'Twin Film'"):
        workspace.open_project("Twin Film")
    assert workspace.open_project("Twin_Film_2").name == "Twin_Film_2"
    with pytest.raises(ProjectNotFound, match="no project 'nope'") as raised:
        workspace.open_project("nope")
    assert "Twin_Film_2" in str(raised.value)
    for escape in ("../..", "../ws", "/etc", "Twin_Film/../Twin_Film_2", "."):
        with pytest.raises(ProjectNotFound):
            workspace.open_project(escape)


def test_projects_skips_a_broken_one_with_a_warning(workspace: Workspace) -> None:
    good = workspace.create_project("Good")
    bad = workspace.create_project("Bad")
    (bad.path / "project.json").write_text("{}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [p.uuid for p in workspace.projects()] == [good.uuid]
    assert any("Bad/project.json" in str(w.message) for w in caught)


def test_reprs(workspace: Workspace, make_png) -> None:
    project = workspace.create_project("Show <me>")
    take = project.new_take(scene=1, shot=1, ext="png", prompt="a <b>")
    assert "reserved" in take._repr_html_()
    take.write_bytes(make_png())
    html = take._repr_html_()
    assert "data:image/jpeg;base64," in html
    assert "a &lt;b&gt;" in html
    assert "Show &lt;me&gt;" in project._repr_html_()
    assert "1 takes" in project._repr_html_()
    assert "Show &lt;me&gt;" in workspace._repr_html_()
    video = project.new_take(scene=1, shot=1, ext="mp4")
    video.write_bytes(b"\x00" * 64)
    assert "<video" in video._repr_html_()


def test_scan_projects_lists_broken_ones_with_their_error(workspace: Workspace) -> None:
    good = workspace.create_project("Good")
    bad = workspace.create_project("Bad")
    (bad.path / "project.json").write_text('{"uuid": "x"}')
    found, broken = workspace.scan_projects()
    assert [p.uuid for p in found] == [good.uuid]
    [problem] = broken
    assert problem.name == "Bad" and "project.json" in problem.error and "uuid" in problem.error


def test_no_workspace_is_created_inside_a_project(workspace: Workspace, monkeypatch) -> None:
    from studio.errors import InvalidInput
    from studio.workspace import find_workspace, locate_workspace

    project = workspace.create_project("Film")
    with pytest.raises(InvalidInput, match="inside the project"):
        Workspace(project.path / "03_Renders" / "ws")
    monkeypatch.chdir(project.path / "03_Renders")
    monkeypatch.delenv("STUDIO_WORKSPACE", raising=False)
    assert find_workspace(Path.cwd()) == workspace.path
    assert locate_workspace(None) == workspace.path  # the one the folder is in
    assert Workspace(locate_workspace(None)).path == workspace.path


def test_connect_points_the_workspace_at_a_scheduler_and_keeps_its_other_settings(
    workspace: Workspace,
) -> None:
    path = workspace.path / "workspace.json"
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "team_note": "kept", "dispatch_policy": "fallback"}))
    workspace.connect("tcp://render-farm:8786")
    written = json.loads(path.read_text())
    assert written["scheduler"] == "tcp://render-farm:8786"
    assert written["team_note"] == "kept" and written["dispatch_policy"] == "fallback"
    assert read_workspace_config(workspace.path).scheduler == "tcp://render-farm:8786"
    assert Workspace(workspace.path).config.scheduler == "tcp://render-farm:8786"
    with pytest.raises(InvalidInput, match="not a Dask scheduler address"):
        workspace.connect("render-farm:8786")
    assert json.loads(path.read_text())["scheduler"] == "tcp://render-farm:8786"  # unchanged
    workspace.connect(None)  # back to a local cluster
    assert read_workspace_config(workspace.path).scheduler is None
