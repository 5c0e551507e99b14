"""Git and Git LFS at the edge: every git process the studio starts goes through here.

We call the git CLI rather than GitPython's object API on purpose: ``IndexFile.add`` writes
blobs itself and so bypasses the LFS clean filter, which would commit raw binaries.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from filelock import FileLock

from studio.config import load_settings
from studio.errors import GitError, LFSRequired, ToolMissing

DEFAULT_AUTHOR = ("Generative Media Studio", "studio@localhost")
LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1"

_INSTALL_COMMANDS: dict[str, dict[str, str]] = {
    "git": {
        "Debian/Ubuntu": "sudo apt-get install git",
        "Fedora/RHEL": "sudo dnf install git",
        "macOS": "xcode-select --install   (or: brew install git)",
        "Windows": "winget install Git.Git",
        "conda": "conda install -c conda-forge git",
    },
    "git-lfs": {
        "Debian/Ubuntu": "sudo apt-get install git-lfs",
        "Fedora/RHEL": "sudo dnf install git-lfs",
        "macOS": "brew install git-lfs",
        "Windows": "winget install GitHub.GitLFS   (Git for Windows also bundles it)",
        "conda": "conda install -c conda-forge git-lfs",
    },
}


def _this_platform() -> str:
    system = platform.system()
    if system == "Darwin":
        return "macOS"
    if system == "Windows":
        return "Windows"
    try:
        release = Path("/etc/os-release").read_text(encoding="utf-8").lower()
    except OSError:
        release = ""
    if any(name in release for name in ("fedora", "rhel", "centos", "rocky", "alma")):
        return "Fedora/RHEL"
    return "Debian/Ubuntu"


def install_hint(tool: str) -> str:
    """How to install ``tool``: this platform's command first, then the others."""
    commands = _INSTALL_COMMANDS[tool]
    here = _this_platform()
    lines = [f"install {tool}: {commands[here]}   ({here}, this machine)"]
    lines += [f"    {name}: {command}" for name, command in commands.items() if name != here]
    if tool == "git-lfs":
        lines.append("  then run once: git lfs install")
    return "\n".join(lines)


@dataclass(frozen=True)
class ToolStatus:
    name: str
    version: str | None

    @property
    def found(self) -> bool:
        return self.version is not None


