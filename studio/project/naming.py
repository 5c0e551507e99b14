"""A project's folder name, derived safely from its title (pure; no I/O).

Rules (documented in README "Projects"): the title itself is kept as typed in project.json;
the folder name is the title NFKC-normalized with every character that is not a letter, digit,
mark, ``-`` or ``_`` turned into ``_``, runs of ``_`` collapsed, leading/trailing ``._-``
stripped, cut to 64 characters (and 180 UTF-8 bytes); a name that ends up empty or reserved
on some platform (``CON``, ``NUL``, ``COM1``... or ``.``/``..``) gets a ``project``
prefix/replacement. The
scaffolder never reuses a folder: when the name is taken it appends ``_2``, ``_3``...
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

MAX_NAME_CHARS: Final = 64
MAX_NAME_BYTES: Final = 180  # well under the 255-byte limit of common filesystems
FALLBACK_NAME: Final = "project"

_WINDOWS_RESERVED: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CLOCK$"}
    | {f"COM{i}" for i in range(10)}
    | {f"LPT{i}" for i in range(10)}
)
_UNDERSCORES = re.compile(r"_+")


def _keep(char: str) -> bool:
    return char in "-_" or unicodedata.category(char)[0] in "LNM"


def is_reserved(name: str) -> bool:
    stem = name.split(".", 1)[0].upper()
    return name in {"", ".", ".."} or stem in _WINDOWS_RESERVED


def folder_name_for(title: str) -> str:
    """The base folder name for ``title`` (before any ``_2`` suffix for uniqueness)."""
    normalized = unicodedata.normalize("NFKC", title)
    replaced = "".join(char if _keep(char) else "_" for char in normalized)
    name = _UNDERSCORES.sub("_", replaced).strip("._-")[:MAX_NAME_CHARS]
    while len(name.encode()) > MAX_NAME_BYTES:
        name = name[:-1]
    name = name.strip("._-")
    if not name:
        return FALLBACK_NAME
    if is_reserved(name):
        return f"{FALLBACK_NAME}_{name}"
    return name


def candidate_names(title: str) -> list[str]:
    """``name``, ``name_2``, ``name_3``... (the first 1000) for the scaffolder to try in order."""
    base = folder_name_for(title)
    return [base] + [f"{base}_{n}" for n in range(2, 1001)]


def is_safe_folder_name(name: str) -> bool:
    """True for a single, non-hidden path component that no platform reserves."""
    return (
        bool(name)
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
        and not name.startswith(".")
        and not is_reserved(name)
    )
