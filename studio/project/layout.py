"""PRD Table 1 as data: the folders, files and git rules every project has (contract 1)."""

from __future__ import annotations

from importlib import resources
from typing import Final

MANIFEST_FILE: Final = "project.json"
CANVAS_PATH: Final = "02_Source_Creative/Canvases/main_canvas.json"
RENDERS_DIR: Final = "03_Renders"
EDLS_DIR: Final = "04_Project_Files/EDLs"
"""The versioned EDLs (with their .otio and FCP XML) the Assembler exports."""
EXPORTS_DIR: Final = "06_Exports"
"""The rendered films (``<title>_v###.mp4``): deliverables, git-ignored."""
KEEP_FILE: Final = ".gitkeep"
"""Placed in every folder of the layout so that empty folders survive a clone."""

PROJECT_DIRS: Final[tuple[str, ...]] = (
    "01_Assets",
    "01_Assets/Source_Media",
    "01_Assets/AI_Models",
    "01_Assets/Generative_Assets",
    "02_Source_Creative",
    "02_Source_Creative/Canvases",
    "02_Source_Creative/Scripts",
    RENDERS_DIR,
    "04_Project_Files",
    "04_Project_Files/Auto_Saves",
    EDLS_DIR,
    "05_Cache",
    "05_Cache/thumbnails",
    "05_Cache/control_maps",
    EXPORTS_DIR,
)

IGNORED_DIRS: Final[tuple[str, ...]] = ("05_Cache", EXPORTS_DIR)
"""Transient and deliverable folders: git-ignored, but their .gitkeep files are force-added."""

LFS_EXTENSIONS: Final[tuple[str, ...]] = (
    # images
    "png", "jpg", "jpeg", "webp", "exr", "tif", "tiff", "gif", "bmp", "dpx", "hdr", "psd",
    # video
    "mp4", "mov", "mxf", "mkv", "webm", "avi", "m4v", "prores",
    # audio
    "wav", "mp3", "flac", "aac", "ogg", "m4a", "aiff",
    # models and weights
    "safetensors", "ckpt", "pt", "pth", "bin", "onnx", "gguf", "npz", "npy",
    # archives and 3D
    "zip", "tar", "gz", "abc", "usd", "usdz", "fbx", "glb",
)  # fmt: skip


def lfs_extensions_lowercase() -> frozenset[str]:
    return frozenset(LFS_EXTENSIONS)


def template(name: str) -> str:
    """A template file shipped in ``studio/project/templates``."""
    return (resources.files("studio.project") / "templates" / name).read_text(encoding="utf-8")


def gitattributes_text() -> str:
    """The .gitattributes of a new project: every LFS extension, in both letter cases."""
    lines = [template("gitattributes.header").rstrip("\n")]
    for ext in LFS_EXTENSIONS:
        lines.append(f"*.{ext} filter=lfs diff=lfs merge=lfs -text")
        lines.append(f"*.{ext.upper()} filter=lfs diff=lfs merge=lfs -text")
    return "\n".join(lines) + "\n"


def empty_canvas() -> dict[str, object]:
    """An empty-but-valid canvas: Svelte Flow's ``nodes``/``edges`` plus the lock version."""
    return {"version": 1, "nodes": [], "edges": []}
