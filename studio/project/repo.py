"""Git and Git LFS at the edge: every git process the studio starts goes through here.

We call the git CLI rather than GitPython's object API on purpose: ``IndexFile.add`` writes
blobs itself and so bypasses the LFS clean filter, which would commit raw binaries.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from filelock import FileLock

from studio.config import load_settings
from studio.errors import GitError, LFSRequired, ToolMissing
from studio.project import lfs, plumbing

_log = logging.getLogger(__name__)
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


def _git_env() -> dict[str, str]:
    return {**os.environ, **_author_env(), "GIT_TERMINAL_PROMPT": "0"}


def git(repo: Path, *args: str, input_text: str | None = None) -> str:
    """Run ``git args`` in ``repo``; return stdout; raise :class:`GitError` on failure."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=repo,
            env=_git_env(),
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


def git_bytes(repo: Path, *args: str, stdin: bytes = b"", timeout_s: float) -> bytes:
    """:func:`git` with bytes in and out (object contents, NUL-separated paths)."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=repo,
            env=_git_env(),
            input=stdin,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise GitError(list(args), repo, f"timed out after {exc.timeout} s") from None
    if done.returncode != 0:
        raise GitError(list(args), repo, (done.stderr or done.stdout).decode(errors="replace"))
    return done.stdout


def init_repository(repo: Path) -> None:
    """``git init`` (branch main) and ``git lfs install --local`` (the LFS filters and hooks)."""
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "lfs", "install", "--local")


def commit_lock(repo: Path) -> FileLock:
    """One committer at a time per project: concurrent takes never fight over the git index."""
    return FileLock(repo / ".git" / "studio-commit.lock")


ATTRIBUTE_ENV: Final = ("GIT_ATTR_NOSYSTEM", "GIT_ATTR_SOURCE", "GIT_DIR", "GIT_WORK_TREE")
"""Variables that change which attributes git reads."""
CACHED_ATTRIBUTES: Final = 1024
_attribute_answers: dict[tuple[object, ...], dict[str, str]] = {}
_attribute_patterns: dict[Path, tuple[object, tuple[str, ...] | None]] = {}


def path_attributes(repo: Path, paths: Iterable[Path]) -> dict[Path, dict[str, str]]:
    """What git's attributes say of each path (:data:`plumbing.ATTRIBUTES`): ``unspecified``,
    ``unset``, ``set`` or a value. Asked of ``git check-attr`` (one run for every path not
    known), remembered by what decides the answer: the attributes files that apply to the
    path as they are now (identity, size, mtime), which of their lines match its name, and
    git's configuration; where a file has a pattern only git can match, git is asked."""
    rel = [p.relative_to(repo).as_posix() for p in paths]
    if not rel:
        return {}
    # Only a plain repository (its .git a folder: not a worktree's or a submodule's gitfile)
    # has its attributes files where _attribute_files looks.
    cacheable = (repo / ".git").is_dir()
    context = (repo, _config_stamp(repo), *(os.environ.get(v) for v in ATTRIBUTE_ENV))
    files: dict[str, list[Path]] = {}
    keys: dict[str, tuple[object, ...] | None] = {}
    for r in rel:
        folder, _, name = r.rpartition("/")
        if folder not in files:
            files[folder] = _attribute_files(repo, folder)
        keys[r] = _attribute_key(context, folder, name, files[folder]) if cacheable else None
    answers: dict[str, dict[str, str]] = {}
    for r, k in keys.items():  # one read each: another thread may clear the cache meanwhile
        if k is not None and (known := _attribute_answers.get(k)) is not None:
            answers[r] = known
    unknown = [r for r in rel if r not in answers]
    if unknown:
        out = git(
            repo, "check-attr", "-z", *plumbing.ATTRIBUTES, "--stdin",
            input_text="\0".join(unknown) + "\0",
        )  # fmt: skip
        found = plumbing.parse_check_attr(out)
        if len(_attribute_answers) > CACHED_ATTRIBUTES:
            _attribute_answers.clear()
        for r in unknown:
            answers[r] = found.get(r, {})
            if (key := keys[r]) is not None:
                _attribute_answers[key] = answers[r]
    return {repo / r: dict(answers[r]) for r in rel}