def _version_of(command: Sequence[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def probe_tools() -> tuple[ToolStatus, ToolStatus]:
    """Versions of git and git-lfs as found on PATH right now (None when missing)."""
    git = _version_of(["git", "--version"]) if shutil.which("git") else None
    lfs = _version_of(["git", "lfs", "version"]) if git else None
    return ToolStatus("git", git), ToolStatus("git-lfs", lfs)


_verified_for_path: set[str] = set()


def require_git_and_lfs() -> None:
    """Raise :class:`ToolMissing` with install instructions unless git and git-lfs work.

    Called before anything is written into a project (PRD §3.2: committing binaries without
    LFS corrupts the repository's history). A success is remembered for the current PATH."""
    search_path = os.environ.get("PATH", "")
    if search_path in _verified_for_path:
        return
    git, lfs = probe_tools()
    if not git.found:
        raise ToolMissing(
            "git",
            "git is not installed: every studio project is a git repository",
            hint=install_hint("git"),
        )
    if not lfs.found:
        raise ToolMissing(
            "git-lfs",
            "git-lfs is not installed: the studio stores renders, media and models through "
            "Git LFS and will not write into a project without it",
            hint=install_hint("git-lfs"),
        )
    _verified_for_path.add(search_path)


@functools.cache
def _author_env() -> dict[str, str]:
    settings = load_settings()
    name = settings.git_author_name or _version_of(["git", "config", "user.name"])
    email = settings.git_author_email or _version_of(["git", "config", "user.email"])
    name, email = name or DEFAULT_AUTHOR[0], email or DEFAULT_AUTHOR[1]
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def git(repo: Path, *args: str, input_text: str | None = None) -> str:
    """Run ``git args`` in ``repo``; return stdout; raise :class:`GitError` on failure."""
    env = {**os.environ, **_author_env(), "GIT_TERMINAL_PROMPT": "0"}
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=repo,
            env=env,
            input=input_text,
            capture_output=True,
            text=True,
            timeout=load_settings().git_timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise GitError(list(args), repo, f"timed out after {exc.timeout} s") from None
    if done.returncode != 0:
        raise GitError(list(args), repo, done.stderr or done.stdout)
    return done.stdout


def init_repository(repo: Path) -> None:
    """``git init`` (branch main) and ``git lfs install --local`` (the LFS filters and hooks)."""
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "lfs", "install", "--local")


def commit_lock(repo: Path) -> FileLock:
    """One committer at a time per project: concurrent takes never fight over the git index."""
    return FileLock(repo / ".git" / "studio-commit.lock")


def lfs_filter_of(repo: Path, paths: Iterable[Path]) -> dict[Path, str]:
    """The ``filter`` attribute git applies to each path (``lfs`` means it goes through LFS)."""
    rel = [str(p.relative_to(repo)) for p in paths]
    if not rel:
        return {}
    out = git(repo, "check-attr", "-z", "filter", "--stdin", input_text="\0".join(rel) + "\0")
    fields = out.split("\0")
    # -z output: path NUL attribute NUL value NUL, repeated
    return {repo / fields[i]: fields[i + 2] for i in range(0, len(fields) - 2, 3)}


def ensure_lfs_configured(repo: Path) -> None:
    """Reinstall the repo's LFS filters if they are gone (e.g. a clone made without LFS)."""
    try:
        git(repo, "config", "--get", "filter.lfs.clean")
    except GitError:
        git(repo, "lfs", "install", "--local")


def _clean_message(message: str) -> str:
    # git refuses NUL and argv cannot carry it; other control characters garble the log.
    return "".join(c if c in "\n\t" or c >= " " else " " for c in message).strip() or "studio"


INDEX_LOCK_RETRIES: Final = 5
INDEX_LOCK_WAIT_S: Final = 0.2


def commit_paths(
    repo: Path, paths: Sequence[Path], *, message: str, force_add: Sequence[Path] = ()
) -> str:
    """Commit only ``paths`` (and the ignored ``force_add`` ones, force-added), whatever else
    is staged; return the commit id. Serialized per repository by :func:`commit_lock`."""
    rel = [str(p.relative_to(repo)) for p in paths]
    forced = [str(p.relative_to(repo)) for p in force_add]
    with commit_lock(repo):
        for attempt in range(INDEX_LOCK_RETRIES + 1):
            try:
                if rel:
                    # Made known to git without reading them (the commit below reads them):
                    # one run of the LFS filter fewer than a plain add.
                    git(repo, "add", "--intent-to-add", "--", *rel)
                if forced:
                    git(repo, "add", "--force", "--", *forced)
                git(repo, "commit", "--quiet", "-m", _clean_message(message), "--", *rel, *forced)
                return git(repo, "rev-parse", "HEAD").strip()
            except GitError as exc:
                # Another git (the user's `git status`, an IDE) briefly holds the index: wait,
                # rather than throw away a finished take. Anything else is not transient.
                if "index.lock" not in exc.stderr or attempt == INDEX_LOCK_RETRIES:
                    _unstage(repo, [*rel, *forced])
                    raise
                time.sleep(INDEX_LOCK_WAIT_S * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _unstage(repo: Path, rel: list[str]) -> None:
    """After a failed commit: the index as HEAD has these paths (intent-to-add entries left
    behind would make `git stash` refuse to run), the files themselves untouched."""
    if rel:
        with contextlib.suppress(GitError):
            git(repo, "reset", "--quiet", "--", *rel)


def require_lfs_for(repo: Path, binaries: Sequence[Path]) -> None:
    """Refuse (``LFSRequired``) unless every path in ``binaries`` would be stored by LFS."""
    require_git_and_lfs()
    ensure_lfs_configured(repo)
    filters = lfs_filter_of(repo, binaries)
    outside = [p for p in binaries if filters.get(p) != "lfs"]
    if outside:
        names = ", ".join(p.name for p in outside)
        raise LFSRequired(
            f"refusing to commit {names}: not routed through Git LFS by .gitattributes, so the "
            "binary would go into git history itself",
            hint="add a rule such as '*.EXT filter=lfs diff=lfs merge=lfs -text' to the "
            "project's .gitattributes, commit it, and try again",
        )


def lfs_files(repo: Path) -> list[str]:
    """Paths that HEAD stores as LFS pointers (``git lfs ls-files --name-only``)."""
    return git(repo, "lfs", "ls-files", "--name-only").splitlines()
