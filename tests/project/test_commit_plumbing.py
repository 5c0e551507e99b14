"""A take's commit through git plumbing (studio.project.repo.commit_paths), on real git and
real Git LFS: the result is what ``git add`` + ``git commit`` with git-lfs would have made,
no git-lfs process is started, and a process killed at any step leaves a state settling
and ``studio repair`` recover from."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from studio import Project
from studio.errors import GitError
from studio.health import examine, repair
from studio.project import lfs, plumbing, repo
from studio.project.takes import Take
from tests.conftest import git_out

SHOT_DIR = "03_Renders/SCENE_01/SHOT_010"


@pytest.fixture
def lfs_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A log of every git-lfs run (a wrapper first on PATH that records, then runs it)."""
    real = subprocess.run(["sh", "-c", "command -v git-lfs"], capture_output=True, text=True)
    bin_dir = tmp_path / "bin-counting-lfs"
    bin_dir.mkdir()
    log = tmp_path / "git-lfs.log"
    wrapper = bin_dir / "git-lfs"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {real.stdout.strip()} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    repo.require_git_and_lfs()  # its `git lfs version` probe, before anyone looks
    log.unlink(missing_ok=True)
    yield log


def lfs_runs(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def new_take(project: Project, png: bytes) -> Take:
    take = project.new_take(scene=1, shot=10, ext="png", prompt="lanterns", job_id="j1")
    take.write_bytes(png)
    take.record(worker="w")
    return take


def rel(project: Project, path: Path) -> str:
    return path.relative_to(project.path).as_posix()


def test_a_take_is_stored_exactly_as_git_lfs_stores_it_without_running_it(
    project: Project, make_png: Callable[..., bytes], lfs_calls: Path, tmp_path: Path
) -> None:
    take = new_take(project, make_png())
    project.set_active_take(take)
    commit = project.commit_takes([take], message="Generate one take")
    assert lfs_runs(lfs_calls) == []  # no clean filter, no post-commit hook

    media, sidecar = rel(project, take.path), rel(project, take.sidecar_path)
    assert git_out(project.path, "rev-parse", "HEAD").strip() == commit
    assert git_out(project.path, "log", "-1", "--format=%s%n%P").split() == [
        "Generate", "one", "take", git_out(project.path, "rev-parse", "HEAD^").strip(),
    ]  # fmt: skip
    assert "commit: Generate one take" in git_out(project.path, "reflog", "-1")
    assert "refs/studio" not in git_out(project.path, "for-each-ref")
    # The blob is the pointer git-lfs's clean filter makes (git hash-object runs it) ...
    expected = git_out(project.path, "hash-object", f"--path={media}", media).strip()
    assert git_out(project.path, "rev-parse", f"HEAD:{media}").strip() == expected
    # ... and the whole tree is the one `git add` of the same files makes, modes included.
    env = {**os.environ, "GIT_INDEX_FILE": str(tmp_path / "check.index")}
    choice = f"{SHOT_DIR}/active_take.json"
    for args in (["read-tree", "HEAD^"], ["add", "--", media, sidecar, choice]):
        subprocess.run(["git", *args], cwd=project.path, env=env, check=True)
    tree = subprocess.run(
        ["git", "write-tree"], cwd=project.path, env=env, capture_output=True, text=True
    ).stdout.strip()
    assert tree == git_out(project.path, "rev-parse", "HEAD^{tree}").strip()
    # The object is in the local LFS store, as git lfs keeps it.
    pointer = git_out(project.path, "cat-file", "blob", f"HEAD:{media}")
    oid = pointer.split("oid sha256:")[1].split()[0]
    stored = project.path / ".git/lfs/objects" / oid[:2] / oid[2:4] / oid
    assert stored.read_bytes() == take.path.read_bytes()
    # What git and git lfs say of it.
    assert media in repo.lfs_files(project.path)
    assert "Git LFS fsck OK" in git_out(project.path, "lfs", "fsck")
    assert git_out(project.path, "status", "--porcelain") == ""
    assert git_out(project.path, "diff", "--stat", "HEAD") == ""
    fsck = subprocess.run(["git", "fsck", "--strict"], cwd=project.path, capture_output=True)
    assert fsck.returncode == 0, fsck.stderr
    # A clone gets the real bytes back, through LFS.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(project.path), str(clone)], check=True)
    subprocess.run(["git", "lfs", "pull"], cwd=clone, check=True)
    assert (clone / media).read_bytes() == take.path.read_bytes()
    assert (clone / sidecar).read_bytes() == take.sidecar_path.read_bytes()
    assert git_out(clone, "status", "--porcelain") == ""
    assert "Git LFS fsck OK" in git_out(clone, "lfs", "fsck")


def test_what_the_user_staged_stays_staged_and_out_of_the_commit(
    project: Project, make_png: Callable[..., bytes]
) -> None:
    draft = project.path / "02_Source_Creative/Scripts/draft.txt"
    draft.write_text("work in progress\n")
    git_out(project.path, "add", "--", rel(project, draft))
    take = new_take(project, make_png())
    project.commit_takes([take])
    assert rel(project, draft) not in git_out(project.path, "show", "--name-only", "HEAD")
    assert f"A  {rel(project, draft)}" in git_out(project.path, "status", "--porcelain")


def test_a_second_take_and_many_at_once(project: Project, make_png: Callable[..., bytes]) -> None:
    first = new_take(project, make_png())
    project.commit_takes([first])
    more = []
    for _ in range(3):
        take = project.new_take(scene=1, shot=10, ext="png", prompt="lanterns")
        take.write_bytes(make_png())
        more.append(take)
    project.commit_takes(more, message="three takes")
    listed = repo.lfs_files(project.path)
    assert all(rel(project, t.path) in listed for t in [first, *more])
    assert git_out(project.path, "rev-list", "--count", "HEAD").strip() == "3"
    assert git_out(project.path, "status", "--porcelain") == ""


def test_odd_file_names_are_committed_as_named(project: Project) -> None:
    names = ["with space.txt", 'quote".txt', "tab\there.txt", "ünïcode.txt"]
    paths = [project.path / "02_Source_Creative" / name for name in names]
    for path in paths:
        path.write_text("x\n")
    repo.commit_paths(project.path, paths, message="odd names")
    listed = git_out(project.path, "ls-tree", "-z", "--name-only", "HEAD:02_Source_Creative")
    assert set(names) <= set(listed.split("\0"))
    assert git_out(project.path, "status", "--porcelain", "--", "02_Source_Creative") == ""


@pytest.mark.parametrize("where", ["hooks folder", "core.hooksPath"])
def test_a_users_commit_hook_is_run_by_git_commit(
    project: Project, make_png: Callable[..., bytes], tmp_path: Path, where: str
) -> None:
    project.commit_takes([new_take(project, make_png())])  # plumbing; its config is cached
    marker = tmp_path / "hook-ran"
    hooks = project.path / ".git/hooks" if where == "hooks folder" else tmp_path / "hooks"
    hooks.mkdir(exist_ok=True)
    hook = hooks / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    if where == "core.hooksPath":
        git_out(project.path, "config", "core.hooksPath", str(hooks))
    take = project.new_take(scene=1, shot=10, ext="png", prompt="other")
    take.write_bytes(make_png())
    project.commit_takes([take])
    assert marker.exists()
    assert rel(project, take.path) in repo.lfs_files(project.path)
    assert git_out(project.path, "status", "--porcelain") == ""


def test_content_git_would_convert_is_committed_by_git(project: Project) -> None:
    """A carriage return (text conversion) or another clean filter: git reads those files."""
    attributes = project.path / ".gitattributes"
    attributes.write_text(attributes.read_text() + "*.shout filter=upper\n")
    git_out(project.path, "config", "filter.upper.clean", "tr a-z A-Z")
    crlf = project.path / "notes.txt"
    crlf.write_bytes(b"one\r\ntwo\r\n")
    loud = project.path / "line.shout"
    loud.write_text("quiet\n")
    repo.commit_paths(project.path, [attributes, crlf, loud], message="converted")
    assert git_out(project.path, "cat-file", "blob", "HEAD:notes.txt") == "one\ntwo\n"
    assert git_out(project.path, "cat-file", "blob", "HEAD:line.shout") == "QUIET\n"


def test_a_take_that_is_already_a_pointer_is_left_to_git_lfs(
    project: Project, lfs_calls: Path
) -> None:
    take = project.new_take(scene=1, shot=10, ext="png")
    pointer = lfs.Pointer("a" * 64, 12).text()
    take.write_bytes(pointer)
    project.commit_takes([take])
    assert lfs_runs(lfs_calls)  # git-lfs itself decided
    assert git_out(project.path, "cat-file", "blob", f"HEAD:{rel(project, take.path)}") == (
        pointer.decode()
    )


def test_head_moved_meanwhile_is_built_on_again(
    project: Project, make_png: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone else committed between reading HEAD and moving it: the ref update refuses the
    stale parent, and the commit is made again on the new HEAD (nothing of theirs lost)."""
    stale = git_out(project.path, "rev-parse", "HEAD").strip()
    (project.path / "theirs.txt").write_text("theirs\n")
    git_out(project.path, "add", "theirs.txt")
    git_out(project.path, "commit", "-q", "-m", "their commit")
    reads: list[str] = []
    real = repo.head_commit

    def first_read_is_stale(path: Path) -> str | None:
        reads.append(str(path))
        return stale if len(reads) == 1 else real(path)

    monkeypatch.setattr(repo, "head_commit", first_read_is_stale)
    monkeypatch.setattr(repo, "INDEX_LOCK_WAIT_S", 0.01)
    take = new_take(project, make_png())
    project.commit_takes([take], message="mine")
    assert len(reads) == 2
    assert git_out(project.path, "log", "--format=%s", "-2").split("\n")[:2] == [
        "mine", "their commit",
    ]  # fmt: skip
    assert git_out(project.path, "status", "--porcelain") == ""


def test_head_is_read_from_loose_and_packed_refs(project: Project) -> None:
    head = git_out(project.path, "rev-parse", "HEAD").strip()
    assert repo.head_commit(project.path) == head
    git_out(project.path, "pack-refs", "--all")
    assert not (project.path / ".git/refs/heads/main").exists()
    assert repo.head_commit(project.path) == head
    git_out(project.path, "checkout", "-q", "--detach")
    assert repo.head_commit(project.path) == head


def test_head_behind_a_symbolic_ref_or_unborn_is_asked_of_git(project: Project) -> None:
    head = git_out(project.path, "rev-parse", "HEAD").strip()
    git_out(project.path, "symbolic-ref", "refs/heads/alias", "refs/heads/main")
    git_out(project.path, "symbolic-ref", "HEAD", "refs/heads/alias")  # a chain: git follows it
    assert repo.head_commit(project.path) == head
    git_out(project.path, "symbolic-ref", "HEAD", "refs/heads/unborn")
    assert repo.head_commit(project.path) is None
    git_out(project.path, "symbolic-ref", "HEAD", "refs/heads/main")
    (project.path / ".git/refs/heads/main").write_text("not an id\n")  # unsure: git says
    with pytest.raises(subprocess.CalledProcessError):  # git itself cannot read it
        git_out(project.path, "rev-parse", "--verify", "HEAD")
    assert repo.head_commit(project.path) is None


def reflog_tail(project: Project, ref: str) -> str:
    return (project.path / ".git/logs" / ref).read_text().splitlines()[-1]


def test_head_is_moved_in_process_as_git_update_ref_moves_it(
    project: Project, make_png: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same reflog lines (HEAD's and the branch's), ref file and scratch ref deletion as
    ``git update-ref``, also from a branch only in packed-refs; no lock left behind."""
    by_git: list[bool] = []
    real = repo._move_head

    def refused_once(*args: object, **kwargs: object) -> bool:
        if not by_git:
            by_git.append(True)
            return False  # the first commit's HEAD is moved by git update-ref
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(repo, "_move_head", refused_once)
    first = new_take(project, make_png())
    project.commit_takes([first], message="by git")
    theirs = reflog_tail(project, "HEAD")
    git_out(project.path, "pack-refs", "--all")
    second = project.new_take(scene=1, shot=10, ext="png", prompt="lanterns", job_id="j2")
    second.write_bytes(make_png(color=(1, 2, 3)))
    commit = project.commit_takes([second], message="in  process\there")
    ours = reflog_tail(project, "HEAD")
    assert ours == reflog_tail(project, "refs/heads/main")
    old, new, rest = ours.split(" ", 2)
    assert (old, new) == (theirs.split(" ")[1], commit)
    who, _, message = rest.partition("\t")
    assert message == "commit: in process here"  # git's own whitespace rule
    assert who.rsplit(" ", 2)[0] == theirs.split(" ", 2)[2].partition("\t")[0].rsplit(" ", 2)[0]
    assert who.rsplit(" ", 1)[1] == theirs.partition("\t")[0].rsplit(" ", 1)[1]  # time zone
    assert (project.path / ".git/refs/heads/main").read_text() == f"{commit}\n"
    assert git_out(project.path, "rev-parse", "HEAD").strip() == commit
    assert git_out(project.path, "reflog", "-1", "--format=%gs") == "commit: in process here\n"
    assert "refs/studio" not in git_out(project.path, "for-each-ref")
    assert not (project.path / ".git/refs/studio").exists()
    assert list((project.path / ".git/refs").rglob("*.lock")) == []
    assert not (project.path / ".git/HEAD.lock").exists()
    assert git_out(project.path, "status", "--porcelain") == ""
    fsck = subprocess.run(["git", "fsck", "--strict"], cwd=project.path, capture_output=True)
    assert fsck.returncode == 0, fsck.stderr


def test_a_held_ref_lock_refuses_the_commit_as_git_would(
    project: Project, make_png: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A branch lock another git holds: retried, then refused with git's words, HEAD and the
    index as before, the other's lock left alone; once it is gone the take commits."""
    monkeypatch.setattr(repo, "INDEX_LOCK_WAIT_S", 0.01)
    before = git_out(project.path, "rev-parse", "HEAD").strip()
    lock = project.path / ".git/refs/heads/main.lock"
    lock.write_text("theirs\n")
    take = new_take(project, make_png())
    with pytest.raises(GitError, match=r"main\.lock': File exists"):
        project.commit_takes([take])
    assert lock.read_text() == "theirs\n"
    assert not (project.path / ".git/HEAD.lock").exists()
    assert git_out(project.path, "rev-parse", "HEAD").strip() == before
    assert git_out(project.path, "status", "--porcelain") == "?? 03_Renders/SCENE_01/\n"
    lock.unlink()
    project.commit_takes([take])
    assert repo.is_committed(project.path, take.path)
    assert git_out(project.path, "status", "--porcelain") == ""


def test_the_lfs_object_written_in_process_is_what_git_lfs_reads_back(
    project: Project, make_png: Callable[..., bytes], lfs_calls: Path
) -> None:
    """``git lfs fsck`` passes, ``git lfs smudge`` of the committed pointer gives the take's
    bytes, and a checkout of the deleted take restores them (git-lfs's own smudge filter)."""
    take = new_take(project, make_png())
    data = take.path.read_bytes()
    project.commit_takes([take])
    assert lfs_runs(lfs_calls) == []
    media = rel(project, take.path)
    assert "Git LFS fsck OK" in git_out(project.path, "lfs", "fsck")
    assert media in git_out(project.path, "lfs", "ls-files", "--name-only").splitlines()
    pointer = subprocess.run(
        ["git", "cat-file", "blob", f"HEAD:{media}"], cwd=project.path, capture_output=True,
        check=True,
    ).stdout  # fmt: skip
    assert pointer == lfs.Pointer(hashlib.sha256(data).hexdigest(), len(data)).text()
    smudged = subprocess.run(
        ["git", "lfs", "smudge", "--", media], cwd=project.path, input=pointer,
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert smudged == data
    take.path.unlink()
    subprocess.run(["git", "checkout", "--", media], cwd=project.path, check=True)
    assert take.path.read_bytes() == data
    assert git_out(project.path, "status", "--porcelain") == ""


def test_objects_are_written_in_process_unless_git_packed_the_trees(
    project: Project, make_png: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No fast-import while HEAD's trees are loose objects: the blobs, trees and commit are
    written here, the same objects git writes (``git fsck --strict``, the tree ``git add``
    makes); after ``git gc`` packed them, fast-import (which reads packs) makes that one."""
    runs: list[str] = []
    real = repo.git_bytes

    def counted(path: Path, *args: str, **kwargs: object) -> bytes:
        runs.append(next(a for a in args if not a.startswith("-") and "=" not in a))
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(repo, "git_bytes", counted)
    first = new_take(project, make_png())
    project.commit_takes([first])
    assert runs == ["update-index"]
    git_out(project.path, "gc", "--quiet")
    second = project.new_take(scene=1, shot=10, ext="png", prompt="lanterns", job_id="j2")
    second.write_bytes(make_png(color=(1, 2, 3)))
    project.commit_takes([second])
    assert runs == ["update-index", "fast-import", "update-index"]
    third = project.new_take(scene=2, shot=20, ext="png", prompt="lanterns", job_id="j3")
    third.write_bytes(make_png(color=(4, 5, 6)))
    project.commit_takes([third])  # a new scene's folders: new trees, the rest loose again
    assert runs[3:] == ["update-index"]
    for take in (first, second, third):
        assert repo.is_committed(project.path, take.path)
    assert git_out(project.path, "status", "--porcelain") == ""
    fsck = subprocess.run(["git", "fsck", "--strict"], cwd=project.path, capture_output=True)
    assert fsck.returncode == 0, fsck.stderr
    assert "Git LFS fsck OK" in git_out(project.path, "lfs", "fsck")

    def people(commit: str) -> list[str]:  # author and committer, their time left out
        lines = git_out(project.path, "cat-file", "commit", commit).splitlines()
        return [
            f"{line.rsplit(' ', 2)[0]} {line.rsplit(' ', 1)[1]}"
            for line in lines
            if line.startswith(("author ", "committer "))
        ]

    assert people("HEAD") == people("HEAD~1")  # as fast-import wrote them (HEAD~1)


def test_attributes_are_asked_of_git_once_until_a_file_changes(
    project: Project, make_png: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, ...]] = []
    real = repo.git

    def counting(path: Path, *args: str, **kwargs: str | None) -> str:
        if args[:1] == ("check-attr",):
            asked.append(args)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(repo, "git", counting)
    shot = project.path / SHOT_DIR
    shot.mkdir(parents=True, exist_ok=True)
    first, second = shot / "SHOT-010_v01_take01.png", shot / "SHOT-010_v01_take02.png"
    assert repo.path_attributes(project.path, [first])[first]["filter"] == "lfs"
    assert repo.path_attributes(project.path, [second])[second]["filter"] == "lfs"
    assert len(asked) == 1  # the second take's name matches the same lines: known
    for _ in range(2):
        take = new_take(project, make_png())
        project.commit_takes([take], message=take.name)
    assert len(asked) == 2  # the sidecar and the active-take file, once
    # A .gitattributes of the shot's own folder changes the answer: git is asked again.
    (shot / ".gitattributes").write_text("*.png -filter\n")
    assert repo.path_attributes(project.path, [second])[second]["filter"] == "unset"
    attributes = project.path / ".gitattributes"
    attributes.write_text(attributes.read_text() + "03_Renders/**/*.webp filter=lfs\n")
    repo.path_attributes(project.path, [second])
    repo.path_attributes(project.path, [second])
    assert len(asked) == 5  # a pattern only git can match: asked every time
    for path, answer in repo.path_attributes(project.path, [first, second]).items():
        assert (
            answer
            == plumbing.parse_check_attr(
                real(
                    project.path, "check-attr", "-z", *plumbing.ATTRIBUTES, "--", rel(project, path)
                )
            )[rel(project, path)]
        )
    # A line Python would split otherwise than git (a no-break space): git's answer each time.
    attributes.write_text("clip\xa0final.xyz filter=lfs\n")
    other, odd = shot / "clip\xa0other.xyz", shot / "clip\xa0final.xyz"
    assert repo.path_attributes(project.path, [other])[other]["filter"] == "unspecified"
    assert repo.path_attributes(project.path, [odd])[odd]["filter"] == "lfs"


def test_loose_objects_are_packed_when_git_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / ".git/objects/17"
    folder.mkdir(parents=True)
    calls: list[tuple[str, ...]] = []

    def git(_repo: Path, *args: str, **_: object) -> str:
        calls.append(args)
        return ""

    monkeypatch.setattr(repo, "git", git)
    (folder / ("0" * 38)).write_text("")
    repo._pack_when_due(tmp_path, {"gc.auto": "512"})  # 1 of at most 2: not yet
    assert calls == []
    for name in ("1" * 38, "2" * 38):
        (folder / name).write_text("")
    repo._pack_when_due(tmp_path, {"gc.auto": "0"})  # gc.auto=0: never
    assert calls == []
    repo._pack_when_due(tmp_path, {"gc.auto": "512"})
    assert calls == [("gc", "--auto", "--quiet")]


# --- killed in the middle -------------------------------------------------------------------

KILLED_AT = """
import os, signal, sys
from pathlib import Path
from studio import Project
from studio.errors import GitError
from studio.project import repo

step = sys.argv[2]
real = repo.git_bytes

def git_bytes(path, *args, **kwargs):
    if args[0] == step:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(path, *args, **kwargs)

repo.git_bytes = git_bytes
real_move = repo._move_head

def move_head(*args, **kwargs):  # HEAD moved in process: killed there as before a git run
    if step == "update-ref":
        os.kill(os.getpid(), signal.SIGKILL)
    return real_move(*args, **kwargs)

repo._move_head = move_head
project = Project(sys.argv[1])
[take] = [t for t in project.takes(scene=1, shot=10) if t.name == sys.argv[3]]
project.commit_takes([take])
"""


def commit_killed_before(project: Project, take: Take, step: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", KILLED_AT, str(project.path), step, take.name],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


def test_killed_before_the_index_update_leaves_nothing_staged(
    project: Project, make_png: Callable[..., bytes]
) -> None:
    take = new_take(project, make_png())
    before = git_out(project.path, "rev-parse", "HEAD").strip()
    commit_killed_before(project, take, "update-index")
    assert git_out(project.path, "rev-parse", "HEAD").strip() == before
    assert git_out(project.path, "status", "--porcelain") == "?? 03_Renders/SCENE_01/\n"
    project.commit_takes([take])  # the next commit goes through and drops the scratch ref
    assert "refs/studio" not in git_out(project.path, "for-each-ref")
    assert git_out(project.path, "status", "--porcelain") == ""


def test_killed_before_head_moved_leaves_the_take_staged_and_repair_commits_it(
    project: Project, make_png: Callable[..., bytes]
) -> None:
    take = new_take(project, make_png())
    commit_killed_before(project, take, "update-ref")
    status = git_out(project.path, "status", "--porcelain")
    assert f"A  {rel(project, take.path)}" in status  # staged, never a staged deletion
    assert not repo.is_committed(project.path, take.path)
    [finding] = examine(project)
    assert (finding.kind, finding.path) == ("untracked_take", rel(project, take.path))
    repaired, left = repair(project)
    assert [r.error for r in repaired] == [None] and left == []
    assert repo.is_committed(project.path, take.path)
    assert git_out(project.path, "status", "--porcelain") == ""
    assert "Git LFS fsck OK" in git_out(project.path, "lfs", "fsck")


def test_plumbing_and_git_commit_make_the_same_tree(
    project: Project, make_png: Callable[..., bytes], tmp_path: Path
) -> None:
    """The same take committed both ways (a clone commits it with git itself)."""
    take = new_take(project, make_png())
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(project.path), str(clone)], check=True)
    for path in (take.path, take.sidecar_path):
        target = clone / rel(project, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    project.commit_takes([take])
    env = {**os.environ, "GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@y"}
    subprocess.run(["git", "add", "-A"], cwd=clone, check=True)
    subprocess.run(
        ["git", "-c", "user.name=x", "-c", "user.email=x@y", "commit", "-qm", "m"],
        cwd=clone,
        env=env,
        check=True,
    )
    assert git_out(clone, "rev-parse", "HEAD^{tree}") == git_out(
        project.path, "rev-parse", "HEAD^{tree}"
    )
    assert plumbing.SCRATCH_REF not in git_out(project.path, "for-each-ref")
