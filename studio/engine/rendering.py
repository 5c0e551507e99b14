"""The kernel side of ``render_final_video`` (issue 13 items 3-4): the Assembler's sequence
exported as a new EDL version, then rendered from that EDL on a CPU worker.

>>> job = project.render()          # exports 04_Project_Files/EDLs/<title>_v###.edl first
>>> film = job.result(timeout=600)   # FinalVideo: 06_Exports/<title>_v###.mp4
>>> film.path, film.edl

Refusals come before anything is written or queued: the sequence's own (a shot with no take,
... — :class:`~studio.errors.SequenceError` naming the node), a post node that cannot run
(nothing upstream), a cluster with no CPU worker (renders never take a GPU worker's slot:
:mod:`studio.engine.cluster`). A post node whose output is not made yet (or is stale) runs
first: :func:`render_after_posts`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from studio.config import load_settings
from studio.engine.cluster import cpu_slots
from studio.engine.dispatch import Dispatch, NoWorkerFits
from studio.engine.engine import Job, default_engine
from studio.engine.render_task import (
    RENDER_RESOURCES,
    RENDER_TASK,
    render_final_video,
    render_task_key,
)
from studio.engine.settling import settle
from studio.errors import InvalidInput
from studio.quality import QUALITIES, Quality

if TYPE_CHECKING:
    from studio.assembly.export import EDLExport
    from studio.assembly.model import Sequence
    from studio.engine.engine import Engine
    from studio.project.project import Project

NO_CPU_WORKER: Final = (
    "no CPU worker in the cluster: the final render runs only on workers without a GPU "
    "(they declare CPU slots), so it never takes a GPU's place"
)
WAITING_FOR_CPU_WORKER: Final = (
    "queued until the autoscaler adds a CPU worker (one declaring the Dask resource CPU)"
)
NO_CPU_WORKER_HINT: Final = (
    "start one with `studio cluster worker tcp://SCHEDULER:8786` (no --vram), or a Dask "
    "worker with --resources CPU=1"
)


class NoCPUWorker(NoWorkerFits):
    """No worker of the cluster takes CPU tasks: a render would wait for ever."""


@dataclass(frozen=True)
class FinalVideo:
    """A render's result: the film in ``06_Exports`` and the EDL (with its .otio and FCP XML)
    it was rendered from; paths absolute."""

    path: Path
    version: int
    edl: Path
    otio: Path | None
    fcp_xml: Path | None
    frames: int
    duration_s: float
    frame_rate: str
    width: int
    height: int
    render_s: float

    @classmethod
    def from_result(cls, root: Path, result: dict[str, Any]) -> FinalVideo:
        """From the task's result (project-relative paths, as ``server:task_success`` has it)."""

        def path(key: str) -> Path | None:
            value = result.get(key)
            return root / value if isinstance(value, str) else None

        return cls(
            path=root / result["output_url"],
            version=int(result["version"]),
            edl=root / result["edl"],
            otio=path("otio"),
            fcp_xml=path("fcp_xml"),
            frames=int(result["frames"]),
            duration_s=float(result["duration_s"]),
            frame_rate=str(result["frame_rate"]),
            width=int(result["width"]),
            height=int(result["height"]),
            render_s=float(result["render_s"]),
        )

    @property
    def name(self) -> str:
        return self.path.name

    def __repr__(self) -> str:
        return (
            f"<FinalVideo {self.name}: {self.frames} frames ({self.duration_s:.2f} s) at "
            f"{self.frame_rate} fps, {self.width}x{self.height}, from {self.edl.name}; "
            f"rendered in {self.render_s:.1f} s>"
        )


class RenderJob(Job):
    """One render: ``result()`` returns the :class:`FinalVideo`, ``export`` is the EDL export
    it renders, ``events`` and ``cancel()`` as for any job (a cancel stops the encoder and
    leaves no file in ``06_Exports``)."""

    def __init__(
        self,
        *,
        job_id: str,
        node_id: str,
        project: Project,
        export: EDLExport | None,
        quality: Quality,
    ) -> None:
        # The engine's bookkeeping knows jobs by their dispatch: a render's is the CPU task.
        decision = Dispatch(pipeline=RENDER_TASK, quality=quality, vram_gb=0.0)
        super().__init__(job_id=job_id, node_id=node_id, project=project, decision=decision,
                         seed=0)  # fmt: skip
        self.export = export
        """The EDL export it renders; None while it waits for post steps (the task exports
        it then: :attr:`FinalVideo.edl`)."""

    def result(self, timeout: float | None = None) -> FinalVideo:  # type: ignore[override]
        """Wait for the film (a render's result is its film, not a take). Raises ``JobFailed``
        (INPUT_INVALID for an EDL or media it refused, CANCELED, ENGINE_ERROR) or
        ``TimeoutError`` as :meth:`Job.result` does."""
        return FinalVideo.from_result(self.project.path, self._outcome(timeout))

    def __repr__(self) -> str:
        status = self._status()
        shown = status.get("output_url") if self.state == "success" else None
        detail = shown or status.get("error") or status.get("step") or ""
        return (
            f"RenderJob({self.id!r}, node={self.node_id!r}, "
            f"{self.export.edl.name if self.export else 'EDL after its post steps'}, "
            f"{self.state}{': ' + str(detail) if detail else ''})"
        )


