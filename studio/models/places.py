"""Where the model stores are, and which one holds a pipeline's model: the workspace's shared
store (base models, outside git) and a project's ``01_Assets/AI_Models`` (LoRAs, fine-tunes;
committed through Git LFS), the project's first."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from studio.config import load_settings
from studio.models.ids import METADATA_FILE, ModelMissing, ModelRecord, missing_message
from studio.models.store import ModelStore, record_digest
from studio.project import repo
from studio.workspace import read_workspace_config, workspace_of

PROJECT_MODELS_DIR: Final = "01_Assets/AI_Models"
PROJECT_SCRATCH_DIR: Final = "05_Cache/models"
"""Lock and staging of a project's store: git-ignored, on the project's filesystem."""
NO_WORKSPACE_DIR: Final = Path.home() / ".local" / "share" / "studio" / "models"
GITATTRIBUTES: Final = """\
# Every file of a project's model goes through Git LFS, whatever its extension.
* filter=lfs diff=lfs merge=lfs -text
.gitattributes -filter -diff -merge text
.gitkeep -filter -diff -merge text
models.json -filter -diff -merge text eol=lf
"""


def workspace_models_dir(workspace: Path | None) -> Path:
    """``STUDIO_MODELS_DIR``, else ``models_dir`` of the workspace's ``workspace.json``
    (relative to the workspace), else a per-user folder for a project outside a workspace."""
    settings = load_settings()
    if settings.models_dir is not None:
        return settings.models_dir.expanduser()
    if workspace is None:
        return NO_WORKSPACE_DIR
    return workspace / Path(read_workspace_config(workspace).models_dir).expanduser()


def workspace_store(workspace: Path | None) -> ModelStore:
    return ModelStore(workspace_models_dir(workspace))


class ProjectModelStore(ModelStore):
    """A project's own models: every add and remove is a commit, the weights through LFS."""

    def __init__(self, project_root: Path) -> None:
        self.project_root = project_root.expanduser().resolve()
        super().__init__(
            self.project_root / PROJECT_MODELS_DIR,
            scratch=self.project_root / PROJECT_SCRATCH_DIR,
        )

    def add(
        self,
        model_id: str,
        source: Path,
        *,
        replace: bool = False,
        link: bool = True,
        origin: str | None = None,
    ) -> ModelRecord:
        repo.require_git_and_lfs()  # before gigabytes are staged
        attributes = self._ensure_attributes()
        old = self.get(model_id)
        record = super().add(model_id, source, replace=replace, link=link, origin=origin)
        folder = self.path(model_id)
        weights = [folder / rel for rel in record.files]
        repo.commit_paths(
            self.project_root,
            [*weights, self.metadata_path, *attributes],
            message=f"{'Replace' if old else 'Add'} model {model_id}",
            lfs_required=weights,
        )
        gone = [f"{PROJECT_MODELS_DIR}/{model_id}/{rel}" for rel in (old.files if old else {})
                if rel not in record.files]  # fmt: skip
        if gone:  # a replacement without some of the old files: their removal is committed too
            self._commit_removal(gone, message=f"Model {model_id}: remove the files it replaced")
        return record

    def _commit_removal(self, rel: list[str], *, message: str) -> None:
        meta = self.metadata_path.relative_to(self.project_root).as_posix()
        with repo.commit_lock(self.project_root):
            repo.git(
                self.project_root, "rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", *rel
            )
            repo.git(self.project_root, "add", "--", meta)
            repo.git(self.project_root, "commit", "-q", "-m", message, "--", *rel, meta)

    def remove(self, model_id: str) -> ModelRecord:
        record = super().remove(model_id)
        self._commit_removal(
            [f"{PROJECT_MODELS_DIR}/{model_id}"], message=f"Remove model {model_id}"
        )
        return record

    def _ensure_attributes(self) -> list[Path]:
        """The folder's ``.gitattributes`` (routes every weight through LFS), when it is new."""
        path = self.root / ".gitattributes"
        if path.is_file():
            return []
        self.root.mkdir(parents=True, exist_ok=True)
        path.write_text(GITATTRIBUTES, encoding="utf-8")
        return [path]


def project_store(project_root: Path) -> ProjectModelStore:
    return ProjectModelStore(project_root)


def _workspace(project_root: Path | None, workspace: Path | None) -> Path | None:
    return workspace_of(project_root) if project_root is not None else workspace


def _stores(project_root: Path | None, workspace: Path | None) -> list[ModelStore]:
    """Where a job's models are looked for, in order: the project's own store, then its
    workspace's."""
    stores: list[ModelStore] = []
    if project_root is not None:
        stores.append(project_store(project_root))
    stores.append(workspace_store(_workspace(project_root, workspace)))
    return stores


def resolve_models(
    model_ids: tuple[str, ...] | list[str],
    *,
    project_root: Path | None,
    workspace: Path | None = None,
) -> tuple[dict[str, Path], list[str]]:
    """(id -> folder, ids found nowhere): a project's own store first, then its workspace's
    (``workspace``: the one meant without a project). Only presence is checked here (hashing
    gigabytes is ``verify``'s job)."""
    stores = _stores(project_root, workspace)
    found: dict[str, Path] = {}
    missing = []
    for model_id in model_ids:
        holder = next((s for s in stores if s.has(model_id)), None)
        if holder is None:
            missing.append(model_id)
        else:
            found[model_id] = holder.path(model_id)
    return found, missing


def model_digests(
    model_ids: tuple[str, ...] | list[str], *, project_root: Path | None
) -> dict[str, str]:
    """Model id -> the digest (:func:`record_digest`) of the store entry a job of
    ``project_root`` uses (its own store first, as :func:`resolve_models`); ids found nowhere
    are left out."""
    stores = _stores(project_root, None)
    digests: dict[str, str] = {}
    for model_id in model_ids:
        record = next((r for s in stores if (r := s.get(model_id)) is not None), None)
        if record is not None:
            digests[model_id] = record_digest(record)
    return digests


def require_models(
    pipeline: str,
    model_ids: tuple[str, ...] | list[str],
    *,
    project_root: Path | None,
    workspace: Path | None = None,
) -> dict[str, Path]:
    """The folders of ``pipeline``'s models, or ``ModelMissing`` naming the command that adds
    each missing one."""
    if not model_ids:
        return {}
    found, missing = resolve_models(model_ids, project_root=project_root, workspace=workspace)
    if missing:
        where = workspace_store(_workspace(project_root, workspace)).root
        raise ModelMissing(
            missing_message(pipeline, missing),
            hint=f"the studio never downloads weights at run time; shared models go into {where}"
            f" ({METADATA_FILE} lists them), a project's own with --project",
        )
    return found
