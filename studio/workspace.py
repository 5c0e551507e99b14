"""The workspace (PRD §2.1): shared ``Library/`` and the ``Projects/`` it holds."""

from __future__ import annotations

import logging
import re
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field

from studio.config import load_settings
from studio.documents import create_model, load_model, write_model
from studio.errors import InvalidInput, ManifestError, ProjectNotFound, StudioError
from studio.project.layout import MANIFEST_FILE
from studio.project.manifest import DEFAULT_ASPECT_RATIO, DEFAULT_QUALITY
from studio.project.naming import is_safe_folder_name
from studio.project.project import Project
from studio.project.scaffold import scaffold_project
from studio.quality import DEFAULT_QUALITY_MAP, Quality, QualityMap, merge_quality_map

logger = logging.getLogger(__name__)
_reported: dict[Path, tuple[str, ...]] = {}
"""Quality-map problems already logged, per workspace (see Workspace._report_quality_map)."""

WORKSPACE_FILE: Final = "workspace.json"
SCHEDULER_ADDRESS: Final = re.compile(r"^(tcp|tls|ucx|ws|wss)://[^\s/]+(:\d+)?/?$")
"""A Dask scheduler's address: a comm protocol and a host, with its port."""
PROJECTS_DIR: Final = "Projects"
LIBRARY_DIRS: Final = ("Library/Branding", "Library/Stock_Media", "Library/Pipeline_Templates")


class WorkspaceConfig(BaseModel):
    """``workspace.json``: the workspace's own settings. Unknown keys are kept."""

    model_config = ConfigDict(extra="allow")

    format: Literal["generative-media-studio/workspace"] = "generative-media-studio/workspace"
    format_version: int = 1
    quality_map: QualityMap = Field(
        default_factory=dict,
        description="cells that override PRD Table 4: {task: {quality: {pipeline, min_vram_gb}}}",
    )
    scheduler: str | None = Field(
        default=None,
        description="the team's Dask scheduler (tcp://host:8786) for this workspace's kernels; "
        "STUDIO_SCHEDULER, when set, wins",
    )
    models_dir: str = Field(
        default="Models",
        description="the shared model store (weights, outside git), relative to the workspace "
        "or absolute; STUDIO_MODELS_DIR, when set, wins",
    )
    dispatch_policy: Literal["queue", "fallback"] | None = Field(
        default=None,
        description="when no worker fits a quality: wait for one, or fall back to what fits; "
        "STUDIO_DISPATCH_POLICY, when set, wins, a project's own setting over both",
    )


@dataclass(frozen=True)
class BrokenProject:
    """A folder of ``Projects/`` whose ``project.json`` does not open: listed, never dropped."""

    path: Path
    error: str
    """What is wrong, naming the file and field (as opening it would raise)."""

    @property
    def name(self) -> str:
        return self.path.name


def is_project_folder(path: Path) -> bool:
    """Does ``path`` look like a studio project (its manifest and its git repository)?"""
    return (path / MANIFEST_FILE).is_file() and (path / ".git").exists()


def enclosing_project(path: Path) -> Path | None:
    """The project folder ``path`` is (or is inside), if any."""
    resolved = path.expanduser().resolve()
    for folder in (resolved, *resolved.parents):
        if is_project_folder(folder):
            return folder
    return None


def find_workspace(start: Path) -> Path | None:
    """The workspace ``start`` is (or is inside, e.g. a project folder), if any."""
    resolved = start.expanduser().resolve()
    for folder in (resolved, *resolved.parents):
        if (folder / WORKSPACE_FILE).is_file():
            return folder
    return None


def locate_workspace(path: Path | None) -> Path:
    """The workspace a command means: ``path`` when given, else ``STUDIO_WORKSPACE`` when
    set, else the workspace the current folder is in (a project folder's), else
    ``./workspace``."""
    if path is not None:
        return path
    settings = load_settings()
    if "workspace" in settings.model_fields_set:
        return settings.workspace
    return find_workspace(Path.cwd()) or settings.workspace


def existing_workspace(path: Path | None) -> Workspace:
    """The workspace :func:`locate_workspace` names, which must exist already (commands that
    read one never create one)."""
    chosen = locate_workspace(path)
    if not (chosen / WORKSPACE_FILE).is_file():
        raise ProjectNotFound(
            f"{chosen.expanduser().resolve()} is not a studio workspace (it has no "
            f"{WORKSPACE_FILE})",
            hint="create one with `studio init PATH`, or name yours with --workspace or "
            "STUDIO_WORKSPACE",
        )
    return Workspace(chosen)


