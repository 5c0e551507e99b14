"""Takes on disk: reservation, immutability, listing, active take, LFS commits."""

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from studio import LFSRequired, Project, TakeError, ToolMissing
from studio.project.repo import LFS_POINTER_PREFIX, lfs_files
from studio.project.takes import TakeId, scan_folder
from tests.conftest import git_out


def test_reservation_creates_sidecar_and_empty_take(project: Project) -> None:
    take = project.new_take(scene=1, shot=10, ext="png", prompt="a cat", seed=3, pipeline="t2i")
    assert take.path == project.path / "03_Renders/SCENE_01/SHOT_010/SHOT-010_v01_take01.png"
    assert (take.version, take.number) == (1, 1)
    assert take.path.exists() and not take.ready
    provenance = take.provenance
    assert provenance is not None
    assert (provenance.prompt, provenance.seed, provenance.pipeline) == ("a cat", 3, "t2i")
    assert take.sidecar_path.name == "SHOT-010_v01_take01.take.json"


def test_takes_are_immutable(project: Project, make_png: Callable[..., bytes]) -> None:
    take = project.new_take(scene=1, shot=10, ext="png")
    take.write_bytes(make_png())
    original = take.path.read_bytes()
    with pytest.raises(TakeError, match="immutable"):
        take.write_bytes(make_png(color=(0, 0, 0)))
    assert take.path.read_bytes() == original
    with pytest.raises(TakeError, match="empty"):
        project.new_take(scene=1, shot=10, ext="png").write_bytes(b"")


def test_numbers_and_versions(project: Project, make_png: Callable[..., bytes]) -> None:
    def take(prompt: str, seed: int) -> str:
        t = project.new_take(scene=2, shot=20, ext="png", prompt=prompt, seed=seed, pipeline="t2i")
        t.write_bytes(make_png())
        return t.name

    assert take("a cat", 1) == "SHOT-020_v01_take01.png"
    assert take("a cat", 2) == "SHOT-020_v01_take02.png"  # new seed: same version
    assert take("a dog", 1) == "SHOT-020_v02_take01.png"  # new prompt: new version
    assert take("a dog", 9) == "SHOT-020_v02_take02.png"
    forced = project.new_take(scene=2, shot=20, ext="mp4", version=7)
    assert forced.name == "SHOT-020_v07_take01.mp4"


def test_listing_is_the_folder_sorted(project: Project, make_png: Callable[..., bytes]) -> None:
    a = project.new_take(scene=1, shot=10, ext="png", prompt="a")
    b = project.new_take(scene=1, shot=10, ext="mp4", prompt="a")
    c = project.new_take(scene=1, shot=10, ext="png", prompt="b")
    folder = a.path.parent
    (folder / "notes.txt").write_text("not a take")
    (folder / "SHOT-010_v01_take09.png").write_bytes(make_png())  # copied in by hand
    names = [t.name for t in project.takes(scene=1, shot=10)]
    assert names == [a.name, b.name, "SHOT-010_v01_take09.png", c.name]
    hand = project.takes(scene=1, shot=10)[2]
    assert hand.provenance is None and hand.ready
    assert project.takes(scene=9, shot=99) == []
    assert project.shots() == [(1, 10)]


def test_a_hand_copied_take_is_never_overwritten(
    project: Project, make_png: Callable[..., bytes]
) -> None:
    folder = project.shot_path(scene=1, shot=10)
    folder.mkdir(parents=True)
    mine = make_png(color=(1, 2, 3))
    (folder / "SHOT-010_v01_take01.png").write_bytes(mine)
    # unknown provenance counts as a creative change: a new version
    assert project.new_take(scene=1, shot=10, ext="png").name == "SHOT-010_v02_take01.png"
    # asked for v01 explicitly, the hand-copied file's number is skipped, not reused
    assert project.new_take(scene=1, shot=10, ext="png", version=1).number == 2
    assert (folder / "SHOT-010_v01_take01.png").read_bytes() == mine


