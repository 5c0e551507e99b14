"""The quality map (ARCHITECTURE.md contract 6): project quality + task type -> pipeline.

PRD Table 4 is the default; a workspace overrides entries in its ``workspace.json``
(``quality_map``). Pure data and pure functions; the dispatcher adds hardware awareness.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Quality = Literal["low", "standard", "high"]
QUALITIES: tuple[Quality, ...] = get_args(Quality)


class PipelineChoice(BaseModel):
    """One cell of the quality map: which pipeline serves a (task, quality) pair."""

    model_config = ConfigDict(frozen=True)

    pipeline: str = Field(min_length=1)
    min_vram_gb: float = Field(ge=0)
    description: str = ""


QualityMap = dict[str, dict[Quality, PipelineChoice]]

DEFAULT_QUALITY_MAP: QualityMap = {
    "generate-image": {
        "low": PipelineChoice(
            pipeline="t2i-sd1.5:latest",
            min_vram_gb=12,
            description="Fast 512px drafts using Stable Diffusion 1.5 for rapid iteration.",
        ),
        "standard": PipelineChoice(
            pipeline="t2i-flux-schnell:latest",
            min_vram_gb=16,
            description="Good balance of quality and speed at 768px-1024px using FLUX.Schnell.",
        ),
        "high": PipelineChoice(
            pipeline="t2i-flux-dev-fp16:latest",
            min_vram_gb=24,
            description="Maximum fidelity 2K generation with the full, unquantized FLUX.dev model.",
        ),
    },
    "generate-video": {
        "low": PipelineChoice(
            pipeline="t2v-wan2.1-1.3b:latest",
            min_vram_gb=12,
            description="Fast video drafts using the highly optimized 1.3B parameter Wan2.1 model.",
        ),
        "high": PipelineChoice(
            pipeline="t2v-ltx-13b:latest",
            min_vram_gb=24,
            description="High-quality, high-resolution video using the full LTX-Video 13B model.",
        ),
    },
}


def merge_quality_map(base: QualityMap, override: QualityMap) -> QualityMap:
    """``override`` replaces single cells of ``base``; tasks and qualities it omits stay."""
    merged: QualityMap = {task: dict(cells) for task, cells in base.items()}
    for task, cells in override.items():
        merged.setdefault(task, {}).update(cells)
    return merged


def pipeline_for(quality_map: QualityMap, *, task: str, quality: Quality) -> PipelineChoice | None:
    """The map's cell for ``task`` at ``quality``; None when the map has no such cell."""
    return quality_map.get(task, {}).get(quality)