def workspace_of(path: Path) -> Path | None:
    """The workspace folder a project folder lives in (``<ws>/Projects/<name>``), if any."""
    root = path.parent.parent
    return root if (root / WORKSPACE_FILE).is_file() else None


def read_workspace_config(root: Path | None) -> WorkspaceConfig:
    """``workspace.json`` of ``root`` (defaults when there is none)."""
    if root is None or not (root / WORKSPACE_FILE).is_file():
        return WorkspaceConfig()
    return load_model(root / WORKSPACE_FILE, WorkspaceConfig)


def workspace_quality_map(root: Path | None) -> QualityMap:
    """PRD Table 4 with the overrides of ``root``'s workspace.json (Table 4 alone for None)."""
    return merge_quality_map(DEFAULT_QUALITY_MAP, read_workspace_config(root).quality_map)


def pipeline_problems(quality_map: QualityMap) -> list[str]:
    """Sentences about the pipelines a workspace would use: pipeline folders that cannot be
    loaded, and quality-map cells naming a pipeline that is not installed (a Generate
    dispatched to such a cell fails at once with that sentence)."""
    from studio.pipelines import quality_map_problems, scan

    installed = scan()
    broken = [f"pipeline {name} cannot be loaded: {exc}" for name, exc in installed.broken.items()]
    return [*broken, *quality_map_problems(quality_map, installed=installed.pipelines)]


@dataclass(frozen=True)
class Library:
    """Shared, reusable resources (PRD §2.1)."""

    path: Path

    @property
    def branding(self) -> Path:
        return self.path / "Branding"

    @property
    def stock_media(self) -> Path:
        return self.path / "Stock_Media"

    @property
    def pipeline_templates(self) -> Path:
        return self.path / "Pipeline_Templates"


def ensure_workspace(path: Path) -> None:
    """Create what is missing; never touch what exists (idempotent, non-destructive). A new
    workspace is never made inside a project folder (a command run from a project's folder
    would otherwise scaffold ``./workspace`` into the film's repository)."""
    if path.exists() and not path.is_dir():
        raise InvalidInput(f"{path} exists and is not a folder; choose another workspace path")
    if not (path / WORKSPACE_FILE).is_file() and (project := enclosing_project(path)):
        raise InvalidInput(
            f"refusing to create a workspace at {path}: it is inside the project {project}",
            hint=f"use the project's own workspace ({project.parent.parent}) or pass another "
            "folder (--workspace / STUDIO_WORKSPACE)",
        )
    for rel in (*LIBRARY_DIRS, PROJECTS_DIR):
        (path / rel).mkdir(parents=True, exist_ok=True)
    create_model(path / WORKSPACE_FILE, WorkspaceConfig())  # no-op when it exists


