"""A project made before the studio's .gitignore rules existed gets them when it is opened:
added once, atomically, in one commit of their own; a project that has them is not touched."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from studio import Project
from studio.project.layout import template
from studio.project.migrate import STUDIO_IGNORE_RULES, with_studio_ignore_rules
from tests.conftest import git_out

OLD_GITIGNORE = "05_Cache/\n06_Exports/\n*.DS_Store\n.ipynb_checkpoints/\n.*.tmp\n"
"""The scaffold's .gitignore before the lock-file rule (comments left out)."""


def old_project(project: Project, text: str = OLD_GITIGNORE) -> Path:
    """``project`` as an older studio left it: its committed .gitignore lacks rules."""
    (project.path / ".gitignore").write_text(text)
    git_out(project.path, "commit", "--quiet", "-am", "an older studio's .gitignore")
    return project.path


def commits(root: Path) -> list[str]:
    return git_out(root, "log", "--format=%s").splitlines()


def test_the_template_has_every_rule():
    lines = template("gitignore").splitlines()
    assert all(rule in lines for rule in STUDIO_IGNORE_RULES)


def test_missing_rules_are_appended_with_their_comment():
    updated, added = with_studio_ignore_rules("05_Cache/", template_text=template("gitignore"))
    assert added == [".*.tmp", ".*.lock", ".ipynb_checkpoints/"]
    assert updated.startswith("05_Cache/\n# In-flight temp files")
    assert "# Lock files of the studio's writes" in updated and updated.endswith("\n")
    again, none = with_studio_ignore_rules(updated, template_text=template("gitignore"))
    assert (again, none) == (updated, [])


def test_opening_an_old_project_adds_the_rules_in_one_commit(project: Project):
    root = old_project(project)
    (root / "02_Source_Creative" / "Canvases" / ".main_canvas.json.lock").touch()
    assert ".main_canvas.json.lock" in git_out(root, "status", "--porcelain")

    Project(root)

    assert commits(root)[0] == "Ignore the studio's own files: add .*.lock to .gitignore"
    assert ".*.lock" in (root / ".gitignore").read_text().splitlines()
    assert git_out(root, "status", "--porcelain") == ""  # the lock file is ignored now
    assert not list(root.glob(".*.tmp"))  # written by temp + rename
    before = commits(root)
    Project(root)  # idempotent: nothing more to do, nothing committed
    assert commits(root) == before


def test_the_users_uncommitted_edits_are_not_committed_for_them(project: Project):
    root = old_project(project)
    (root / ".gitignore").write_text(OLD_GITIGNORE + "my_notes/\n")
    before = commits(root)
    Project(root)
    text = (root / ".gitignore").read_text()
    assert "my_notes/" in text and ".*.lock" in text.splitlines()
    assert commits(root) == before  # theirs to commit, the rules with their edits


def test_a_deleted_gitignore_is_the_users_edit_and_is_left_alone(project: Project):
    root = old_project(project)
    (root / ".gitignore").unlink()  # the user's deletion, not committed
    before = commits(root)
    Project(root)
    assert not (root / ".gitignore").exists()
    assert commits(root) == before  # HEAD keeps the whole .gitignore
    assert git_out(root, "show", "HEAD:.gitignore") == OLD_GITIGNORE


def test_a_read_only_project_still_opens(
    project: Project, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    root = old_project(project)

    def refuse(path: Path, data: bytes) -> None:
        raise PermissionError(f"[Errno 13] Permission denied: {path}")

    monkeypatch.setattr("studio.project.migrate.atomic_write_bytes", refuse)
    with caplog.at_level(logging.WARNING):
        assert Project(root).title == project.title
    assert "could not update its .gitignore" in caplog.text
    assert (root / ".gitignore").read_text() == OLD_GITIGNORE
