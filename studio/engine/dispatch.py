"""The dispatcher (issue 5 item 4): which pipeline serves a generation, given the GPUs there are.

Pure policy, no I/O: the caller gathers the facts (the quality map, each candidate's VRAM
need, the workers' declared VRAM, the policy) and :func:`dispatch` decides.

* The *ladder* of a request is one :class:`Option` per quality: from the quality map (PRD
  Table 4 + workspace override) when the shot names no pipeline, or the connected pipeline's
  own per-quality resources when it does.
* It fits -> run it. It does not fit on any worker:
  - no GPU anywhere and the task has a CPU draft pipeline -> the draft, with a notification
    (unless policy ``queue`` with an autoscaler, which may still bring a GPU);
  - policy ``fallback`` -> the best lower quality that fits, with a notification;
  - policy ``queue`` with an autoscaler -> queue and wait for a bigger worker;
  - otherwise -> :class:`NoWorkerFits` at once: Dask would keep such a task "no-worker"
    forever, so hanging is never the answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from studio.errors import StudioError
from studio.quality import QUALITIES, Quality, QualityMap

DispatchPolicy = Literal["queue", "fallback"]

DRAFT_PIPELINES: Final[dict[str, str]] = {
    "generate-image": "t2i-draft",
    "generate-video": "i2v-draft",
}
"""CPU stand-ins used when the cluster has no GPU at all."""


class NoWorkerFits(StudioError):
    """No worker can ever run the request (and nothing will add one): fail now, not hang."""


class NoPipeline(StudioError):
    """The quality map has no pipeline for the task."""


@dataclass(frozen=True)
class Option:
    """One rung of the ladder: the pipeline that serves a quality and its GPU memory need."""

    pipeline: str
    vram_gb: float
    description: str = ""


@dataclass(frozen=True)
class Dispatch:
    """The decision. ``quality`` is the quality actually served (lower after a fallback)."""

    pipeline: str
    quality: Quality
    vram_gb: float
    notification: str | None = None
    """Text for ``server:notification`` when the request was not served as asked."""
    waits: bool = False
    """True when no current worker fits and the job waits for the autoscaler."""


def ladder_from_map(
    quality_map: QualityMap,
    *,
    task: str,
    vram_of: Mapping[str, Mapping[Quality, float]] | None = None,
) -> dict[Quality, Option]:
    """The task's cells of the quality map. A cell's need is its ``min_vram_gb``, or the
    installed pipeline's manifest need (``vram_of[pipeline][quality]``) when that is larger."""
    cells = quality_map.get(task, {})
    ladder: dict[Quality, Option] = {}
    for quality, cell in cells.items():
        manifest_need = (vram_of or {}).get(cell.pipeline, {}).get(quality, 0.0)
        ladder[quality] = Option(
            pipeline=cell.pipeline,
            vram_gb=max(cell.min_vram_gb, manifest_need),
            description=cell.description,
        )
    return ladder


def _requested(ladder: Mapping[Quality, Option], quality: Quality) -> tuple[Quality, Option]:
    """The rung for ``quality``, else the nearest lower one, else the lowest defined (the map
    has no "standard" video cell: standard video is served by the "low" cell)."""
    order = list(QUALITIES)
    for q in reversed(order[: order.index(quality) + 1]):
        if q in ladder:
            return q, ladder[q]
    q = next(q for q in order if q in ladder)
    return q, ladder[q]


def _gb(value: float) -> str:
    return f"{value:g} GB"


def _fits(need: float, worker_vram: Sequence[float]) -> bool:
    # A CPU pipeline (need 0) runs on any worker; a GPU one needs a worker with enough VRAM.
    return need <= 0 or any(v >= need for v in worker_vram)


def dispatch(
    *,
    task: str,
    quality: Quality,
    ladder: Mapping[Quality, Option],
    worker_vram: Sequence[float],
    policy: DispatchPolicy,
    autoscaler: bool = False,
) -> Dispatch:
    """Decide which pipeline runs (see the module doc). ``worker_vram`` has one entry per
    worker (0 for a CPU-only worker)."""
    if not ladder:
        raise NoPipeline(
            f"no pipeline is configured for {task!r}",
            hint="connect a Pipeline node to the shot, or add the task to the workspace's "
            "quality_map in workspace.json",
        )
    if not worker_vram and not autoscaler:
        raise NoWorkerFits(
            "the cluster has no workers",
            hint="start one with `studio cluster worker`, or unset STUDIO_SCHEDULER to run "
            "a local cluster",
        )
    served, wanted = _requested(ladder, quality)
    if _fits(wanted.vram_gb, worker_vram):
        return Dispatch(pipeline=wanted.pipeline, quality=served, vram_gb=wanted.vram_gb)

    largest = max(worker_vram, default=0.0)
    need = f"{quality.title()} quality needs {_gb(wanted.vram_gb)}"
    may_grow = policy == "queue" and autoscaler
    draft = DRAFT_PIPELINES.get(task)
    if largest <= 0 and draft is not None and not may_grow:
        return Dispatch(
            pipeline=draft,
            quality=served,
            vram_gb=0.0,
            notification=f"{need}; no GPU worker — using the CPU draft pipeline {draft}",
        )
    if policy == "fallback":
        order = list(QUALITIES)
        for lower in reversed(order[: order.index(served)]):
            option = ladder.get(lower)
            if option is not None and _fits(option.vram_gb, worker_vram):
                label = f"{lower} ({option.description})" if option.description else lower
                return Dispatch(
                    pipeline=option.pipeline,
                    quality=lower,
                    vram_gb=option.vram_gb,
                    notification=f"{need}; no such worker — fell back to {label}",
                )
    if autoscaler:
        return Dispatch(
            pipeline=wanted.pipeline,
            quality=served,
            vram_gb=wanted.vram_gb,
            notification=f"{need}; queued until the autoscaler adds such a worker",
            waits=True,
        )
    biggest = f"the largest worker has {_gb(largest)}" if largest > 0 else "no worker has a GPU"
    raise NoWorkerFits(
        f"{need} of GPU memory ({wanted.pipeline}); {biggest} and no autoscaler is configured",
        hint="lower the quality, set dispatch_policy to 'fallback', or add a worker with "
        f"`studio cluster worker --vram {wanted.vram_gb:g}`",
    )
