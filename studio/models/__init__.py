"""The model store: weights are never fetched at run time.

Shared base models live in the workspace's store (``models_dir`` of ``workspace.json``,
default ``<workspace>/Models``, outside git); a project's own (LoRAs, fine-tunes) in its
``01_Assets/AI_Models`` through Git LFS. A pipeline manifest names the model ids it needs
(``"models": ["flux1-schnell"]``); the engine refuses a Generate whose models are missing
before queueing, and the runner mounts each one read-only (``/models/<id>`` in a container,
its store folder for a local process; ``studio.sdk.model_path(id)`` finds it).

Modules by role: :mod:`~studio.models.ids` (pure: ids, metadata, verify results),
:mod:`~studio.models.store` (a store's files), :mod:`~studio.models.hf_cache` (the local
Hugging Face cache, read only), :mod:`~studio.models.places` (which stores, and where).
"""

from __future__ import annotations

from pathlib import Path

from studio.models.hf_cache import Snapshot, cache_dirs, find_snapshot
from studio.models.ids import ModelMissing, ModelRecord, ModelStoreError, Problem, check_id
from studio.models.places import (
    ProjectModelStore,
    model_digests,
    project_store,
    require_models,
    resolve_models,
    workspace_models_dir,
    workspace_store,
)
from studio.models.store import ModelStore

__all__ = [
    "ModelMissing",
    "ModelRecord",
    "ModelStore",
    "ModelStoreError",
    "Problem",
    "ProjectModelStore",
    "Snapshot",
    "cache_dirs",
    "check_id",
    "find_snapshot",
    "model_digests",
    "models",
    "project_store",
    "require_models",
    "resolve_models",
    "workspace_models_dir",
    "workspace_store",
]


def models(workspace: str | Path | None = None, *, project: str | Path | None = None) -> ModelStore:
    """The workspace's shared model store (as :class:`studio.Workspace` finds the workspace),
    or the store of the project folder ``project``."""
    if project is not None:
        return project_store(Path(project))
    from studio.workspace import locate_workspace

    return workspace_store(locate_workspace(Path(workspace) if workspace else None).resolve())
