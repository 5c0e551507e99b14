"""Which numbers every JSON reader reads exactly (pure; shared by the JSON documents, the
node-type registry and the pipeline input checks)."""

from __future__ import annotations

from typing import Final

MAX_SAFE_INTEGER: Final = 2**53 - 1
"""JavaScript's ``Number.MAX_SAFE_INTEGER``: the largest integer every JSON reader (a
browser, ``jq``, most languages' default parsers) reads exactly (RFC 8259 §6)."""


def is_safe_integer(value: int) -> bool:
    return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER


def unsafe_integer_message(value: int | str) -> str:
    return (
        f"the integer {value} is beyond ±{MAX_SAFE_INTEGER} (2^53 - 1): a browser would "
        "silently round it; use a smaller number, or text for an identifier"
    )
