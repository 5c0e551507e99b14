"""Generative Media Studio: a Jupyter-centric generative film workbench.

Quick tour (in a notebook, a script or a papermill run)::

    import studio

    ws = studio.Workspace("workspace")          # opens, creating it if absent
    project = ws.create_project("Night Market", description="a short", quality="low")
    take = project.new_take(scene=1, shot=10, ext="png", prompt="lanterns at dusk", seed=7)
    take.write_bytes(png_bytes)                  # fills the reserved file, exactly once
    project.commit_takes([take])                 # git commit; the PNG goes through LFS
    project.takes(scene=1, shot=10)              # the shot's render folder, scanned
    project                                      # rich display in a notebook

See README.md for the workspace, project and take contracts.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from studio.__about__ import __version__
from studio.errors import (
    GitError,
    InvalidInput,
    LFSRequired,
    ManifestError,
    ProjectNotFound,
    SequenceError,
    StudioError,
    TakeError,
    ToolMissing,
    VersionConflict,
)
from studio.project.manifest import ProjectManifest, ProjectSettings
from studio.project.project import Project, install_upper_layers
from studio.project.provenance import Provenance
from studio.project.takes import Take
from studio.quality import Quality
from studio.workspace import Library, Workspace

if TYPE_CHECKING:
    from pathlib import Path

    from distributed import Client

    from studio.assembly.export import EDLExport
    from studio.assembly.model import Sequence
    from studio.batches import BatchResult
    from studio.engine import Job, JobState
    from studio.engine.queue import Queue
    from studio.engine.rendering import RenderJob
    from studio.graph.graph import Node
    from studio.models import ModelStore
    from studio.sweeps import Sweep
    from studio.widgets.canvas import Canvas
    from studio.widgets.gallery import Gallery


def _project_canvas(project: Project, height: int, engine: bool) -> Canvas:
    from studio.widgets.canvas import project_canvas

    return project_canvas(project, height=height, engine=engine)


def _project_generate(project: Project, node: str | Node, quality: Quality | None) -> Job:
    from studio.engine import default_engine

    engine = default_engine(project)
    canvases = sys.modules.get("studio.widgets.canvas")  # loaded: canvases may be on screen
    if canvases is not None:
        canvases.follow_engine(project, engine)  # before the job starts: no event missed
    return engine.generate(project, node, quality=quality)


def _project_jobs(project: Project) -> list[JobState]:
    from studio.engine import project_jobs

    return project_jobs(project)


def _project_sequence(project: Project, assembler: str | None) -> Sequence:
    from studio.assembly.resolve import project_sequence

    return project_sequence(project, assembler)


def _project_export_edl(project: Project, assembler: str | None) -> EDLExport:
    from studio.assembly.export import export_edl
    from studio.assembly.resolve import project_sequence

    return export_edl(project, project_sequence(project, assembler))


def _project_render(project: Project, quality: Quality | None, assembler: str | None) -> RenderJob:
    from studio.engine.rendering import project_render

    return project_render(project, quality, assembler)


def _project_sweep(project: Project, shot: str | Node, **axes: Any) -> Sweep:
    from studio.engine import default_engine
    from studio.sweeps import start_sweep

    engine = default_engine(project)
    canvases = sys.modules.get("studio.widgets.canvas")
    if canvases is not None:
        canvases.follow_engine(project, engine)  # the canvas shows the cells' jobs too
    return start_sweep(project, shot, engine=engine, **axes)


def _project_queue(project: Project) -> Queue:
    from studio.engine.queue import project_queue

    return project_queue(project)


def _project_sweeps(project: Project) -> list[Sweep]:
    from studio.sweeps import project_sweeps

    return project_sweeps(project)


def batch(
    notebook: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    project: Project | str | Path | None = None,
    check: bool = True,
    cluster: bool | Client = False,
) -> BatchResult:
    """Run ``notebook`` with papermill in ``project``'s folder (default: the project the
    current folder is in), its ``parameters`` cell's values replaced; the executed notebook is
    saved to ``04_Project_Files/Batch/<name>_<UTC timestamp>.ipynb`` and committed. A failed
    cell raises :class:`studio.batches.BatchFailed` naming it (``check=False``: returned), the
    notebook saved with its error. ``cluster=True`` (or a Dask client): on a worker of the
    project's cluster. See :func:`studio.batches.run_batch`."""
    from studio.batches import batch_project, run_batch

    return run_batch(notebook, project=batch_project(project), parameters=parameters,
                     check=check, cluster=cluster)  # fmt: skip


def models(workspace: str | Path | None = None, *, project: str | Path | None = None) -> ModelStore:
    """The workspace's shared model store (``studio models`` on the command line), or the
    store of the project folder ``project``: add, list, verify, remove weights. See
    :mod:`studio.models`."""
    from studio.models import models as store

    return store(workspace, project=project)


def _sweep_gallery(sweep: Sweep) -> Gallery:
    from studio.widgets.gallery import sweep_gallery

    return sweep_gallery(sweep)


# Project's canvas/generate/jobs/sequence/export_edl/render/sweep belong to the widget, engine and
# assembly layers above studio.project: installed here, and imported lazily (`import studio`
# loads neither Dask, anywidget nor OpenTimelineIO).
install_upper_layers(
    canvas=_project_canvas,
    generate=_project_generate,
    jobs=_project_jobs,
    sequence=_project_sequence,
    export_edl=_project_export_edl,
    render=_project_render,
    sweep=_project_sweep,
    sweeps=_project_sweeps,
    gallery=_sweep_gallery,
    queue=_project_queue,
)

__all__ = [
    "GitError",
    "InvalidInput",
    "LFSRequired",
    "Library",
    "ManifestError",
    "Project",
    "ProjectManifest",
    "ProjectNotFound",
    "ProjectSettings",
    "Provenance",
    "SequenceError",
    "StudioError",
    "Take",
    "TakeError",
    "ToolMissing",
    "VersionConflict",
    "Workspace",
    "__version__",
    "batch",
    "models",
]
