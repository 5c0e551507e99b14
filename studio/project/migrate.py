"""Bringing a project made by an older studio up to date when it is opened
(:class:`studio.project.project.Project` calls :func:`upgrade_gitignore`).

Today one thing: the ``.gitignore`` rules for the files the studio itself writes into a
project and that must never be committed (a project made before a rule existed lacks it, so
``git status`` lists the studio's lock files). The migration is idempotent (a project that
has the rules costs one file read), safe when two processes open the project at once (under a
lock, the file is read again), atomic (temp + rename) and committed once, alone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from filelock import FileLock

from studio.atomic import atomic_write_bytes
from studio.project import repo
from studio.project.layout import template

_log = logging.getLogger(__name__)

GITIGNORE: Final = ".gitignore"
STUDIO_IGNORE_RULES: Final[tuple[str, ...]] = (".*.tmp", ".*.lock", ".ipynb_checkpoints/")
"""Rules of the scaffolded ``.gitignore`` a project must keep: the studio's in-flight temp
files, its lock files and JupyterLab's notebook checkpoints. A project lacking one gets it
back (with its comment from the template) when it is opened. The PRD's own rules
(``05_Cache/``, ``06_Exports/``) are the user's to change and are left as they are."""


def with_studio_ignore_rules(current: str, *, template_text: str) -> tuple[str, list[str]]:
    """Pure: ``current`` (a project's ``.gitignore``) with the missing
    :data:`STUDIO_IGNORE_RULES` appended, each after its comment line in ``template_text``;
    and the rules added (none: ``current`` is returned as it is)."""
    present = {line.strip() for line in current.splitlines()}
    missing = [rule for rule in STUDIO_IGNORE_RULES if rule not in present]
    if not missing:
        return current, []
    lines = template_text.splitlines()
    block: list[str] = []
    for rule in missing:
        at = lines.index(rule) if rule in lines else -1
        comment = lines[at - 1] if at > 0 and lines[at - 1].startswith("#") else None
        block += [comment, rule] if comment is not None else [rule]
    head = current if not current or current.endswith("\n") else current + "\n"
    return head + "\n".join(block) + "\n", missing


def upgrade_gitignore(root: Path) -> str | None:
    """Add the missing :data:`STUDIO_IGNORE_RULES` to the project's ``.gitignore`` and commit
    that change; the commit id, or None when there was nothing to do. A ``.gitignore`` with
    uncommitted edits of the user's gets the rules but no commit (the user's edits are theirs
    to commit, with the rules)."""
    path = root / GITIGNORE
    if not with_studio_ignore_rules(_read(path), template_text="")[1]:
        return None  # the common case: no lock, no git
    if not (root / ".git").is_dir():
        return None  # not a repository (a bare copy): nothing to keep clean
    with FileLock(root / ".git" / "studio-migrate.lock"):
        current = _read(path)  # again: another process may have done it meanwhile
        updated, added = with_studio_ignore_rules(current, template_text=template("gitignore"))
        if not added:
            return None
        # git status names a deleted tracked file too: that deletion is the user's edit.
        edited = bool(repo.changed_paths(root, [path]))
        if edited and not path.exists():
            _log.warning("%s: its %s is deleted (not committed): left alone", root, GITIGNORE)
            return None
        atomic_write_bytes(path, updated.encode())
        if edited:
            _log.warning("%s: added %s to the edited, uncommitted %s", root, added, GITIGNORE)
            return None
        return repo.commit_paths(
            root,
            [path],
            message=f"Ignore the studio's own files: add {', '.join(added)} to {GITIGNORE}",
        )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
