"""Reading and writing the studio's JSON documents as validated pydantic models.

Errors always name the file and, when validation fails, the field (``project_settings.quality``),
so a hand-edited file can be fixed without guessing.

Only standard JSON goes in and out: Python's ``json`` module would read and write ``NaN``,
``Infinity`` and ``1e999`` (as infinity), which the browser's ``JSON.parse`` and most other
readers refuse. :func:`strict_loads` refuses them on the way in, :func:`dump_json` on the way
out, and :func:`check_nesting` bounds how deep a document nests *before* it is parsed (the
parser recurses, so 100k ``[`` would exhaust the stack).

Integers beyond ±(2^53 - 1) are exact in Python but silently rounded by the browser (a
JavaScript number is a double), so what a client sends (:func:`strict_loads`) and what the
free-form fields hold (:data:`FiniteJSON`) may not have them. Documents already on disk are
read as they are (:func:`read_json`, :func:`validate`): a file written before keeps opening,
and nothing the studio makes needs such integers (seeds stay below 2^32, sizes and counts
far below 2^53).

A refused number is located: its path in the document (``nodes[2].data.strength``, with the
``id`` of the object around it) and its line and column.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Final, NoReturn, TypeVar

from pydantic import AfterValidator, BaseModel, ValidationError, ValidationInfo

from studio.atomic import atomic_write_bytes, exclusive_write_bytes
from studio.errors import InvalidInput, ManifestError
from studio.numbers import is_safe_integer, unsafe_integer_message

M = TypeVar("M", bound=BaseModel)
MAX_NESTING: Final = 64
"""How deep arrays and objects may nest in what a client sends (a canvas nests about 4)."""
STORED: Final = "studio.stored"
"""Validation context key: the data was read from a file on disk (see :func:`validate`)."""
# Unrolled loop (no quantifier nested in another): linear even on an unclosed string, where
# ``"(?:[^"\\]+|\\.)*"`` backtracks exponentially and would stall the server's event loop.
_STRING: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET: Final = re.compile(r"[\[\]{}]")


class JSONTooDeep(ValueError):
    """A document nests deeper than allowed (refused before parsing)."""


class NonStandardNumber(ValueError):
    """A number not every JSON reader reads the same (NaN, Infinity, 1e999, an integer past
    ±(2^53 - 1)); ``where`` is its path in the document, ``line``/``column`` its place in the
    text (1-based), when found."""

    def __init__(self, reason: str, *, where: str = "", line: int = 0, column: int = 0) -> None:
        place = f", at {where}" if where else ""
        if line:
            place += f"{',' if where else ', at'} line {line}, column {column}"
        super().__init__(f"{reason}{place}")
        self.reason = reason
        self.where = where
        self.line = line
        self.column = column


def _non_finite(where: Path | str | None) -> InvalidInput:
    target = f" to {where}" if where is not None else ""
    return InvalidInput(
        f"refusing to write NaN or Infinity{target}: JSON has no such numbers",
        hint="use finite numbers (positions, sizes and fields are plain numbers)",
    )


class NumberInFileError(ManifestError):
    """A document on disk holds a :class:`NonStandardNumber` (the message says where)."""


def dump_json(value: Any, *, where: Path | str | None = None) -> bytes:
    """The studio's JSON style: UTF-8, 2-space indent, trailing newline (diff-friendly).
    Non-finite numbers are refused (``InvalidInput``), so every reader can read the result."""
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise _non_finite(where) from None
    return (text + "\n").encode()


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number (JSON numbers are finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is out of range (JSON numbers are finite)")
    return value


def _safe_int(text: str) -> int:
    digits = text.lstrip("-")
    # past 16 digits it is unsafe whatever they are (and int() of 4300+ digits raises)
    if len(digits) > 16 or not is_safe_integer(int(text)):
        raise ValueError(unsafe_integer_message(text if len(digits) <= 40 else f"{text[:20]}…"))
    return int(text)


def require_finite(value: Any, *, exact_integers: bool = True) -> Any:
    """``value`` unchanged if no float inside it (at any depth) is NaN or infinite and (with
    ``exact_integers``) no integer is past ±(2^53 - 1), else ``ValueError``."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{item!r} is not a finite number (JSON has no NaN or Infinity)")
        if (
            exact_integers
            and isinstance(item, int)
            and not isinstance(item, bool)
            and not is_safe_integer(item)
        ):
            raise ValueError(unsafe_integer_message(item))
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return value


def _require_portable(value: Any, info: ValidationInfo) -> Any:
    stored = bool(info.context and info.context.get(STORED))
    return require_finite(value, exact_integers=not stored)


FiniteJSON = Annotated[dict[str, Any], AfterValidator(_require_portable)]
"""A free-form JSON object whose numbers every reader reads the same: finite, and integers
within ±(2^53 - 1) (a document read from disk may keep larger ones: see :func:`validate`)."""


def check_nesting(text: str, *, limit: int = MAX_NESTING) -> None:
    """Raise :class:`JSONTooDeep` when ``text`` nests arrays/objects deeper than ``limit``.
    Brackets inside strings do not count; the scan runs in regex code, not per character."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                raise JSONTooDeep(f"nested deeper than {limit} levels of arrays and objects")
        else:
            depth -= 1


def strict_loads(
    text: str | bytes, *, max_nesting: int | None = None, exact_integers: bool = True
) -> Any:
    """``json.loads`` of standard JSON only: ``NaN``, ``Infinity`` and out-of-range numbers
    raise :class:`NonStandardNumber` (a ``ValueError``, as malformed JSON does, saying where
    the number is), and so do integers past ±(2^53 - 1) unless ``exact_integers`` is False;
    with ``max_nesting``, a document nested deeper raises :class:`JSONTooDeep` (checked
    before parsing)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if max_nesting is not None:
        check_nesting(text, limit=max_nesting)
    parse_int = _safe_int if exact_integers else int
    try:
        return json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=parse_int
        )
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        if "digits" in str(exc) and not exact_integers:  # int() of 4300+ digits
            raise NonStandardNumber(f"an integer of more than 4300 digits: {exc}") from None
        raise locate_number(text, str(exc), exact_integers=exact_integers) from None


