"""A Hugging Face cache folder laid out exactly as ``huggingface_hub`` lays it out."""

from __future__ import annotations

import hashlib
from pathlib import Path


def fake_hf_cache(cache: Path, repo: str, files: dict[str, bytes], *, revision: str) -> Path:
    """``models--org--name/{blobs/<sha256>, snapshots/<revision>/<file> -> ../../blobs/..,
    refs/main}``, as a download of ``repo`` at commit ``revision`` leaves it; the snapshot."""
    folder = cache / ("models--" + repo.replace("/", "--"))
    snapshot = folder / "snapshots" / revision
    for rel, data in files.items():
        blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snapshot / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        depth = len(Path(rel).parts) + 1  # up from snapshots/<rev>/<rel...> to the repo folder
        link.symlink_to(Path(*([".."] * depth), "blobs", blob.name))
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text(revision)  # no newline: as huggingface_hub writes it
    return snapshot