def test_active_take_defaults_to_newest_and_persists(
    project: Project, make_png: Callable[..., bytes]
) -> None:
    assert project.active_take(scene=1, shot=10) is None
    first = project.new_take(scene=1, shot=10, ext="png")
    first.write_bytes(make_png())
    second = project.new_take(scene=1, shot=10, ext="png")
    second.write_bytes(make_png())
    pending = project.new_take(scene=1, shot=10, ext="png")
    assert project.active_take(scene=1, shot=10) == second  # pending one is not ready
    project.set_active_take(first)
    assert Project(project.path).active_take(scene=1, shot=10) == first
    with pytest.raises(TakeError):
        project.set_active_take(pending)


def test_a_new_take_replaces_a_choice_unless_it_is_pinned(
    project: Project, make_png: Callable[..., bytes]
) -> None:
    def committed_take() -> str:
        take = project.new_take(scene=1, shot=10, ext="png")
        take.write_bytes(make_png())
        project.commit_takes([take])
        return take.name

    first, second = committed_take(), committed_take()
    [chosen] = [t for t in project.takes(scene=1, shot=10) if t.name == first]
    project.set_active_take(chosen)  # a choice, not pinned: shown until the next take
    third = committed_take()
    assert project.active_take(scene=1, shot=10).name == third  # type: ignore[union-attr]
    assert "active_take.json" in git_out(project.path, "show", "--name-only", "HEAD")
    assert git_out(project.path, "status", "--porcelain") == ""  # the choice went with it

    [chosen] = [t for t in project.takes(scene=1, shot=10) if t.name == second]
    project.set_active_take(chosen, pinned=True)
    committed_take()
    view = project.shot_view(scene=1, shot=10)
    assert view.active is not None and view.active.name == second and view.pinned
    assert json.loads((chosen.path.parent / "active_take.json").read_text())["pinned"] is True


def test_a_failed_commit_gives_back_the_choice_it_replaced(
    project: Project, make_png: Callable[..., bytes]
) -> None:
    first = project.new_take(scene=1, shot=10, ext="png")
    first.write_bytes(make_png())
    project.commit_takes([first])
    project.set_active_take(first)
    bypass = project.new_take(scene=1, shot=10, ext="xyz")  # not routed through LFS: refused
    bypass.write_bytes(b"\x00\x01 some binary")
    with pytest.raises(LFSRequired):
        project.commit_takes([bypass])
    assert project.active_take(scene=1, shot=10) == first


def test_committed_takes_are_lfs_pointers(
    project: Project, make_png: Callable[..., bytes], tmp_path: Path
) -> None:
    takes = []
    for ext in ("png", "mp4", "wav"):
        take = project.new_take(scene=1, shot=10, ext=ext, prompt="x")
        take.write_bytes(make_png() if ext == "png" else b"\x00binary" * 100)
        takes.append(take)
    project.set_active_take(takes[0])
    commit = project.commit_takes(takes)
    assert git_out(project.path, "rev-parse", "HEAD").strip() == commit
    listed = set(lfs_files(project.path))
    for take in takes:
        rel = str(take.path.relative_to(project.path))
        assert rel in listed
        blob = subprocess.run(
            ["git", "cat-file", "blob", f"HEAD:{rel}"],
            cwd=project.path,
            capture_output=True,
            check=True,
        ).stdout
        assert blob.startswith(LFS_POINTER_PREFIX)
        sidecar = str(take.sidecar_path.relative_to(project.path))
        assert git_out(project.path, "cat-file", "-t", f"HEAD:{sidecar}").strip() == "blob"
    assert "active_take.json" in git_out(project.path, "show", "--name-only", "HEAD")
    assert git_out(project.path, "status", "--porcelain") == ""
    # a clone with LFS gets the real bytes back
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(project.path), str(clone)], check=True)
    first = takes[0].path.relative_to(project.path)
    assert (clone / first).read_bytes() == takes[0].path.read_bytes()


