"""A sweep made without generating: its record, real takes (PNG files, committed through LFS,
with their thumbnails) and the job log's records, as the engine writes them for jobs that ran.
For the gallery's and the contact sheet's tests and the gallery benchmark."""

from __future__ import annotations

import io
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from studio import Project
from studio.engine import jobs as job_log
from studio.project.thumbnails import make_thumbnail
from studio.sweeps import Sweep, expand, store
from studio.sweeps.cells import Axis, Mode


def picture(index: int, size: tuple[int, int] = (320, 192), *, detailed: bool = False) -> bytes:
    """A PNG whose colour says which cell it is; ``detailed``, with grain over it, so its
    JPEG thumbnail weighs what a generated picture's does (~20 kB)."""
    buffer = io.BytesIO()
    colour = (40 + (index * 53) % 200, 40 + (index * 97) % 200, 40 + (index * 31) % 200)
    image = Image.new("RGB", size, colour)
    if detailed:
        # Grain as coarse as a thumbnail's pixels: it survives the downscale.
        coarse = (max(1, size[0] // 3), max(1, size[1] // 3))
        grain = Image.merge("RGB", [Image.effect_noise(coarse, 60) for _ in range(3)])
        image = Image.blend(image, grain.resize(size), 0.5)
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def shot_node(project: Project, *, scene: int = 1, shot: int = 10) -> str:
    node = project.graph.add_node("Shot", prompt="lanterns", scene=scene, shot=shot, seed=7)
    project.graph.save()
    return node.id


def made_sweep(
    project: Project,
    axes: dict[str, list[Any]],
    *,
    mode: Mode = "product",
    failed: Collection[int] = (),
    queued: Collection[int] = (),
    node_id: str | None = None,
    size: tuple[int, int] = (320, 192),
    detailed: bool = False,
) -> Sweep:
    """A sweep of ``axes`` whose cells are done, except ``failed`` (an error in the log) and
    ``queued`` (submitted, not run yet)."""
    node_id = node_id or shot_node(project)
    node = project.graph.node(node_id)
    scene, shot = int(node.data["scene"]), int(node.data["shot"])
    axis_list = [Axis(name, tuple(values)) for name, values in axes.items()]
    cells = expand(axis_list, mode)
    record = store.SweepRecord(
        id=store.new_sweep_id(), node_id=node_id, scene=scene, shot=shot, mode=mode,
        axes=[store.AxisRecord(name=a.name, values=list(a.values)) for a in axis_list],
        cells=[store.CellRecord(index=c.index, values=dict(c.values)) for c in cells],
        seed=7, quality="low", created_at=datetime.now(UTC),
    )  # fmt: skip
    lines: list[dict[str, Any]] = []
    takes = []
    for cell, cell_record in zip(cells, record.cells, strict=True):
        job_id = f"{record.id}-{cell.index:03d}"
        cell_record.job_id = job_id
        lines.append(job_log.record(job_id=job_id, event="server:node_state_updated",
                                    payload={"node_id": node_id, "state": "queued",
                                             "task_id": job_id}))  # fmt: skip
        if cell.index in queued:
            continue
        if cell.index in failed:
            error = f"cell {cell.index}: out of VRAM"
            lines.append(job_log.record(job_id=job_id, event="server:task_failed",
                                        payload={"node_id": node_id, "task_id": job_id,
                                                 "error": error}))  # fmt: skip
            continue
        take = project.new_take(scene=scene, shot=shot, ext="png", pipeline="t2i-draft",
                                prompt=cell.prompt or "lanterns", seed=cell.seed or 7,
                                inputs=cell.inputs, job_id=job_id)  # fmt: skip
        take.write_bytes(picture(cell.index, size, detailed=detailed))
        make_thumbnail(project.path, take)  # as the worker does
        takes.append(take)
        lines.append(job_log.record(job_id=job_id, event="server:task_success",
                                    payload={"node_id": node_id, "task_id": job_id,
                                             "result": {"output_url": take.name,
                                                        "take": take.name}}))  # fmt: skip
    if takes:
        project.commit_takes(takes)
    job_log.append_many(project.path, lines)
    store.save(project.path, record)
    store.commit(project.path, record)
    return Sweep(project, record)