@functools.cache
def _git_prefix(search_path: str) -> Path:
    """Where the git on ``search_path`` is installed (its system files are under it)."""
    found = shutil.which("git", path=search_path) or "/usr/bin/git"
    return Path(found).resolve().parent.parent


def _attribute_files(repo: Path, folder: str) -> list[Path]:
    """The attributes files git reads for a path in ``folder``: system, global, each
    ``.gitattributes`` from the top down, the repository's ``info/attributes``."""
    configured = repo_config(repo).get("core.attributesfile")
    home = Path(os.environ.get("HOME", "~")).expanduser()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    prefix = _git_prefix(os.environ.get("PATH", ""))
    files = [Path("/etc/gitattributes"), prefix / "etc" / "gitattributes"]
    files.append(Path(configured).expanduser() if configured else xdg / "git" / "attributes")
    parts = [part for part in folder.split("/") if part]
    files += [repo.joinpath(*parts[:depth], ".gitattributes") for depth in range(len(parts) + 1)]
    files.append(repo / ".git" / "info" / "attributes")
    return files


def _file_stamp(path: Path) -> object:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _patterns_of(path: Path, stamp: object) -> tuple[str, ...] | None:
    cached = _attribute_patterns.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    if stamp is None:
        patterns: tuple[str, ...] | None = ()
    else:
        try:
            patterns = plumbing.attribute_patterns(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            patterns = None
    if len(_attribute_patterns) > CACHED_ATTRIBUTES:
        _attribute_patterns.clear()
    _attribute_patterns[path] = (stamp, patterns)
    return patterns


def _attribute_key(
    context: tuple[object, ...], folder: str, name: str, files: list[Path]
) -> tuple[object, ...] | None:
    """What decides the attributes of ``folder/name`` (``files``: the attributes files read
    for it; ``context``: the repository, git's configuration, the variables), or None when
    only git can tell. (git reads a ``.gitattributes`` missing from the working tree from the
    index: one changed only there, never in the working tree, is not noticed until a file
    here or git's configuration changes.)"""
    if not name.isascii():
        return None  # git folds only ASCII case: matching_patterns would not be exact
    key: list[object] = [*context, folder]
    for path in files:
        stamp = _file_stamp(path)
        patterns = _patterns_of(path, stamp)
        if patterns is None:
            return None
        key.append((stamp, plumbing.matching_patterns(name, patterns)))
    return tuple(key)


def lfs_filter_of(repo: Path, paths: Iterable[Path]) -> dict[Path, str]:
    """The ``filter`` attribute git applies to each path (``lfs`` means it goes through LFS)."""
    return {p: a.get("filter", "unspecified") for p, a in path_attributes(repo, paths).items()}


def ensure_lfs_configured(repo: Path) -> None:
    """Reinstall the repo's LFS filters if they are gone (e.g. a clone made without LFS)."""
    try:
        git(repo, "config", "--get", "filter.lfs.clean")
    except GitError:
        git(repo, "lfs", "install", "--local")


_CONFIG_ENV: Final = (
    "HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM",
    "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
)  # fmt: skip
_configs: dict[Path, tuple[tuple[object, ...], dict[str, str]]] = {}


def _config_files(repo: Path) -> list[Path]:
    """The files ``git config`` reads for ``repo`` (system, global, XDG, local)."""
    home = Path(os.environ.get("HOME", "~")).expanduser()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [
        Path(os.environ.get("GIT_CONFIG_SYSTEM", "/etc/gitconfig")),
        Path(os.environ.get("GIT_CONFIG_GLOBAL", home / ".gitconfig")),
        xdg / "git" / "config",
        repo / ".git" / "config",
    ]


def _config_stamp(repo: Path) -> tuple[object, ...]:
    stamp: list[object] = [os.environ.get(name) for name in _CONFIG_ENV]
    for path in _config_files(repo):
        try:
            st = path.stat()
        except OSError:
            stamp.append(None)
        else:
            stamp.append((st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(stamp)


def repo_config(repo: Path) -> dict[str, str]:
    """The configuration the commit depends on (:data:`plumbing.CONFIG_PATTERN`), read again
    only when one of git's configuration files (or the variables naming them) changed."""
    stamp = _config_stamp(repo)
    cached = _configs.get(repo)
    if cached is not None and cached[0] == stamp:
        return dict(cached[1])
    try:
        out = git(repo, "config", "-z", "--get-regexp", plumbing.CONFIG_PATTERN)
    except GitError as exc:
        if exc.stderr.strip():
            raise
        out = ""  # nothing matched
    config = plumbing.parse_config(out)
    _configs[repo] = (stamp, config)
    return dict(config)


def head_commit(repo: Path) -> str | None:
    """The commit HEAD names, read from the ref files (no process); None when there is none
    yet. Where the files do not say for sure (a git dir that is not ``.git/`` itself, another
    ref backend, a ref that is itself symbolic or unreadable), git is asked. The commit's ref
    update checks this value, so a stale read can only be refused."""
    found = _head_from_files(repo / ".git")
    if found is not None:
        return found
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip()
    except GitError:
        return None  # no commit yet


def _head_from_files(git_dir: Path) -> str | None:
    """HEAD's commit id as the files backend stores it, or None when unsure."""
    if not git_dir.is_dir() or (git_dir / "commondir").exists() or (git_dir / "reftable").exists():
        return None  # a worktree's refs live elsewhere; reftable keeps them in its tables
    try:
        target = plumbing.head_target((git_dir / "HEAD").read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError):
        return None
    if target is None:
        return None
    kind, name = target
    if kind == "commit":
        return name
    try:
        # A loose ref wins over packed-refs (git writes the pack before deleting loose ones).
        return plumbing.object_id((git_dir / name).read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError):
        return None
    try:
        packed = (git_dir / "packed-refs").read_text(encoding="ascii")
    except FileNotFoundError:
        return None  # no such branch yet (or only git knows): git says
    except (OSError, UnicodeDecodeError):
        return None
    return plumbing.packed_ref(packed, name)


def _clean_message(message: str) -> str:
    # git refuses NUL and argv cannot carry it; other control characters garble the log.
    return "".join(c if c in "\n\t" or c >= " " else " " for c in message).strip() or "studio"


INDEX_LOCK_RETRIES: Final = 5
INDEX_LOCK_WAIT_S: Final = 0.2
GC_AUTO_DEFAULT: Final = 6700
"""git's ``gc.auto``: loose objects past which ``git gc --auto`` packs them."""


def commit_paths(
    repo: Path,
    paths: Sequence[Path],
    *,
    message: str,
    force_add: Sequence[Path] = (),
    lfs_required: Sequence[Path] = (),
) -> str:
    """Commit only ``paths`` (and the ignored ``force_add`` ones, force-added), whatever else
    is staged; return the commit id. Serialized per repository by :func:`commit_lock`.

    ``lfs_required``: files that must go through Git LFS (``LFSRequired`` otherwise, before
    anything is written). Files git stores as they are or through LFS are committed with
    plumbing and no git-lfs process (:mod:`studio.project.plumbing`); anything else, and an
    ignored file, by ``git add`` + ``git commit``. Both make the same commit."""
    if lfs_required:
        require_git_and_lfs()
    every = list(dict.fromkeys([*paths, *lfs_required]))
    attributes = path_attributes(repo, every)
    _refuse_outside_lfs(lfs_required, attributes)
    plan = _prepare(repo, paths, attributes) if not force_add else "files are force-added"
    rel = [p.relative_to(repo).as_posix() for p in paths]
    forced = [p.relative_to(repo).as_posix() for p in force_add]
    with commit_lock(repo):
        for attempt in range(INDEX_LOCK_RETRIES + 1):
            try:
                if isinstance(plan, _Plan):
                    commit = _commit_by_plumbing(repo, plan, message=message)
                    if commit is not None:
                        _pack_when_due(repo, plan.config)
                        return commit
                    plan = "a file holds a carriage return"
                _log.debug("commit in %s by git commit: %s", repo, plan)
                return _commit_by_porcelain(repo, rel, forced, message=message)
            except GitError as exc:
                # Another git (the user's `git status`, an IDE, a commit) briefly holds the
                # index or HEAD, or moved HEAD: wait and build again, rather than throw away a
                # finished take. Anything else is not transient.
                if not _transient(exc.stderr) or attempt == INDEX_LOCK_RETRIES:
                    _unstage(repo, [*rel, *forced])
                    raise
                time.sleep(INDEX_LOCK_WAIT_S * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _transient(stderr: str) -> bool:
    return "index.lock" in stderr or ".lock'" in stderr or "but expected" in stderr


def _refuse_outside_lfs(binaries: Sequence[Path], attributes: dict[Path, dict[str, str]]) -> None:
    outside = [p for p in binaries if attributes.get(p, {}).get("filter") != "lfs"]
    if outside:
        names = ", ".join(p.name for p in outside)
        raise LFSRequired(
            f"refusing to commit {names}: not routed through Git LFS by .gitattributes, so the "
            "binary would go into git history itself",
            hint="add a rule such as '*.EXT filter=lfs diff=lfs merge=lfs -text' to the "
            "project's .gitattributes, commit it, and try again",
        )


def _commit_by_porcelain(repo: Path, rel: list[str], forced: list[str], *, message: str) -> str:
    if rel:
        # Made known to git without reading them (the commit below reads them): one run of
        # the LFS filter fewer than a plain add.
        git(repo, "add", "--intent-to-add", "--", *rel)
    if forced:
        git(repo, "add", "--force", "--", *forced)
    git(repo, "commit", "--quiet", "-m", _clean_message(message), "--", *rel, *forced)
    return git(repo, "rev-parse", "HEAD").strip()


# --- the plumbing road (studio.project.plumbing says why it is safe) --------------------------


@dataclass(frozen=True)
class _Cleaned:
    """A file whose LFS object is stored, with what it looked like when it was read."""

    path: Path
    pointer: lfs.Pointer
    seen: tuple[int, int]


@dataclass(frozen=True)
class _Plan:
    cleaned: list[_Cleaned]
    plain: list[Path]
    config: dict[str, str]
    who: plumbing.Identity


def _seen(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _clean(repo: Path, path: Path) -> _Cleaned:
    seen = _seen(path)
    return _Cleaned(path, lfs.store_object(lfs_dir=repo / ".git" / "lfs", source=path), seen)


def _prepare(
    repo: Path, paths: Sequence[Path], attributes: dict[Path, dict[str, str]]
) -> _Plan | str:
    """The plumbing plan for ``paths``, their LFS objects already stored (outside the commit
    lock: content-addressed and atomic, so concurrent takes may do it at once); or why the
    porcelain must commit them."""
    routes = {p: plumbing.route(attributes.get(p, {})) for p in paths}
    config = repo_config(repo)
    if "lfs" in routes.values() and "filter.lfs.clean" not in config:
        git(repo, "lfs", "install", "--local")  # a clone made without LFS: filters first
        config = repo_config(repo)
    git_dir = repo / ".git"
    if not git_dir.is_dir():
        return "the repository's git dir is not .git"
    if any((git_dir / name).exists() for name in plumbing.IN_PROGRESS):
        return "a merge, cherry-pick or revert is in progress"
    reason = plumbing.refusal(config) or _hook_refusal(git_dir / "hooks")
    if reason:
        return reason
    env = _author_env()
    who = plumbing.identity(env["GIT_AUTHOR_NAME"], env["GIT_AUTHOR_EMAIL"])
    if who is None:
        return "the author name or email holds < > or a line break"
    for path, way in routes.items():
        rel = path.relative_to(repo).as_posix()
        if not path.is_file() or path.is_symlink():
            return f"{rel} is not a regular file"
        if way is None:
            return f"{rel} has attributes only git applies"
        if way == "lfs" and lfs.looks_like_pointer(path):
            return f"{rel} is already an LFS pointer"
    cleaned = [_clean(repo, p) for p, way in routes.items() if way == "lfs"]
    plain = [p for p, way in routes.items() if way == "plain"]
    return _Plan(cleaned, plain, config, who)


def _hook_refusal(hooks: Path) -> str | None:
    for name in plumbing.COMMIT_HOOKS:
        hook = hooks / name
        if not (hook.is_file() and os.access(hook, os.X_OK)):
            continue
        if name == "post-commit" and plumbing.is_lfs_post_commit_hook(
            hook.read_text(errors="replace")
        ):
            continue
        return f"a {name} hook is installed"
    return None


def _commit_by_plumbing(repo: Path, plan: _Plan, *, message: str) -> str | None:
    """Commit the plan (under the commit lock); None when a file turned out to need the
    porcelain. Objects, then the index, then HEAD: see :mod:`studio.project.plumbing`."""
    filemode = plan.config.get("core.filemode", "true").lower() in ("true", "yes", "on", "1")
    entries: list[plumbing.Entry] = []
    for item in plan.cleaned:
        if _seen(item.path) != item.seen:  # rewritten since it was read: read it again
            item = _clean(repo, item.path)
        entries.append(_entry(repo, item.path, item.pointer.text(), filemode=filemode))
    for path in plan.plain:
        data = path.read_bytes()
        if b"\r" in data:  # git's text conversion could change it: let git read it
            return None
        entries.append(_entry(repo, path, data, filemode=filemode))
    timeout_s = load_settings().git_timeout_s
    parent = head_commit(repo)
    if parent is None:
        return None  # no commit yet: the first one is git commit's
    built = _objects_in_process(repo, entries, parent=parent, plan=plan, message=message)
    if built is None:
        stream = plumbing.fast_import_stream(
            entries=entries, parent=parent, who=plan.who, message=plumbing.clean_message(message)
        )
        skip = plumbing.skip_pack_fsync(entries, plan.config)
        unsynced = ("-c", "core.fsync=none") if skip else ()
        marks = git_bytes(
            repo, *unsynced, "fast-import", "--quiet", "--force", "--date-format=now",
            stdin=stream, timeout_s=timeout_s,
        )  # fmt: skip
        commit, blobs = plumbing.parse_marks(marks, entries=len(entries))
    else:
        commit, blobs = built
    git_bytes(
        repo, "update-index", "-z", "--add", "--index-info",
        stdin=plumbing.index_info(entries, blobs), timeout_s=timeout_s,
    )  # fmt: skip
    subject = plumbing.clean_message(message).partition("\n")[0]
    reflog = f"commit: {subject}"
    if not _move_head(repo, new=commit, old=parent, reflog=reflog, plan=plan):
        git_bytes(
            repo, "update-ref", "-m", reflog, "--stdin",
            stdin=plumbing.ref_transaction(new=commit, old=parent, scratch=built is None),
            timeout_s=timeout_s,
        )  # fmt: skip
    return commit


def _objects_in_process(
    repo: Path, entries: Sequence[plumbing.Entry], *, parent: str, plan: _Plan, message: str
) -> tuple[str, list[str]] | None:
    """What ``git fast-import`` makes of :func:`plumbing.fast_import_stream`'s input (the
    blobs, the trees of the folders they are in, the commit; also git's unpacking of its
    small pack into loose objects: two processes), written here as the same loose objects;
    returns the commit's id and the blobs' ids. None, nothing written, when fast-import must
    do it: git would write objects otherwise (:func:`plumbing.refs_refusal`), or a tree on
    the way is not a loose object here (packed by ``git gc``: fast-import reads packs)."""
    git_dir = repo / ".git"
    if plumbing.refs_refusal(plan.config, os.environ) is not None:
        return None
    if any(os.environ.get(name) for name in _OBJECT_ENV) or (git_dir / "refs/replace").exists():
        return None
    raw: list[bytes] = [plumbing.object_bytes(b"blob", entry.blob) for entry in entries]
    blobs = [plumbing.object_name(item) for item in raw]
    found = _read_loose(git_dir, parent)
    root = plumbing.commit_tree(found[1]) if found and found[0] == b"commit" else None
    if root is None:
        return None
    folders = plumbing.changed_folders(entries)
    trees: dict[str, list[plumbing.TreeItem]] = {}
    for folder in reversed(folders):  # from the root down: each folder's old tree, if any
        fits, oid = (True, root) if folder == "" else _subtree(trees, folder)
        if not fits:
            return None  # a file where the folder goes: fast-import says what it does
        items = [] if oid is None else _read_tree(git_dir, oid)
        if items is None:
            return None
        trees[folder] = items
    for entry, blob in zip(entries, blobs, strict=True):
        folder, _, name = entry.path.rpartition("/")
        if not _put(trees[folder], plumbing.TreeItem(entry.mode.encode(), name.encode(), blob)):
            return None
    for folder in folders:  # from the deepest up: each new tree, then the one naming it
        payload = plumbing.tree_payload(trees[folder])
        raw.append(plumbing.object_bytes(b"tree", payload))
        oid = plumbing.object_name(raw[-1])
        if folder:
            up, _, name = folder.rpartition("/")
            _put(trees[up], plumbing.TreeItem(plumbing.TREE_MODE, name.encode(), oid), tree=True)
        else:
            root = oid
    now = time.time()
    commit = plumbing.commit_payload(
        tree=root, parent=parent, who=plan.who, when=int(now),
        utc_offset_s=time.localtime(now).tm_gmtoff, message=plumbing.clean_message(message),
    )  # fmt: skip
    raw.append(plumbing.object_bytes(b"commit", commit))
    ids = [_write_loose(git_dir, item) for item in raw]
    return ids[-1], blobs


_OBJECT_ENV: Final = ("GIT_OBJECT_DIRECTORY", "GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE")
"""Variables that move what git reads or writes away from ``<repo>/.git``."""


def _subtree(trees: dict[str, list[plumbing.TreeItem]], folder: str) -> tuple[bool, str | None]:
    """``(True, id)`` of ``folder``'s tree in its parent's (already read), ``(True, None)``
    when it has none yet, ``(False, None)`` when the parent names something else so."""
    up, _, name = folder.rpartition("/")
    for item in trees[up]:
        if item.name == name.encode():
            return (True, item.oid) if item.mode == plumbing.TREE_MODE else (False, None)
    return True, None


def _put(items: list[plumbing.TreeItem], new: plumbing.TreeItem, *, tree: bool = False) -> bool:
    """Put ``new`` into a tree's items in place of the entry of that name; False (unchanged)
    when a file would replace a folder."""
    for at, item in enumerate(items):
        if item.name == new.name:
            if (item.mode == plumbing.TREE_MODE) != tree:
                return False
            items[at] = new
            return True
    items.append(new)
    return True


def _loose_path(git_dir: Path, oid: str) -> Path:
    return git_dir / "objects" / oid[:2] / oid[2:]


def _read_loose(git_dir: Path, oid: str) -> tuple[bytes, bytes] | None:
    """(kind, payload) of a loose object, or None when it is not one here (or is damaged)."""
    try:
        raw = zlib.decompress(_loose_path(git_dir, oid).read_bytes())
    except (OSError, zlib.error):
        return None
    if plumbing.object_name(raw) != oid:
        return None
    return plumbing.split_object(raw)


def _read_tree(git_dir: Path, oid: str) -> list[plumbing.TreeItem] | None:
    found = _read_loose(git_dir, oid)
    return plumbing.parse_tree(found[1]) if found and found[0] == b"tree" else None


def _write_loose(git_dir: Path, raw: bytes) -> str:
    """Write a loose object as git does (compressed, read-only, through a temporary file in
    its folder linked into place; not synced, as git's default ``core.fsync`` leaves loose
    objects; one already there is kept); returns its id."""
    oid = plumbing.object_name(raw)
    target = _loose_path(git_dir, oid)
    if target.exists():
        return oid
    target.parent.mkdir(exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix="tmp_obj_")
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(zlib.compress(raw, 1))  # core.looseCompression's default: best speed
        temp.chmod(0o444)
        with contextlib.suppress(FileExistsError):  # another writer's copy: the same bytes
            os.link(temp, target)
    finally:
        temp.unlink()
    return oid


def _move_head(repo: Path, *, new: str, old: str, reflog: str, plan: _Plan) -> bool:
    """What ``git update-ref`` does with :func:`plumbing.ref_transaction`'s input, in this
    process (one git process fewer a take), when the refs are plain files git would write
    the same way (:func:`plumbing.refs_refusal`): HEAD and its branch locked (``.lock``
    files made exclusively, as git does), the branch checked to still be at ``old``, the
    reflog lines of both appended, the branch's lock renamed into place; then the scratch
    ref deleted. False (nothing done) when git must do it; a held lock or a moved HEAD
    raises :class:`GitError` as git's own would (the commit is built again)."""
    git_dir = repo / ".git"
    if plumbing.refs_refusal(plan.config, os.environ) is not None:
        return False
    if _head_from_files(git_dir) is None:  # not the files backend's plain layout
        return False
    try:
        target = plumbing.head_target((git_dir / "HEAD").read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError):
        return False
    if target is None or target[0] != "ref" or not target[1].startswith("refs/heads/"):
        return False  # detached, or a symbolic ref git resolves further
    branch = target[1]
    if (git_dir / branch).is_symlink():
        return False
    (git_dir / branch).parent.mkdir(parents=True, exist_ok=True)  # a branch only packed
    with _ref_locks(repo, git_dir / "HEAD", git_dir / branch) as (_, branch_lock):
        if (found := _head_from_files(git_dir)) != old or (
            plumbing.head_target((git_dir / "HEAD").read_text(encoding="ascii")) != target
        ):
            raise GitError(["update-ref"], repo,
                           f"cannot lock ref 'HEAD': is at {found} but expected {old}")  # fmt: skip
        os.write(branch_lock, f"{new}\n".encode())
        now = time.time()
        entry = plumbing.reflog_entry(
            old=old, new=new, who=plan.who, when=int(now),
            utc_offset_s=time.localtime(now).tm_gmtoff, message=reflog,
        )  # fmt: skip
        for log in (git_dir / "logs" / branch, git_dir / "logs" / "HEAD"):
            _append(log, entry)
        _lock_path(git_dir / branch).replace(git_dir / branch)
    # Committed: nothing may fail the commit now (a scratch ref left is overwritten next time).
    with contextlib.suppress(GitError, OSError):
        _drop_scratch_ref(repo)
    return True


def _lock_path(ref: Path) -> Path:
    return ref.with_name(ref.name + ".lock")


@contextlib.contextmanager
def _ref_locks(repo: Path, *refs: Path) -> Iterator[list[int]]:
    """Git's ref locks (``<ref>.lock`` made with ``O_EXCL``), held for the block: yields their
    open descriptors; a lock the block did not rename into place is removed afterwards."""
    fds: list[int] = []
    try:
        for ref in refs:
            lock = _lock_path(ref)
            try:
                fds.append(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except FileExistsError:  # git's words: commit_paths retries on them
                held = f"fatal: Unable to create '{lock}': File exists."
                raise GitError(["update-ref"], repo, held) from None
        yield fds
    finally:
        for fd in fds:
            os.close(fd)
        for ref in refs[: len(fds)]:
            _lock_path(ref).unlink(missing_ok=True)


def _append(log: Path, entry: bytes) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, entry)
    finally:
        os.close(fd)


def _drop_scratch_ref(repo: Path) -> None:
    """Delete :data:`plumbing.SCRATCH_REF` (fast-import wrote it loose, and it has no
    reflog: :func:`plumbing.refs_refusal`); by git when it may also be packed."""
    git_dir = repo / ".git"
    scratch = git_dir / plumbing.SCRATCH_REF
    try:
        packed: str | None = (git_dir / "packed-refs").read_text(encoding="ascii")
    except FileNotFoundError:
        packed = ""
    except (OSError, UnicodeDecodeError):
        packed = None
    if packed is None or plumbing.packed_ref(packed, plumbing.SCRATCH_REF) is not None:
        git(repo, "update-ref", "-d", plumbing.SCRATCH_REF)
        return
    with _ref_locks(repo, scratch):
        scratch.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # git removes the emptied folder too
        scratch.parent.rmdir()


def _entry(repo: Path, path: Path, blob: bytes, *, filemode: bool) -> plumbing.Entry:
    mode = plumbing.file_mode(path.stat().st_mode, filemode=filemode)
    return plumbing.Entry(path.relative_to(repo).as_posix(), mode, blob)


def _pack_when_due(repo: Path, config: dict[str, str]) -> None:
    """What ``git commit`` does after committing and plumbing does not: ``git gc --auto``
    once loose objects pile up, estimated as git does (one of the 256 object folders)."""
    try:
        limit = int(config.get("gc.auto", GC_AUTO_DEFAULT))
    except ValueError:
        limit = GC_AUTO_DEFAULT
    if limit <= 0:
        return
    try:
        loose = sum(1 for _ in os.scandir(repo / ".git" / "objects" / "17"))
    except FileNotFoundError:
        return
    if loose > -(-limit // 256):
        with contextlib.suppress(GitError):  # packing is an optimisation, never a failure
            git(repo, "gc", "--auto", "--quiet")  # goes to the background by itself


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
    _refuse_outside_lfs(binaries, path_attributes(repo, binaries))


def committed_paths(repo: Path, *, under: str) -> set[str]:
    """Paths under ``under`` (relative, ``/``-separated) that HEAD holds: committed, not
    merely staged."""
    try:
        out = git(repo, "ls-tree", "-r", "-z", "--name-only", "HEAD", "--", under)
    except GitError as exc:
        if "Not a valid object name" in exc.stderr:  # no commit yet
            return set()
        raise
    return {path for path in out.split("\0") if path}


def changed_paths(repo: Path, paths: Sequence[Path]) -> list[Path]:
    """Those of ``paths`` (files of ``repo``) that differ from HEAD or are untracked, and not
    ignored: what a commit of them would change."""
    rel = {p.relative_to(repo).as_posix(): p for p in paths}
    if not rel:
        return []
    out = git(repo, "status", "--porcelain", "-z", "--untracked-files=all", "--", *rel)
    named = {entry[3:] for entry in out.split("\0") if len(entry) > 3}
    return [path for name, path in rel.items() if name in named]


def is_committed(repo: Path, path: Path) -> bool:
    """True when HEAD holds ``path`` (a file of ``repo``)."""
    rel = path.relative_to(repo).as_posix()
    return rel in committed_paths(repo, under=rel)


def lfs_files(repo: Path) -> list[str]:
    """Paths that HEAD stores as LFS pointers (``git lfs ls-files --name-only``)."""
    return git(repo, "lfs", "ls-files", "--name-only").splitlines()