def test_commit_only_touches_the_takes(project: Project, make_png: Callable[..., bytes]) -> None:
    (project.path / "02_Source_Creative/Scripts/draft.txt").write_text("work in progress")
    take = project.new_take(scene=1, shot=10, ext="png")
    take.write_bytes(make_png())
    project.commit_takes([take], message="one take")
    assert git_out(project.path, "log", "-1", "--format=%s").strip() == "one take"
    assert "?? 02_Source_Creative/Scripts/draft.txt" in git_out(
        project.path, "status", "--porcelain"
    )


def test_refuses_binaries_that_would_bypass_lfs(project: Project) -> None:
    take = project.new_take(scene=1, shot=10, ext="xyz")
    take.write_bytes(b"\x00\x01 some binary")
    with pytest.raises(LFSRequired, match=r"SHOT-010_v01_take01\.xyz.*not routed through Git LFS"):
        project.commit_takes([take])
    assert git_out(project.path, "rev-list", "--count", "HEAD").strip() == "1"


def test_refuses_empty_takes(project: Project) -> None:
    take = project.new_take(scene=1, shot=10, ext="png")
    with pytest.raises(TakeError, match="still empty"):
        project.commit_takes([take])


def test_without_git_lfs_nothing_is_written(
    project: Project,
    make_png: Callable[..., bytes],
    path_without_git_lfs: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    take = project.new_take(scene=1, shot=10, ext="png")
    take.write_bytes(make_png())
    monkeypatch.setenv("PATH", path_without_git_lfs)
    with pytest.raises(ToolMissing, match="git-lfs is not installed"):
        project.commit_takes([take])
    with pytest.raises(ToolMissing, match="apt-get install git-lfs"):
        project.new_take(scene=1, shot=10, ext="png")
    assert len(project.takes(scene=1, shot=10)) == 1


def test_an_empty_file_without_a_sidecar_is_a_stray_not_a_take(project: Project) -> None:
    folder = project.shot_path(scene=1, shot=10)
    folder.mkdir(parents=True)
    (folder / "SHOT-010_v01_take07.png").write_bytes(b"")
    scan = scan_folder(folder)
    assert scan.strays == ["SHOT-010_v01_take07.png"] and scan.takes == {}
    assert project.takes(scene=1, shot=10) == []
    # its number is skipped only if a reservation would collide with it, never reused
    assert project.new_take(scene=1, shot=10, ext="png").name == "SHOT-010_v01_take01.png"


def test_a_take_whose_sidecar_does_not_read_is_broken(
    project: Project, make_png: Callable[..., bytes]
) -> None:
    take = project.new_take(scene=1, shot=10, ext="png", prompt="a")
    take.write_bytes(make_png())
    take.sidecar_path.write_text("{")
    [listed] = project.takes(scene=1, shot=10)
    provenance, error = listed.read_provenance()
    assert provenance is None and error is not None and take.sidecar_path.name in error
    assert listed.state == "broken"
    # the next reservation still works: unknown provenance counts as a creative change
    assert project.new_take(scene=1, shot=10, ext="png", prompt="a").name == (
        "SHOT-010_v02_take01.png"
    )


def test_a_file_with_another_extension_never_hides_the_take(
    project: Project, make_png: Callable[..., bytes]
) -> None:
    """A stray ``.jpg`` (or an empty ``.gif``) beside a take's ``.png`` is never the take,
    whatever order the folder lists them in: the sidecar names the take's file."""
    take = project.new_take(scene=1, shot=10, ext="png", prompt="a")
    take.write_bytes(make_png())
    project.commit_takes([take])
    folder = take.path.parent
    (folder / "SHOT-010_v01_take01.aaa").write_bytes(b"a user's file, sorted first")
    (folder / "SHOT-010_v01_take01.gif").write_bytes(b"")
    scan = scan_folder(folder)
    assert scan.takes == {TakeId(1, 1): "png"}
    assert scan.others == {
        "SHOT-010_v01_take01.aaa": take.name,
        "SHOT-010_v01_take01.gif": take.name,
    }
    [listed] = project.takes(scene=1, shot=10)
    assert listed.name == take.name and listed.ready
    # Without a sidecar to say which: the first non-empty one by name, never the empty one.
    take.sidecar_path.unlink()
    assert scan_folder(folder).takes == {TakeId(1, 1): "aaa"}
