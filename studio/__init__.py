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

from studio.__about__ import __version__
from studio.errors import (
    GitError,
    InvalidInput,
    LFSRequired,
    ManifestError,
    ProjectNotFound,
    StudioError,
    TakeError,
    ToolMissing,
    VersionConflict,
)
from studio.project.manifest import ProjectManifest, ProjectSettings
from studio.project.project import Project
from studio.project.provenance import Provenance
from studio.project.takes import Take
from studio.workspace import Library, Workspace

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
    "StudioError",
    "Take",
    "TakeError",
    "ToolMissing",
    "VersionConflict",
    "Workspace",
    "__version__",
]
