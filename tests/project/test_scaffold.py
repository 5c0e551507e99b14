"""A new project against PRD Table 1 and §2.2, with real git and git-lfs."""

import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio import InvalidInput, Project, ToolMissing, Workspace
from studio.project.layout import CANVAS_PATH, PROJECT_DIRS
from tests.conftest import git_out

TABLE_1_DIRS = {
    "01_Assets",
    "01_Assets/Source_Media",
    "01_Assets/AI_Models",
    "01_Assets/Generative_Assets",
    "02_Source_Creative",
    "02_Source_Creative/Canvases",
    "02_Source_Creative/Scripts",
    "03_Renders",
    "04_Project_Files",
    "04_Project_Files/Auto_Saves",
    "04_Project_Files/EDLs",
    "05_Cache",
    "05_Cache/thumbnails",
    "05_Cache/control_maps",
    "06_Exports",
}
LFS_REQUIRED = (
    "png jpg jpeg webp exr tif mp4 mov mxf mkv wav mp3 flac aac safetensors ckpt pt pth bin onnx"
)


def dirs_of(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_dir() and ".git" not in p.relative_to(root).parts
    }


def test_layout_is_exactly_table_1(project: Project) -> None:
    assert set(PROJECT_DIRS) == TABLE_1_DIRS
    assert dirs_of(project.path) == TABLE_1_DIRS
    top_files = {p.name for p in project.path.iterdir() if p.is_file()}
    # Table 1's files, and the project notebook that opens the canvas in JupyterLab
    assert top_files == {"project.json", ".gitignore", ".gitattributes", "Canvas.ipynb"}


def test_manifest_has_the_prd_keys_and_defaults(project: Project) -> None:
    data = json.loads((project.path / "project.json").read_text())
    assert set(data) == {
        "uuid",
        "title",
        "description",
        "canvas_path",
        "project_settings",
        "version",
    }
    assert data["title"] == "Test Film"
    assert data["description"] == "a test project"
    assert data["canvas_path"] == "02_Source_Creative/Canvases/main_canvas.json"
    assert data["project_settings"] == {
        "aspect_ratio": "16:9", "quality": "standard", "frame_rate": "24"
    }  # fmt: skip
    assert data["version"] == 1
    import uuid

    assert uuid.UUID(data["uuid"]).version == 4


def test_canvas_is_empty_but_valid(project: Project) -> None:
    canvas = json.loads((project.path / CANVAS_PATH).read_text())
    assert canvas == {"version": 1, "nodes": [], "edges": []}


def test_git_rules(project: Project) -> None:
    ignore = (project.path / ".gitignore").read_text().splitlines()
    for rule in ("05_Cache/", "06_Exports/", "*.DS_Store", ".*.lock"):
        assert rule in ignore
    attributes = (project.path / ".gitattributes").read_text().splitlines()
    for ext in LFS_REQUIRED.split():
        assert f"*.{ext} filter=lfs diff=lfs merge=lfs -text" in attributes


def test_repository_initialized_with_lfs_and_one_clean_commit(project: Project) -> None:
    assert git_out(project.path, "rev-list", "--count", "HEAD").strip() == "1"
    assert git_out(project.path, "status", "--porcelain") == ""
    assert git_out(project.path, "config", "--get", "filter.lfs.clean").strip()
    assert "git lfs" in (project.path / ".git/hooks/pre-push").read_text()
    tracked = git_out(project.path, "ls-files").splitlines()
    assert "project.json" in tracked
    assert "Canvas.ipynb" in tracked  # committed (without outputs), not left untracked
    assert "05_Cache/thumbnails/.gitkeep" in tracked  # force-added despite .gitignore


def test_empty_folders_survive_a_clone(project: Project, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(project.path), str(clone)], check=True)
    assert dirs_of(clone) == TABLE_1_DIRS
    assert Project(clone).uuid == project.uuid


def test_folder_is_never_reused(workspace: Workspace) -> None:
    first = workspace.create_project("Same Title")
    second = workspace.create_project("Same Title")
    assert (first.name, second.name) == ("Same_Title", "Same_Title_2")
    assert first.uuid != second.uuid


def test_unicode_title_is_kept_in_manifest(workspace: Workspace) -> None:
    project = workspace.create_project("映画: «Nuit» / 2")
    assert project.title == "映画: «Nuit» / 2"
    assert project.path.parent == workspace.projects_path


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"title": "   "}, "title"),
        ({"title": "a\0b"}, "title"),
        ({"title": "two\nlines"}, "title"),
        ({"title": "ok", "quality": "ultra"}, "quality"),
        ({"title": "ok", "aspect_ratio": "wide"}, "aspect_ratio"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    workspace: Workspace, kwargs: dict[str, str], needle: str
) -> None:
    with pytest.raises(InvalidInput, match=needle):
        workspace.create_project(**kwargs)  # type: ignore[arg-type]
    assert list(workspace.projects_path.iterdir()) == []


def test_missing_git_lfs_is_refused_with_install_hint(
    workspace: Workspace, path_without_git_lfs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", path_without_git_lfs)
    with pytest.raises(ToolMissing) as raised:
        workspace.create_project("No LFS here")
    assert raised.value.tool == "git-lfs"
    assert "apt-get install git-lfs" in str(raised.value)
    assert "brew install git-lfs" in str(raised.value)
    assert list(workspace.projects_path.iterdir()) == []


def test_a_failed_scaffold_leaves_no_half_project(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.errors import GitError
    from studio.project import scaffold

    def broken_commit(*args: object, **kwargs: object) -> str:
        raise GitError(["commit"], workspace.path, "simulated failure")

    monkeypatch.setattr(scaffold, "commit_paths", broken_commit)
    with pytest.raises(GitError):
        workspace.create_project("Doomed")
    assert list(workspace.projects_path.iterdir()) == []


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    title=st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1).filter(
        lambda t: t.strip()
    )
)
def test_any_title_lands_inside_projects(workspace: Workspace, title: str) -> None:
    project = workspace.create_project(title)
    assert project.path.parent == workspace.projects_path.resolve()
    assert project.title == title