class Workspace:
    """A studio workspace folder, created on first open.

    >>> ws = Workspace("~/films")  # or Workspace(): $STUDIO_WORKSPACE, the workspace the
    ...                            # current folder is in (a lab's notebook), else ./workspace
    >>> project = ws.create_project("Night Market", quality="low")
    >>> ws.open_project("Night_Market") is not None
    True
    """

    def __init__(self, path: str | Path | None = None) -> None:
        # In the lab a notebook's folder is the workspace (or inside it): not ./workspace.
        chosen = locate_workspace(Path(path) if path is not None else None)
        self.path = chosen.expanduser().resolve()
        ensure_workspace(self.path)
        self.config = load_model(self.path / WORKSPACE_FILE, WorkspaceConfig)
        self._report_quality_map()

    @property
    def projects_path(self) -> Path:
        return self.path / PROJECTS_DIR

    def connect(self, scheduler: str | None) -> None:
        """Point this workspace's kernels at a team's Dask scheduler (``tcp://host:8786``,
        ``tls://...``), or back to a local cluster with None: written to ``workspace.json``
        (atomically, under a lock, its other settings kept). Kernels connect on their next
        engine; ``STUDIO_SCHEDULER``, when set, still wins."""
        if scheduler is not None and not SCHEDULER_ADDRESS.match(scheduler):
            raise InvalidInput(
                f"{scheduler!r} is not a Dask scheduler address",
                hint="give one such as tcp://host:8786 (or tls://host:8786)",
            )
        path = self.path / WORKSPACE_FILE
        with FileLock(self.path / f".{WORKSPACE_FILE}.lock"):
            config = load_model(path, WorkspaceConfig)
            config.scheduler = scheduler
            write_model(path, config)
        self.config = config

    @property
    def library(self) -> Library:
        return Library(self.path / "Library")

    @property
    def quality_map(self) -> QualityMap:
        """PRD Table 4 with this workspace's overrides applied."""
        return merge_quality_map(DEFAULT_QUALITY_MAP, self.config.quality_map)

    def quality_map_problems(self) -> list[str]:
        """See :func:`pipeline_problems`."""
        return pipeline_problems(self.quality_map)

    def _report_quality_map(self) -> None:
        """Log the map's problems once per process and workspace (opening is frequent);
        never a reason for opening to fail."""
        try:
            problems = tuple(self.quality_map_problems())
        except StudioError as exc:  # e.g. an unreadable STUDIO_PIPELINE_DIRS folder
            problems = (f"the pipelines cannot be listed: {exc}",)
        if problems and _reported.get(self.path) != problems:
            _reported[self.path] = problems
            # One line: it lands above every canvas a notebook opens; `studio doctor` has them all.
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            logger.warning(
                "%s: %d problem(s) with the pipelines this workspace uses: %s%s; "
                "`studio doctor` lists them all",
                self.path / WORKSPACE_FILE,
                len(problems),
                problems[0],
                more,
            )

    def create_project(
        self,
        title: str,
        description: str = "",
        quality: Quality = DEFAULT_QUALITY,
        aspect_ratio: str = DEFAULT_ASPECT_RATIO,
    ) -> Project:
        """Scaffold a new project (PRD §2.2). Its folder name comes from the title; an existing
        folder is never reused (``_2``, ``_3``... is appended)."""
        root = scaffold_project(
            self.projects_path,
            title=title,
            description=description,
            quality=quality,
            aspect_ratio=aspect_ratio,
        )
        return Project(root)

    def scan_projects(self) -> tuple[list[Project], list[BrokenProject]]:
        """Every project folder: the ones that open (sorted by title) and the broken ones
        (sorted by folder), each with its error."""
        found, broken = [], []
        for folder in sorted(self.projects_path.iterdir()):
            if not (folder / MANIFEST_FILE).is_file():
                continue
            try:
                found.append(Project(folder))
            except ManifestError as exc:
                broken.append(BrokenProject(folder, str(exc)))
            except OSError as exc:  # unreadable (permissions): broken, with the reason
                broken.append(BrokenProject(folder, f"{folder / MANIFEST_FILE}: {exc}"))
        found.sort(key=lambda p: (p.title.casefold(), p.name))
        return found, broken

    def projects(self) -> list[Project]:
        """Every valid project, sorted by title. A broken one is skipped with a warning
        (:meth:`scan_projects` lists it)."""
        found, broken = self.scan_projects()
        for problem in broken:
            warnings.warn(f"skipping project: {problem.error}", stacklevel=2)
        return sorted(found, key=lambda p: (p.title.casefold(), p.name))

    def open_project(self, name_or_uuid: str | uuid.UUID) -> Project:
        """Open by folder name, uuid (text or ``uuid.UUID``), or exact title (when only one
        project has it)."""
        key = str(name_or_uuid).strip()
        if is_safe_folder_name(key) and (self.projects_path / key / MANIFEST_FILE).is_file():
            return Project(self.projects_path / key)
        candidates = self.projects()
        by_uuid = [p for p in candidates if str(p.uuid) == key.lower()]
        if by_uuid:
            return by_uuid[0]
        by_title = [p for p in candidates if p.title == key]
        if len(by_title) == 1:
            return by_title[0]
        if len(by_title) > 1:
            folders = ", ".join(p.name for p in by_title)
            raise InvalidInput(
                f"{len(by_title)} projects are titled {key!r} ({folders}); open one by folder name"
            )
        known = ", ".join(p.name for p in candidates) or "none yet"
        raise ProjectNotFound(
            f"no project {key!r} in {self.projects_path}",
            hint=f"give a folder name, uuid or title; projects here: {known}",
        )

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    def _repr_html_(self) -> str:
        from studio.project.display import workspace_html

        return workspace_html(self)
