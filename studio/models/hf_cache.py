"""Finding a model already downloaded into the local Hugging Face cache. Never the network:
this only reads folders ``huggingface_hub`` wrote (``models--org--name/refs/main`` names the
revision, ``snapshots/<revision>/`` holds symlinks into ``blobs/``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from studio.models.ids import ModelStoreError

DEFAULT_REVISION = "main"


@dataclass(frozen=True)
class Snapshot:
    repo: str
    revision: str
    """The commit hash the snapshot folder is named after."""
    path: Path


def cache_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """Where ``huggingface_hub`` keeps its cache, in its own order of precedence:
    ``HF_HUB_CACHE``, else ``HF_HOME/hub``, else ``$XDG_CACHE_HOME/huggingface/hub``, else
    ``~/.cache/huggingface/hub``."""
    env = os.environ if env is None else env
    if env.get("HF_HUB_CACHE"):
        return [Path(env["HF_HUB_CACHE"]).expanduser()]
    if env.get("HF_HOME"):
        return [Path(env["HF_HOME"]).expanduser() / "hub"]
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return [base.expanduser() / "huggingface" / "hub"]


def repo_folder(repo: str) -> str:
    """``black-forest-labs/FLUX.1-schnell`` -> ``models--black-forest-labs--FLUX.1-schnell``."""
    parts = repo.strip("/").split("/")
    if not 1 <= len(parts) <= 2 or any(p in ("", ".", "..") for p in parts):
        raise ModelStoreError(
            f"{repo!r} is not a Hugging Face repository id", hint="write it as ORG/NAME"
        )
    return "models--" + "--".join(parts)


def _snapshot_in(folder: Path, revision: str) -> Path | None:
    ref = folder / "refs" / revision
    commit = ref.read_text(encoding="utf-8").strip() if ref.is_file() else revision
    snapshot = folder / "snapshots" / commit
    return snapshot if snapshot.is_dir() and commit and "/" not in commit else None


def find_snapshot(
    repo: str, *, revision: str = DEFAULT_REVISION, caches: list[Path] | None = None
) -> Snapshot:
    """The downloaded snapshot of ``repo`` at ``revision`` (a branch in ``refs/`` or a commit
    hash), or a ``ModelStoreError`` saying every place it looked."""
    name = repo_folder(repo)
    looked = []
    for cache in caches if caches is not None else cache_dirs():
        folder = cache / name
        looked.append(f"{folder}/refs/{revision}")
        snapshot = _snapshot_in(folder, revision)
        if snapshot is not None:
            return Snapshot(repo=repo, revision=snapshot.name, path=snapshot)
    raise ModelStoreError(
        f"{repo} at revision {revision} is not in the local Hugging Face cache (looked for "
        f"{', '.join(looked)} and the snapshot it names); the studio never downloads",
        hint=f"download it once yourself (`huggingface-cli download {repo}`), point HF_HUB_CACHE "
        "or HF_HOME at the cache that has it, or add a folder: studio models add ID PATH",
    )
