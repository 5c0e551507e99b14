"""The engine's settings and where each comes from: ``STUDIO_*`` environment variables over
the workspace's workspace.json over the defaults (environment over configuration file, as
usual); a project's own ``project_settings`` over its workspace's where it may have one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from studio.config import load_settings
from studio.quality import QualityMap

if TYPE_CHECKING:
    from studio.project.project import Project

EngineSettingName = Literal["scheduler", "dispatch_policy"]


def engine_setting(workspace_root: Path | None, name: EngineSettingName) -> Any:
    """An engine setting: ``STUDIO_*`` when set, else the workspace's workspace.json, else the
    default (environment over configuration file, as usual)."""
    from studio.workspace import read_workspace_config

    settings = load_settings()
    if name in settings.model_fields_set or workspace_root is None:
        return getattr(settings, name)
    configured = getattr(read_workspace_config(workspace_root), name)
    return configured if configured is not None else getattr(settings, name)


def project_setting(project: Project | None, name: EngineSettingName) -> Any:
    """:func:`engine_setting` for the workspace ``project`` lives in (None: no workspace)."""
    from studio.workspace import workspace_of

    return engine_setting(workspace_of(project.path) if project else None, name)


def project_quality_map(project: Project) -> QualityMap:
    """PRD Table 4 with the overrides of the workspace the project lives in (if any)."""
    from studio.workspace import workspace_of, workspace_quality_map

    return workspace_quality_map(workspace_of(project.path))
