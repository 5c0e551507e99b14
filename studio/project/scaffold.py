"""New-project scaffolding, PRD §2.2 steps 1-6 in order. A failure leaves no half project."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from pydantic import ValidationError

from studio.atomic import atomic_write_bytes
from studio.documents import dump_json, write_model
from studio.errors import InvalidInput
from studio.project.layout import (
    CANVAS_PATH,
    IGNORED_DIRS,
    KEEP_FILE,
    MANIFEST_FILE,
    PROJECT_DIRS,
    empty_canvas,
    gitattributes_text,
    template,
)
from studio.project.manifest import ProjectManifest, ProjectSettings
from studio.project.naming import candidate_names
from studio.project.notebook import write_canvas_notebook
from studio.project.repo import commit_paths, init_repository, require_git_and_lfs


def new_manifest(
    *, title: str, description: str, quality: str, aspect_ratio: str
) -> ProjectManifest:
    """Validate the user's choices before anything touches the disk."""
    if not title.strip():
        raise InvalidInput("a project needs a title (it was empty)")
    try:
        return ProjectManifest(
            uuid=uuid.uuid4(),
            title=title,
            description=description,
            project_settings=ProjectSettings.model_validate(
                {"quality": quality, "aspect_ratio": aspect_ratio}
            ),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"invalid {field}: {first['msg']} (got {first['input']!r})") from None


def _make_unique_folder(projects_dir: Path, title: str) -> Path:
    """Step 1: create the folder exclusively (``mkdir`` fails if it exists: never reused)."""
    for name in candidate_names(title):
        folder = projects_dir / name
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise InvalidInput(f"too many projects are named like {title!r}; choose another title")


def scaffold_project(
    projects_dir: Path,
    *,
    title: str,
    description: str = "",
    quality: str = "standard",
    aspect_ratio: str = "16:9",
) -> Path:
    """Create a complete project under ``projects_dir`` and return its folder."""
    manifest = new_manifest(
        title=title, description=description, quality=quality, aspect_ratio=aspect_ratio
    )
    require_git_and_lfs()
    root = _make_unique_folder(projects_dir, title)
    try:
        keep_files = []
        for rel in PROJECT_DIRS:  # step 2
            (root / rel).mkdir(parents=True, exist_ok=True)
            keep = root / rel / KEEP_FILE
            keep.touch()
            keep_files.append(keep)
        write_model(root / MANIFEST_FILE, manifest)  # step 3
        atomic_write_bytes(root / CANVAS_PATH, dump_json(empty_canvas()))
        write_canvas_notebook(project_root=root, title=title)  # committed, never ignored
        atomic_write_bytes(root / ".gitignore", template("gitignore").encode())  # step 4
        atomic_write_bytes(root / ".gitattributes", gitattributes_text().encode())
        init_repository(root)  # step 5
        ignored = [k for k in keep_files if k.relative_to(root).parts[0] in IGNORED_DIRS]
        commit_paths(  # step 6
            root, [root], message=f"Create project: {title}", force_add=ignored
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root
