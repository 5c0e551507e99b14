"""Pipeline input values checked against the manifest's typed inputs (pure apart from
checking that input files exist), and the CLI's ``--input NAME=VALUE`` parsed to them."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from studio.errors import StudioError
from studio.graph.sockets import SocketType
from studio.numbers import is_safe_integer, unsafe_integer_message

if TYPE_CHECKING:
    from studio.pipelines.schema import InputSpec, Manifest

SCALAR_TYPES: Final = frozenset(
    {SocketType.STRING, SocketType.INTEGER, SocketType.FLOAT, SocketType.BOOLEAN}
)
# File inputs/outputs: the extensions each media type accepts (lower case, with the dot).
MEDIA_EXTENSIONS: Final[dict[SocketType, frozenset[str]]] = {
    SocketType.IMAGE: frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}),
    SocketType.MASK: frozenset({".png", ".webp", ".tif", ".tiff"}),
    SocketType.CONTROL_MAP: frozenset({".png", ".jpg", ".jpeg", ".webp", ".exr"}),
    SocketType.VIDEO: frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi"}),
    SocketType.AUDIO: frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a"}),
    SocketType.EDL: frozenset({".edl", ".otio"}),
}


class InputInvalid(StudioError):
    """Inputs do not match the manifest; nothing was run. ``problems`` lists every one."""

    code: Final = "INPUT_INVALID"

    def __init__(self, pipeline: str, problems: list[str]) -> None:
        super().__init__(
            f"{pipeline}: invalid inputs: " + "; ".join(problems),
            hint=f"see `studio pipeline list --json` for the inputs of {pipeline}",
        )
        self.pipeline = pipeline
        self.problems = problems


def check_value(spec: InputSpec, value: Any, *, files_root: Path | None) -> str | None:
    """Why ``value`` is not acceptable for ``spec`` (None when it is). File values are paths,
    relative to ``files_root`` when given."""
    kind = spec.type[0]
    if kind == SocketType.BOOLEAN:
        return None if isinstance(value, bool) else f"expects true or false, not {value!r}"
    if kind in (SocketType.INTEGER, SocketType.FLOAT):
        ok = (int,) if kind == SocketType.INTEGER else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok):
            whole = "a whole number" if kind == SocketType.INTEGER else "a number"
            return f"expects {whole}, not {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"expects a finite number, not {value!r}"
        if isinstance(value, int) and not is_safe_integer(value):
            return unsafe_integer_message(value)
        if spec.minimum is not None and value < spec.minimum:
            return f"must be at least {spec.minimum:g}, not {value}"
        if spec.maximum is not None and value > spec.maximum:
            return f"must be at most {spec.maximum:g}, not {value}"
    elif kind == SocketType.STRING and not isinstance(value, str):
        return f"expects text, not {value!r}"
    if spec.choices is not None and value not in spec.choices:
        return f"must be one of {', '.join(map(str, spec.choices))}, not {value!r}"
    if spec.is_file:
        if not isinstance(value, str | Path):
            return f"expects a file path, not {value!r}"
        path = Path(value)
        allowed = set().union(*(MEDIA_EXTENSIONS.get(t, frozenset()) for t in spec.type))
        if allowed and path.suffix.lower() not in allowed:
            kinds = " or ".join(t.value for t in spec.type)
            found = path.suffix or "file without extension"
            return f"expects {kinds} ({', '.join(sorted(allowed))}), not a {found}"
        if files_root is not None:
            full = path if path.is_absolute() else files_root / path
            if not full.is_file():
                return f"file {path} does not exist"
            if full.stat().st_size == 0:
                return f"file {path} is empty"
    return None


def _parse_scalar(spec: InputSpec, text: str) -> Any:
    kind = spec.type[0]
    try:
        if kind == SocketType.INTEGER:
            return int(text)
        if kind == SocketType.FLOAT:
            return float(text)
    except ValueError:
        return text  # left for check_value to report, with the input's name
    if kind == SocketType.BOOLEAN:
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
    return text


def parse_cli_inputs(manifest: Manifest, pairs: list[str]) -> dict[str, Any]:
    """``["prompt=a cat", "seed=3"]`` -> typed values (the CLI's ``--input k=v``)."""
    values: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        name, sep, text = pair.partition("=")
        spec = manifest.input(name.strip())
        if not sep:
            problems.append(f"{pair!r} is not NAME=VALUE")
        elif spec is None:
            problems.append(f"unknown input {name!r}")
        else:
            values[spec.name] = text if spec.is_file else _parse_scalar(spec, text)
    if problems:
        raise InputInvalid(manifest.id, problems)
    return values


def validate_inputs(
    manifest: Manifest, values: dict[str, Any], *, files_root: Path | None = None
) -> dict[str, Any]:
    """Every input with its value or default, or ``InputInvalid`` listing every problem."""
    problems = [f"unknown input {name!r}" for name in values if manifest.input(name) is None]
    resolved: dict[str, Any] = {}
    for spec in manifest.inputs:
        value = values.get(spec.name, spec.default)
        if value is None:
            if spec.required:
                problems.append(f"{spec.name}: required")
            continue
        problem = check_value(spec, value, files_root=files_root)
        if problem:
            problems.append(f"{spec.name}: {problem}")
        resolved[spec.name] = str(value) if isinstance(value, Path) else value
    if problems:
        raise InputInvalid(manifest.id, problems)
    return resolved
