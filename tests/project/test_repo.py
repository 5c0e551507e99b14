"""Git edges of a project (real git)."""

from __future__ import annotations

import threading

import pytest

from studio import Project
from studio.errors import GitError
from studio.project import repo


def test_a_commit_waits_for_another_gits_index_lock(project: Project):
    """A user's `git status` (or an IDE) holding .git/index.lock for a moment must not lose
    a finished take: the commit waits and goes through."""
    readme = project.path / "notes.txt"
    readme.write_text("hello\n")
    lock = project.path / ".git/index.lock"
    lock.write_text("")
    release = threading.Timer(0.4, lock.unlink)
    release.start()
    try:
        commit = repo.commit_paths(project.path, [readme], message="notes")
    finally:
        release.cancel()
    assert repo.git(project.path, "log", "-1", "--format=%H").strip() == commit


def test_a_lock_that_stays_fails_with_gits_message(project: Project, monkeypatch):
    monkeypatch.setattr(repo, "INDEX_LOCK_WAIT_S", 0.01)
    (project.path / "notes.txt").write_text("hello\n")
    (project.path / ".git/index.lock").write_text("")
    with pytest.raises(GitError, match=r"index\.lock"):
        repo.commit_paths(project.path, [project.path / "notes.txt"], message="notes")
