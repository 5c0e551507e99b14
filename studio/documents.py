"""Reading and writing the studio's JSON documents as validated pydantic models.

Errors always name the file and, when validation fails, the field (``project_settings.quality``),
so a hand-edited file can be fixed without guessing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from studio.atomic import atomic_write_bytes, exclusive_write_bytes
from studio.errors import ManifestError

M = TypeVar("M", bound=BaseModel)


def dump_json(value: Any) -> bytes:
    """The studio's JSON style: UTF-8, 2-space indent, trailing newline (diff-friendly)."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def model_bytes(model: BaseModel) -> bytes:
    return dump_json(model.model_dump(mode="json"))


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(path, "file is missing") from None
    except UnicodeDecodeError as exc:
        raise ManifestError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            path, f"malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None


def validate(path: Path, data: Any, model: type[M]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        extra = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise ManifestError(path, f"{first['msg']}{extra}", field=field) from None


def load_model(path: Path, model: type[M]) -> M:
    return validate(path, read_json(path), model)


def write_model(path: Path, model: BaseModel) -> None:
    atomic_write_bytes(path, model_bytes(model))


def create_model(path: Path, model: BaseModel) -> bool:
    """Write ``model`` at ``path`` only if the name is free; False when it was taken."""
    return exclusive_write_bytes(path, model_bytes(model))
