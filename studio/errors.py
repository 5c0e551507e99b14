"""The studio's error vocabulary: every failure a user can act on has a class and a hint."""

from __future__ import annotations

from pathlib import Path


class StudioError(Exception):
    """Base class. ``hint`` tells the user what to do next."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


def said(exc: BaseException) -> str:
    """What an error says in one line: a studio error's message (its hint is for a person
    at a prompt), any other error's type and text."""
    return exc.message if isinstance(exc, StudioError) else f"{type(exc).__name__}: {exc}"


class ManifestError(StudioError):
    """A JSON document of the studio (project.json, workspace.json, a sidecar) is unreadable."""

    def __init__(
        self, path: Path, message: str, *, field: str | None = None, hint: str | None = None
    ) -> None:
        where = f"{path}" + (f", field '{field}'" if field else "")
        super().__init__(
            f"{where}: {message}",
            hint=hint or "fix the file by hand (it is plain JSON) or restore it with git",
        )
        self.path = path
        self.field = field


class VersionConflict(StudioError):
    """An optimistic-lock save lost: someone else saved first. Nothing was written."""

    def __init__(self, path: Path, *, expected: int, current: int) -> None:
        super().__init__(
            f"{path} is at version {current}, not {expected}: it changed since you loaded it",
            hint="reload, re-apply your change and save again",
        )
        self.path = path
        self.expected = expected
        self.current = current


class ToolMissing(StudioError):
    """A required command-line tool (git, git-lfs) is not installed."""

    def __init__(self, tool: str, message: str, *, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.tool = tool


class GitError(StudioError):
    """A git command failed; carries its stderr."""

    def __init__(self, args: list[str], cwd: Path, stderr: str) -> None:
        super().__init__(f"git {' '.join(args)} failed in {cwd}: {stderr.strip()}")
        self.args_ = args
        self.cwd = cwd
        self.stderr = stderr


class LFSRequired(StudioError):
    """Refusal to commit a binary that would not go through Git LFS."""


class ProjectNotFound(StudioError):
    pass


class InvalidInput(StudioError):
    """A value given by the user (title, scene number, extension, ...) is not acceptable."""


class TakeError(StudioError):
    """A take cannot be written or used as asked (already written, still empty, ...)."""


class SequenceError(StudioError):
    """The Assembler's inputs do not make a sequence (or an EDL does not read as one).
    ``node_id`` names the node to fix (the message says what to do); None when it is not one
    node's problem."""

    def __init__(self, message: str, *, node_id: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.node_id = node_id
