"""A new pipeline folder from the template (``studio pipeline new``)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Final

from studio.errors import StudioError
from studio.pipelines.schema import ID_PATTERN

TEMPLATE_DIR: Final = Path(__file__).parents[1] / "pipeline_template"


def scaffold(name: str, *, parent: Path) -> Path:
    """Create ``parent/name`` from the template: a working pipeline to edit."""
    if not re.match(ID_PATTERN, name):
        raise StudioError(
            f"{name!r} is not a valid pipeline id",
            hint="use lower-case letters, digits, '-', '_' or '.', starting with a letter or digit",
        )
    target = parent / name
    if target.exists():
        raise StudioError(f"{target} already exists", hint="choose another name or folder")
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".{name}.new"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(TEMPLATE_DIR, staging, ignore=shutil.ignore_patterns("__pycache__"))
    for file in staging.iterdir():
        file.write_text(file.read_text(encoding="utf-8").replace("{{id}}", name), encoding="utf-8")
    staging.rename(target)  # appears complete or not at all
    return target
