"""Request and response bodies of the REST API (PRD Table 5, adapted). The OpenAPI
description is generated from these models, so what is validated is what is documented."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from studio.project.manifest import DEFAULT_ASPECT_RATIO, DEFAULT_QUALITY, AspectRatio, Title
from studio.quality import Quality


class _Request(BaseModel):
    # Unknown keys are refused: a typo in a field name must not be silently ignored.
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests --------------------------------------------------------------------------------


class ProjectCreate(_Request):
    name: Title = Field(description="the project's title; its folder name is derived from it")
    description: str = Field(default="", max_length=10_000)
    quality: Quality = DEFAULT_QUALITY
    aspect_ratio: AspectRatio = DEFAULT_ASPECT_RATIO


class SettingsUpdate(_Request):
    """Fields left out (or null) stay as they are; ``Project.update_settings`` checks each."""

    title: Title | None = None
    description: str | None = Field(default=None, max_length=10_000)
    quality: Quality | None = None
    aspect_ratio: AspectRatio | None = None
    frame_rate: str | None = Field(default=None, description="one of choices.frame_rate")
    version: int = Field(
        ge=1, strict=True, description="the project.json version the client loaded (the lock)"
    )


class GraphSave(_Request):
    graph: dict[str, Any] = Field(description="the canvas: Svelte Flow nodes and edges")
    version: int = Field(ge=1, strict=True, description="the version the client loaded")


class GenerateShot(_Request):
    project_id: str = Field(min_length=1, description="the project's folder name")
    node_id: str = Field(min_length=1, description="a Shot node of the project's graph")
    node_data: dict[str, Any] | None = Field(
        default=None, description="fields to set on the node (saved) before generating"
    )


# --- responses -------------------------------------------------------------------------------


class Error(_Response):
    # Jupyter's own errors (403 before the studio handler runs) add "reason".
    model_config = ConfigDict(extra="allow")

    message: str
    hint: str | None = None


class Conflict(Error):
    current_version: int


class ProjectSummary(_Response):
    id: str = Field(description="the project's folder name under Projects/")
    name: str = Field(description="the project's title")
    description: str
    quality: Quality
    aspect_ratio: str
    version: int | None = Field(description="the canvas graph's version (for PUT)")
    path: str | None = Field(
        description="the project folder relative to Jupyter's root_dir (null: outside it)"
    )
    broken: Literal[False] = False


class BrokenProject(_Response):
    """A project folder whose project.json does not open: listed with why, never dropped."""

    id: str = Field(description="the project's folder name under Projects/")
    path: str | None = Field(
        description="the project folder relative to Jupyter's root_dir (null: outside it)"
    )
    broken: Literal[True] = True
    error: str = Field(description="what is wrong (the file and the field) and how to fix it")


class ProjectList(RootModel[list[ProjectSummary | BrokenProject]]):
    pass


class ProjectDetail(ProjectSummary):
    manifest: dict[str, Any]
    graph: dict[str, Any]


class SettingsChoices(_Response):
    quality: list[str]
    aspect_ratio: list[str] = Field(description="the ratios offered (any W:H is valid)")
    frame_rate: list[str]


class ProjectSettings(_Response):
    name: str = Field(description="the project's folder name")
    title: str
    description: str
    quality: Quality
    aspect_ratio: str
    frame_rate: str = Field(description="a new Assembler's frame rate")
    version: int = Field(description="project.json's version (for PATCH)")
    choices: SettingsChoices


class SaveResult(_Response):
    status: Literal["success"] = "success"
    version: int


class TaskAccepted(_Response):
    task_id: str


class ShotSummary(_Response):
    scene: int
    shot: int
    node_id: str | None = Field(default=None, description="the Shot node for this shot")
    takes: int
    active: str | None


class ShotList(RootModel[list[ShotSummary]]):
    pass


class TakeInfo(_Response):
    name: str
    version: int
    take: int
    ext: str
    ready: bool
    active: bool
    url: str = Field(description="the take file, served by the media route")
    thumbnail_url: str | None = Field(description="a small JPEG (null: not an image)")
    pipeline: str | None = None
    seed: int | None = None
    prompt: str | None = None
    error: str | None = Field(
        default=None, description="why the take is broken (its sidecar does not read); null: fine"
    )


class TakeList(_Response):
    takes: list[TakeInfo]
    active: str | None
    active_problem: str | None = Field(
        default=None,
        description="why the shot's persisted active-take choice was not used (it names a "
        "take that is not there); null: no problem",
    )


class NotebookPath(_Response):
    path: str = Field(description="the project notebook, relative to Jupyter's root_dir")
    trusted_cell: bool = Field(
        description="the notebook's cell tagged studio-canvas is exactly the generated code "
        "(canvas_source): a UI may run that cell; otherwise it must not run anything"
    )
    canvas_source: str = Field(
        description="the generated canvas cell's code (compare with the cell as opened)"
    )


class ToolCheck(_Response):
    ok: bool
    version: str | None = None
    message: str | None = Field(default=None, description="what is wrong and how to fix it")


class Status(_Response):
    version: str
    workspace: str
    git: ToolCheck
    git_lfs: ToolCheck


# --- the queue (issue 14 item 5) -------------------------------------------------------------


class QueuePause(_Request):
    paused: bool = Field(description="true: pause the project's queue; false: resume it")


class QueueCancel(_Request):
    job_id: str | None = Field(default=None, min_length=1, description="one job to cancel")
    sweep_id: str | None = Field(
        default=None, min_length=1, description="or every unfinished job of this sweep"
    )


class QueueMove(_Request):
    job_id: str = Field(min_length=1, description="a queued job, to start next")


class QueueJob(_Response):
    job_id: str
    node_id: str
    kind: str = Field(description="generate, sweep, render, or what the job log names (batch)")
    phase: Literal["running", "queued", "finished"]
    state: str
    status: str = Field(description="one line: state, progress, error, cancel requested")
    scene: int | None = None
    shot: int | None = None
    sweep_id: str | None = None
    sweep_cell: int | None = None
    step: str = ""
    progress: float = 0.0
    error: str | None = None
    submitted_at: str | None = None
    updated_at: str | None = None
    cancel_requested: bool = False
    moved_to_front: bool = False
    age: str = Field(default="", description="since it was submitted: 12 s, 4 min, 3 h")


class QueueCounts(_Response):
    running: int
    queued: int
    finished: int


class QueueView(_Response):
    paused: bool
    changed_at: str | None = None
    counts: QueueCounts
    jobs: list[QueueJob]
    message: str | None = Field(default=None, description="what an operation did")