# What may be a number outside strings, which are blanked first (same length, so positions
# hold); the scan is linear (no nested quantifiers).
_NUMBER_TOKEN: Final = re.compile(r"-?Infinity|NaN|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


class _Bad:
    """Stands for a refused number in the permissive re-parse that finds its path."""


def _bad_number(text: str, *, exact_integers: bool) -> bool:
    if text in ("NaN", "Infinity", "-Infinity"):
        return True
    if "." in text or "e" in text or "E" in text:
        return not math.isfinite(float(text))
    digits = text.lstrip("-")
    return exact_integers and (len(digits) > 16 or not is_safe_integer(int(text)))


def locate_number(text: str, reason: str, *, exact_integers: bool = True) -> NonStandardNumber:
    """Pure: the first refused number of ``text`` (standard JSON but for its numbers) as a
    :class:`NonStandardNumber` saying ``reason`` and where it is. Called only once a parse
    failed, so its cost (a second parse) is paid by bad documents alone."""
    line = column = 0
    blanked = _STRING.sub(lambda m: '"' + " " * (len(m.group()) - 2) + '"', text)
    for match in _NUMBER_TOKEN.finditer(blanked):
        if _bad_number(match.group(), exact_integers=exact_integers):
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            break
    bad = _Bad()

    def number(kind: str) -> Any:
        return lambda token: (
            bad
            if _bad_number(token, exact_integers=exact_integers)
            else (float(token) if kind == "float" else int(token))
        )

    try:
        document = json.loads(
            text, parse_constant=lambda _: bad, parse_float=number("float"), parse_int=number("int")
        )
    except (ValueError, RecursionError):
        return NonStandardNumber(reason, line=line, column=column)
    return NonStandardNumber(reason, where=_path_to(document, bad), line=line, column=column)


def _path_to(document: Any, target: object) -> str:
    """Pure: where the first ``target`` is in ``document`` (document order), e.g.
    ``nodes[2].data.strength in the object with id "shot-3"``; "" when absent."""
    stack: list[tuple[Any, str, str | None]] = [(document, "", None)]
    while stack:
        item, path, owner = stack.pop()
        if item is target:
            inside = f" in the object with id {json.dumps(owner)}" if owner else ""
            return f"{path or 'the top level'}{inside}"
        children: list[tuple[Any, str, str | None]] = []
        if isinstance(item, dict):
            here = item["id"] if isinstance(item.get("id"), str) else owner
            for key, value in item.items():
                step = f".{key}" if _PLAIN_KEY.fullmatch(key) else f"[{json.dumps(key)}]"
                children.append((value, f"{path}{step}" if path else step.lstrip("."), here))
        elif isinstance(item, list):
            children = [(value, f"{path}[{i}]", owner) for i, value in enumerate(item)]
        stack.extend(reversed(children))
    return ""


_PLAIN_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def model_bytes(model: BaseModel, *, where: Path | None = None) -> bytes:
    # pydantic's JSON mode would quietly write NaN/Infinity in free-form fields as null:
    # look at the Python values first.
    try:
        require_finite(model.model_dump())
    except ValueError:
        raise _non_finite(where) from None
    return dump_json(model.model_dump(mode="json"), where=where)


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(path, "file is missing") from None
    except UnicodeDecodeError as exc:
        raise ManifestError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        # Integers past 2^53 are kept: a file written before keeps opening (see the module).
        return strict_loads(text, exact_integers=False)
    except NonStandardNumber as exc:
        raise NumberInFileError(
            path,
            f"malformed JSON: {exc}",
            hint="replace the number by a finite one (or remove its field) by hand, or "
            "restore the file with git",
        ) from None
    except json.JSONDecodeError as exc:
        raise ManifestError(
            path, f"malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except ValueError as exc:  # NaN, Infinity, 1e999: not JSON for any other reader
        raise ManifestError(path, f"malformed JSON: {exc}") from None
    except RecursionError:
        raise ManifestError(path, "malformed JSON: nested too deeply to read") from None


def validate(path: Path, data: Any, model: type[M]) -> M:
    """``data`` read from ``path`` as ``model``: free-form fields keep what the file holds
    (the ``STORED`` context: integers past 2^53 written before are not refused)."""
    try:
        return model.model_validate(data, context={STORED: True})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        extra = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise ManifestError(path, f"{first['msg']}{extra}", field=field) from None


def load_model(path: Path, model: type[M]) -> M:
    return validate(path, read_json(path), model)


def write_model(path: Path, model: BaseModel, *, durable: bool = True) -> None:
    """Replace ``path`` with ``model`` atomically (:func:`studio.atomic.atomic_write_bytes`)."""
    atomic_write_bytes(path, model_bytes(model, where=path), durable=durable)


def create_model(path: Path, model: BaseModel, *, sync_folder: bool = True) -> bool:
    """Write ``model`` at ``path`` only if the name is free; False when it was taken
    (``sync_folder``: see :func:`studio.atomic.exclusive_write_bytes`)."""
    return exclusive_write_bytes(path, model_bytes(model, where=path), sync_folder=sync_folder)
