"""How anything names a pipeline (``id`` or ``id:tag``) and what it takes for such a
reference, or a quality-map cell, to name an installed pipeline (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from studio.errors import StudioError
from studio.pipelines.schema import ID_PATTERN
from studio.quality import Quality, QualityMap

if TYPE_CHECKING:
    from studio.pipelines.schema import Manifest, Pipeline


class PipelineNotFound(StudioError):
    pass


LATEST: Final = "latest"
_TAG = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"


@dataclass(frozen=True)
class PipelineRef:
    """How anything names a pipeline (the quality map, a Pipeline node, the CLI): its id with
    an optional ``:tag``. The tag is the image tag, which is the manifest's version; no tag
    or ``latest`` means whatever version is installed."""

    id: str
    tag: str = LATEST

    @classmethod
    def parse(cls, text: str) -> PipelineRef:
        ident, colon, tag = text.strip().partition(":")
        if not re.match(ID_PATTERN, ident) or (colon and not re.match(_TAG, tag)):
            raise PipelineNotFound(
                f"{text!r} is not a pipeline reference",
                hint="write ID or ID:TAG, e.g. t2i-draft or t2i-draft:0.1.0 (TAG is the "
                "pipeline's version; latest means the installed one)",
            )
        return cls(ident, tag or LATEST)

    def accepts(self, manifest: Manifest) -> bool:
        return manifest.id == self.id and self.tag in (LATEST, manifest.version)

    def __str__(self) -> str:
        return self.id if self.tag == LATEST else f"{self.id}:{self.tag}"


def not_installed(ref: PipelineRef, installed: Pipeline | None) -> str:
    """Why ``ref`` names nothing installed, in words."""
    if installed is None:
        return f"{ref}, which is not installed"
    return f"{ref}, but {ref.id} {installed.manifest.version} is installed"


def find_pipeline(ref: str, *, installed: Mapping[str, Pipeline]) -> Pipeline:
    """The installed pipeline ``ref`` names, or ``PipelineNotFound`` saying what is there."""
    wanted = PipelineRef.parse(ref)
    found = installed.get(wanted.id)
    if found is None or not wanted.accepts(found.manifest):
        refs = ", ".join(p.manifest.ref for p in installed.values()) or "none"
        raise PipelineNotFound(
            f"no pipeline {not_installed(wanted, found)}",
            hint=f"installed: {refs}; or give a folder path",
        )
    return found


def cell_problem(
    task: str, quality: Quality, pipeline: str, *, installed: Mapping[str, Pipeline]
) -> str | None:
    """Pure: why the quality-map cell ``task``/``quality`` naming ``pipeline`` cannot be
    served (not installed, another version installed, not a reference), or None."""
    try:
        ref = PipelineRef.parse(pipeline)
    except PipelineNotFound as exc:
        return f"quality map: {task}/{quality}: {exc.message}"
    found = installed.get(ref.id)
    if found is not None and ref.accepts(found.manifest):
        return None
    return (
        f"quality map: {task}/{quality} names {not_installed(ref, found)} — "
        "install it or override the cell in workspace.json"
    )


def quality_map_problems(
    quality_map: QualityMap, *, installed: Mapping[str, Pipeline]
) -> list[str]:
    """Pure: a sentence for every cell of the map that names no installed pipeline."""
    return [
        problem
        for task, cells in quality_map.items()
        for quality, cell in cells.items()
        if (problem := cell_problem(task, quality, cell.pipeline, installed=installed))
    ]
