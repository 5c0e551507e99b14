"""The pure half of a commit made with git plumbing (see :func:`studio.project.repo.commit_paths`):
which paths may take that road, what to feed ``git fast-import`` and ``git update-index``,
and how to read what git answers. No process is started here.

The road, for paths git would store as they are or through Git LFS: the LFS objects are
written in-process (:mod:`studio.project.lfs`), then the blobs (LFS pointers and plain
files), the trees and the commit (parent: HEAD) are written in-process as the loose objects
``git fast-import`` leaves (:func:`tree_payload`, :func:`commit_payload`; fast-import itself,
onto a scratch ref, when a tree on the way is packed), ``git update-index --index-info``
stages the same blobs, and HEAD is moved from the parent it was built on as ``git
update-ref`` moves it (in-process unless :func:`refs_refusal` says git must). Objects
exist before the index names them and the index holds them before HEAD does, so a process
killed at any point leaves either nothing or *staged, not committed* takes, which settling
commits; never a commit whose take the index would then delete.

Anything this road cannot do exactly as ``git add`` + ``git commit`` would (other content
filters, ``ident``, a working-tree encoding, lockable files, user hooks, signed commits,
LFS extensions or another LFS store, a merge in progress, deletions, links) goes through
the porcelain instead: :func:`refusal` and :func:`route` name the reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

Mode = Literal["100644", "100755"]
Route = Literal["lfs", "plain"]

ATTRIBUTES: Final = ("filter", "ident", "working-tree-encoding", "lockable")
"""What ``git check-attr`` is asked about each path (see :func:`route`)."""
CONFIG_PATTERN: Final = (
    r"^(filter\.lfs\.|lfs\.|commit\.gpgsign$|core\.hookspath$|core\.filemode$|gc\.auto$"
    r"|core\.attributesfile$|core\.fsync|fastimport\.unpacklimit$|transfer\.unpacklimit$"
    r"|core\.logallrefupdates$|core\.sharedrepository$|core\.prefersymlinkrefs$|extensions\.)"
)
"""The configuration :func:`refusal` and the caller read (``git config --get-regexp``)."""
COMMIT_HOOKS: Final = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit")
"""Hooks ``git commit`` runs and plumbing does not."""
SCRATCH_REF: Final = "refs/studio/commit"
"""Where ``git fast-import`` leaves the commit until HEAD is moved to it (then deleted)."""
IN_PROGRESS: Final = ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD")
"""Files in the git dir that make ``git commit -- paths`` refuse (a partial commit)."""
_CRUD: Final = "".join(chr(c) for c in range(33)) + ",:;<>\"\\'"
_UNSET: Final = ("unspecified", "unset")
_TRUE: Final = ("true", "yes", "on", "1")
_OBJECT_ID: Final = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_LFS_HOOK_LINE: Final = re.compile(r'git lfs post-commit "\$@"|command -v git-lfs .*')


@dataclass(frozen=True)
class Entry:
    """One path of the commit: its mode and the blob git stores for it (an LFS file's
    pointer, a plain file's own bytes)."""

    path: str
    """Relative to the repository, ``/``-separated."""
    mode: Mode
    blob: bytes


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


# --- which road ------------------------------------------------------------------------------


def parse_check_attr(output: str) -> dict[str, dict[str, str]]:
    """``git check-attr -z`` output (path NUL attribute NUL value NUL ...) by path."""
    fields = output.split("\0")
    found: dict[str, dict[str, str]] = {}
    for i in range(0, len(fields) - 2, 3):
        found.setdefault(fields[i], {})[fields[i + 1]] = fields[i + 2]
    return found


_GLOB: Final = frozenset("*?[\\")
_ASCII_BLANKS: Final = re.compile(r"[ \t]+")


def attribute_patterns(text: str) -> tuple[str, ...] | None:
    """The patterns of a gitattributes file's lines, when each can be matched by name alone:
    ``*.ext`` or a literal file name (no ``/``, no other glob, not quoted, not negated);
    None when any cannot (only git can match those). Macro definitions match no path.
    A rule line with anything but printable ASCII and spaces or tabs is git's to read (git
    splits on ASCII whitespace only and folds only ASCII case), as is a file that starts with
    a byte-order mark (git strips it)."""
    if text.startswith("\ufeff"):
        return None
    patterns: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip(" \t")
        if not line or line.startswith("#"):
            continue
        if not line.isascii() or any(c < " " and c != "\t" for c in line):
            return None
        if line.startswith("[attr]"):
            continue
        pattern = _ASCII_BLANKS.split(line)[0]
        if pattern[0] in '"!' or "/" in pattern:
            return None
        rest = pattern[1:] if pattern.startswith("*") else pattern
        if _GLOB & set(rest):
            return None
        patterns.append(pattern)
    return tuple(patterns)


def matching_patterns(name: str, patterns: Sequence[str]) -> tuple[int, ...]:
    """Which of :func:`attribute_patterns`' ``patterns`` match a file named ``name``, once as
    git matches them case-sensitively and once ignoring case (``core.ignoreCase``): two
    names with the same answer get the same attributes from those lines."""

    def matches(pattern: str, folded: bool) -> bool:
        subject, wanted = (name.lower(), pattern.lower()) if folded else (name, pattern)
        if wanted.startswith("*"):
            return subject.endswith(wanted[1:])
        return subject == wanted

    exact = tuple(i for i, p in enumerate(patterns) if matches(p, False))
    folded = tuple(i for i, p in enumerate(patterns) if matches(p, True))
    return (*exact, -1, *folded)


def route(attributes: Mapping[str, str]) -> Route | None:
    """How git would store a file with these attributes: through LFS, as it is (``plain``;
    text conversion of a file without CR changes nothing), or None when only git can say
    (another filter, ``ident``, an encoding, a lockable file made read-only by a hook)."""
    if attributes.get("ident", "unspecified") not in _UNSET:
        return None
    if attributes.get("working-tree-encoding", "unspecified") not in _UNSET:
        return None
    if attributes.get("lockable", "unspecified") not in _UNSET:
        return None
    driver = attributes.get("filter", "unspecified")
    if driver == "lfs":
        return "lfs"
    return "plain" if driver in _UNSET else None


def parse_config(output: str) -> dict[str, str]:
    """``git config -z --get-regexp`` output (key LF value NUL ...); keys as git prints them
    (section and name lower case)."""
    found: dict[str, str] = {}
    for item in output.split("\0"):
        if item:
            key, _, value = item.partition("\n")
            found[key] = value
    return found


def refusal(config: Mapping[str, str]) -> str | None:
    """Why this repository's configuration needs the porcelain, or None."""
    if any(key.startswith("lfs.extension.") for key in config):
        return "Git LFS extensions are configured"
    if "lfs.storage" in config:
        return "lfs.storage moves the LFS store"
    if config.get("commit.gpgsign", "false").lower() in _TRUE:
        return "commits are signed (commit.gpgSign)"
    if "core.hookspath" in config:
        return "hooks are configured (core.hooksPath)"
    return None


def is_lfs_post_commit_hook(text: str) -> bool:
    """True for the ``post-commit`` hook ``git lfs install`` writes (it only makes lockable
    files read-only; :func:`route` sends those to the porcelain)."""
    lines = [line.strip() for line in text.splitlines()]
    body = [line for line in lines if line and not line.startswith("#")]
    return bool(body) and all(_LFS_HOOK_LINE.fullmatch(line) for line in body)


def object_id(text: str) -> str | None:
    """``text`` when it is an object id (SHA-1 or SHA-256, lower-case hex), else None."""
    return text if _OBJECT_ID.fullmatch(text) else None


_REF_NAME: Final = re.compile(r"refs/(?:[A-Za-z0-9_.+-]+/)*[A-Za-z0-9_+-][A-Za-z0-9_.+-]*")


def head_target(head: str) -> tuple[Literal["commit", "ref"], str] | None:
    """What a ``HEAD`` file's text says: a commit id (detached), a branch's ref name (``ref:
    refs/...``, a plain name under ``refs/``), or None when it is anything else (another ref
    backend's placeholder is still a valid name: the caller checks for that backend)."""
    text = head.strip()
    if text.startswith("ref:"):
        ref = text.removeprefix("ref:").strip()
        valid = _REF_NAME.fullmatch(ref) and ".." not in ref and not ref.endswith(".lock")
        return ("ref", ref) if valid else None
    oid = object_id(text)
    return ("commit", oid) if oid is not None else None


def packed_ref(packed_refs: str, ref: str) -> str | None:
    """The id ``ref`` has in a ``packed-refs`` file's text (``<id> <ref>`` lines), or None."""
    for line in packed_refs.splitlines():
        oid, _, name = line.partition(" ")
        if name == ref:
            return object_id(oid)
    return None


def file_mode(st_mode: int, *, filemode: bool) -> Mode:
    """The mode git records for a regular file (executable only where git tracks the bit)."""
    return "100755" if filemode and st_mode & 0o100 else "100644"


# --- what git is told ------------------------------------------------------------------------


def clean_message(message: str) -> str:
    """A commit message as ``git commit -m`` stores it: control characters (git refuses NUL,
    others garble the log) made spaces, trailing space cut from each line, runs of empty
    lines made one, no empty lines around, one final newline (git's "whitespace" cleanup)."""
    printable = "".join(c if c in "\n\t" or c >= " " else " " for c in message)
    lines: list[str] = []
    for line in printable.split("\n"):
        line = line.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else "studio\n"


def identity(name: str, email: str) -> Identity | None:
    """The identity git would record (leading and trailing "crud" cut, as git does), or None
    when one that fast-import cannot write remains (angle brackets, line breaks)."""
    clean_name, clean_email = name.strip(_CRUD), email.strip(_CRUD)
    if any(c in value for value in (clean_name, clean_email) for c in "<>\n"):
        return None
    return Identity(clean_name, clean_email)


def quote_path(path: str) -> bytes:
    """A path as fast-import reads it: C-style quoted when it must be."""
    raw = path.encode()
    if not any(b < 0x20 or b in b'"\\' for b in raw) and not path.startswith(" "):
        return raw
    escapes = {ord("\\"): b"\\\\", ord('"'): b'\\"', ord("\n"): b"\\n", ord("\t"): b"\\t"}
    out = bytearray(b'"')
    for b in raw:
        out += escapes.get(b, b"\\%03o" % b if b < 0x20 else bytes([b]))
    return bytes(out + b'"')


def _data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


def fast_import_stream(
    *, entries: Sequence[Entry], parent: str, who: Identity, message: str
) -> bytes:
    """Input for ``git fast-import --date-format=now``: one blob per entry (marks 1..n), a
    commit onto :data:`SCRATCH_REF` with ``parent`` as its first parent (mark n+1) changing
    those paths only, then the ids of all marks, commit first (:func:`parse_marks`)."""
    person = f"{who.name} <{who.email}> now".encode()
    out = [b"feature done\nfeature get-mark\n"]
    for mark, entry in enumerate(entries, start=1):
        out.append(b"blob\nmark :%d\n%s" % (mark, _data(entry.blob)))
    commit = len(entries) + 1
    out.append(b"commit %s\nmark :%d\n" % (SCRATCH_REF.encode(), commit))
    out.append(b"author %s\ncommitter %s\n%s" % (person, person, _data(message.encode())))
    out.append(b"from %s\n" % parent.encode())
    for mark, entry in enumerate(entries, start=1):
        out.append(b"M %s :%d %s\n" % (entry.mode.encode(), mark, quote_path(entry.path)))
    out.append(b"\n")
    out.extend(b"get-mark :%d\n" % mark for mark in (commit, *range(1, commit)))
    out.append(b"done\n")
    return b"".join(out)


UNPACK_LIMIT_DEFAULT: Final = 100
"""git's ``fastimport.unpackLimit``: fewer objects than this are written loose, the pack
fast-import made for them deleted."""


def skip_pack_fsync(entries: Sequence[Entry], config: Mapping[str, str]) -> bool:
    """Whether fast-import may leave its pack unsynced (``-c core.fsync=none``) and lose
    nothing git would keep: with git's own fsync settings (none configured) loose objects are
    not synced, and this import's objects (blobs, at most one tree per folder, the commit)
    are few enough to be written loose, its pack only read to do so and deleted."""
    if any(key.startswith("core.fsync") for key in config):
        return False
    raw = config.get("fastimport.unpacklimit", config.get("transfer.unpacklimit"))
    try:
        limit = int(raw) if raw is not None else UNPACK_LIMIT_DEFAULT
    except ValueError:
        return False
    folders = {entry.path.rpartition("/")[0] for entry in entries}
    for folder in list(folders):
        parts = folder.split("/")
        folders.update("/".join(parts[:depth]) for depth in range(len(parts)))
    return len(entries) + len(folders | {""}) + 1 < limit


def parse_marks(output: bytes, *, entries: int) -> tuple[str, list[str]]:
    """The commit id and the blob ids (in entry order) fast-import printed."""
    ids = output.decode().split()
    if len(ids) != entries + 1 or not all(object_id(i) for i in ids):
        raise ValueError(f"git fast-import printed {output!r}, not {entries + 1} object ids")
    return ids[0], ids[1:]


def index_info(entries: Sequence[Entry], blobs: Sequence[str]) -> bytes:
    """Input for ``git update-index -z --add --index-info``: stage each entry's blob."""
    return b"".join(
        b"%s %s\t%s\0" % (entry.mode.encode(), blob.encode(), entry.path.encode())
        for entry, blob in zip(entries, blobs, strict=True)
    )


def refs_refusal(config: Mapping[str, str], environ: Mapping[str, str]) -> str | None:
    """Why git itself must move HEAD (``git update-ref``), or None when the files backend's
    defaults apply and :func:`reflog_entry` writes what git would: reflogs as by default
    (branches and HEAD have them, the scratch ref none), no shared permissions, no
    symlinked refs, no fsync setting (git syncs no ref by default), no repository format
    extension (another ref backend, an object format), the committer's date git's own."""
    if any(key.startswith(("core.fsync", "extensions.")) for key in config):
        return "core.fsync or a repository extension is configured"
    # ``git init`` writes logAllRefUpdates=true: git's default for a repository with a work
    # tree (reflogs for branches and HEAD); "always" or false change which refs have one.
    if config.get("core.logallrefupdates", "true").lower() not in _TRUE:
        return "core.logAllRefUpdates is not true"
    for key in ("core.sharedrepository", "core.prefersymlinkrefs"):
        if key in config:
            return f"{key} is configured"
    if "GIT_COMMITTER_DATE" in environ:
        return "GIT_COMMITTER_DATE is set"
    return None


_REFLOG_BLANKS: Final = re.compile(r"[ \t\n\r]+")


def reflog_entry(
    *, old: str, new: str, who: Identity, when: int, utc_offset_s: int, message: str
) -> bytes:
    """One reflog line as git writes it: ``old new name <email> seconds +hhmm<TAB>message``,
    the message's whitespace runs made one space and its ends trimmed (git's
    ``copy_reflog_msg``)."""
    sign = "-" if utc_offset_s < 0 else "+"
    minutes = abs(utc_offset_s) // 60
    zone = f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
    text = _REFLOG_BLANKS.sub(" ", message).strip(" ")
    line = f"{old} {new} {who.name} <{who.email}> {when} {zone}"
    return (f"{line}\t{text}\n" if text else f"{line}\n").encode()


def ref_transaction(*, new: str, old: str, scratch: bool = True) -> bytes:
    """Input for ``git update-ref --stdin``: HEAD (and the branch it names) from ``old`` to
    ``new``, refused when HEAD moved meanwhile; the scratch ref (when fast-import wrote one)
    deleted in the same transaction."""
    update = b"update HEAD %s %s\n" % (new.encode(), old.encode())
    return update + (b"delete %s\n" % SCRATCH_REF.encode() if scratch else b"")


# --- objects built in process (no fast-import) -----------------------------------------------

TREE_MODE: Final = b"40000"


@dataclass(frozen=True)
class TreeItem:
    """One entry of a tree object: its mode (as git writes it), name and object id (hex)."""

    mode: bytes
    name: bytes
    oid: str


def object_name(raw: bytes) -> str:
    """The id of an object whose :func:`object_bytes` are ``raw`` (SHA-1: the repositories
    this road writes objects for have no other object format)."""
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()


def object_bytes(kind: bytes, payload: bytes) -> bytes:
    """A loose object's content before compression (its SHA-1 is the object's id)."""
    return b"%s %d\0%s" % (kind, len(payload), payload)


def split_object(raw: bytes) -> tuple[bytes, bytes] | None:
    """(kind, payload) of an inflated loose object, or None when its header does not read."""
    header, nul, payload = raw.partition(b"\0")
    kind, _, size = header.partition(b" ")
    if not nul or not size.isdigit() or int(size) != len(payload):
        return None
    return kind, payload


def parse_tree(payload: bytes) -> list[TreeItem] | None:
    """A tree object's entries (SHA-1 ids), or None when it does not read."""
    items: list[TreeItem] = []
    at = 0
    while at < len(payload):
        space = payload.find(b" ", at)
        nul = payload.find(b"\0", space + 1)
        if space < 0 or nul < 0 or nul + 21 > len(payload):
            return None
        items.append(TreeItem(payload[at:space], payload[space + 1 : nul],
                              payload[nul + 1 : nul + 21].hex()))  # fmt: skip
        at = nul + 21
    return items


def tree_payload(items: Sequence[TreeItem]) -> bytes:
    """A tree object's payload, entries in git's order (a tree's name sorts as ``name/``)."""

    def key(item: TreeItem) -> bytes:
        return item.name + b"/" if item.mode == TREE_MODE else item.name

    return b"".join(
        b"%s %s\0%s" % (i.mode, i.name, bytes.fromhex(i.oid)) for i in sorted(items, key=key)
    )


def commit_tree(payload: bytes) -> str | None:
    """The tree id a commit object's payload names first, or None."""
    first = payload.partition(b"\n")[0]
    if not first.startswith(b"tree "):
        return None
    return object_id(first[5:].decode("ascii", errors="replace"))


def commit_payload(
    *, tree: str, parent: str, who: Identity, when: int, utc_offset_s: int, message: str
) -> bytes:
    """The commit object ``git fast-import --date-format=now`` writes for a commit of
    :func:`fast_import_stream` (author and committer ``who``, now, this machine's zone)."""
    sign = "-" if utc_offset_s < 0 else "+"
    minutes = abs(utc_offset_s) // 60
    person = f"{who.name} <{who.email}> {when} {sign}{minutes // 60:02d}{minutes % 60:02d}"
    head = f"tree {tree}\nparent {parent}\nauthor {person}\ncommitter {person}\n\n"
    return head.encode() + message.encode()


def changed_folders(entries: Sequence[Entry]) -> list[str]:
    """Every folder whose tree a commit of ``entries`` rewrites (the root is ``""``), deepest
    first: each new tree is written before the one that names it."""
    folders = {""}
    for entry in entries:
        parts = entry.path.split("/")[:-1]
        folders.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return sorted(folders, key=lambda f: (-f.count("/") - (f != ""), f))