def require_cpu_worker(engine: Engine) -> bool:
    """True when a worker of the cluster takes CPU tasks now; False when none does but an
    autoscaler is configured (``STUDIO_AUTOSCALER``: a gateway may add one on demand, so the
    render queues, as a GPU job does); else refused (``NoCPUWorker``)."""
    if cpu_slots(engine.client) > 0:
        return True
    if load_settings().autoscaler:
        return False
    raise NoCPUWorker(NO_CPU_WORKER, hint=NO_CPU_WORKER_HINT)


def submit_render(
    engine: Engine,
    project: Project,
    export: EDLExport,
    *,
    node_id: str,
    quality: Quality | None = None,
) -> RenderJob:
    """Render an EDL export on a CPU worker; returns its job at once."""
    waiting = None if require_cpu_worker(engine) else WAITING_FOR_CPU_WORKER
    return _submit(engine, project, export.sequence, node_id=node_id, quality=quality,
                   export=export, waiting=waiting)  # fmt: skip


def _submit(
    engine: Engine,
    project: Project,
    sequence: Sequence,
    *,
    node_id: str,
    quality: Quality | None,
    export: EDLExport | None,
    info: dict[str, Any] | None = None,
    waits_for: list[Job] | None = None,
    waiting: str | None = None,
    **arguments: Any,
) -> RenderJob:
    """The render task submitted: from ``export``'s files, or (None) exporting them itself
    once the jobs it ``waits_for`` are done (their futures among ``arguments``)."""
    wanted: Quality = quality or project.manifest.project_settings.quality
    job = RenderJob(job_id=uuid.uuid4().hex[:16], node_id=node_id, project=project,
                    export=export, quality=wanted)  # fmt: skip
    job.after = list(waits_for or [])  # before it runs: a crash of one of them is named
    root = project.path
    edl, otio, fcp_xml = (
        (path.relative_to(root).as_posix() for path in export.paths)
        if export is not None
        else (None, None, None)
    )
    engine.submit(
        project,
        job,
        render_final_video,
        key=render_task_key(job.id),
        info={
            "task": RENDER_TASK,
            "edl": edl,
            "quality": wanted,
            "title": sequence.title,
            **(info or {}),
        },
        resources=dict(RENDER_RESOURCES),
        waiting=waiting,
        edl=edl,
        otio=otio,
        fcp_xml=fcp_xml,
        title=sequence.title,
        frame_rate_label=sequence.frame_rate.label,
        size=(sequence.width, sequence.height),
        quality=wanted,
        **arguments,
    )
    return job


def render(
    engine: Engine,
    project: Project,
    *,
    assembler_id: str | None = None,
    quality: Quality | None = None,
) -> RenderJob:
    """The Assembler's sequence (the canvas's only one, or ``assembler_id``) exported as the
    next EDL version, then rendered from it. Refusals raise here, before anything is written:
    the sequence's (naming its node), a post node that cannot run, no CPU worker. Stale
    post nodes before a clip run first (:func:`render_after_posts`)."""
    from studio.assembly.export import export_edl
    from studio.assembly.resolve import project_sequence

    if quality is not None and quality not in QUALITIES:
        raise InvalidInput(f"quality must be one of {', '.join(QUALITIES)}, not {quality!r}")
    settle(project)
    sequence = project_sequence(project, assembler_id)
    require_cpu_worker(engine)  # before the EDL is written: a refusal leaves nothing behind
    node_id = sequence.assembler_id or assembler_id or ""
    if sequence.pending:
        return render_after_posts(engine, project, sequence, node_id=node_id, quality=quality)
    export = export_edl(project, sequence)
    return submit_render(engine, project, export, node_id=node_id, quality=quality)


def render_after_posts(
    engine: Engine,
    project: Project,
    sequence: Sequence,
    *,
    node_id: str,
    quality: Quality | None = None,
) -> RenderJob:
    """A sequence whose clips wait for post nodes: those steps (and the stale ones before
    them) are generated first, and the render is submitted at once as a task that Dask
    starts when they are done; it exports the EDL there (now naming their outputs), then
    renders it. The wait belongs to the cluster, not to this kernel or a request thread.
    A step that cannot run is refused here, before anything is queued. A step already
    generating is waited for (not run twice); only the steps started for the render are its
    ``info["after"]``, which a Cancel of the render cancels too."""
    from studio.post import post_node_ids

    graph = project.graph.to_json()
    running = {job.id for n in post_node_ids(graph) if (job := engine.running_job(project, n))}
    steps = engine.generate_pending(project, sequence.pending, quality=quality)
    waits_for = ", ".join(dict.fromkeys(f"{s.node_type} {s.node_id!r}" for s in sequence.pending))
    return _submit(
        engine, project, sequence, node_id=node_id, quality=quality, export=None,
        info={"after": [step.id for step in steps if step.id not in running]},
        waits_for=steps, waiting=f"waiting for {waits_for} to run first", graph=graph,
        after=[step.future for step in steps],
    )  # fmt: skip


def project_render(
    project: Project, quality: Quality | None = None, assembler: str | None = None
) -> RenderJob:
    """``project.render(...)``: on the kernel's default engine."""
    return render(default_engine(project), project, assembler_id=assembler, quality=quality)
