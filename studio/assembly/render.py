"""The film: a sequence (read from its EDL) rendered with MoviePy 2 into one MP4 (I/O).

The contract the render job (``render_final_video``) calls; see :func:`render_sequence`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studio.assembly.model import Sequence
from studio.errors import SequenceError


class RenderCanceled(SequenceError):
    """The render was asked to stop; nothing was left at the output's name."""


class LFSPointerMedia(SequenceError):
    """A source is a Git LFS pointer file, not its media (a clone without ``git lfs pull``)."""


@dataclass(frozen=True)
class RenderProgress:
    """How far a render is: frames encoded of the total, and the time left (None: unknown)."""

    frames_done: int
    frames_total: int
    eta_s: float | None = None


@dataclass(frozen=True)
class RenderReport:
    """A finished render: the file written, its frame count and how long it took."""

    output: Path
    frames: int
    seconds: float


def lfs_pointer_sources(sequence: Sequence, *, root: Path) -> list[str]:
    """The sequence's sources (project-relative paths) that are Git LFS pointer files."""
    raise NotImplementedError


def render_sequence(
    sequence: Sequence,
    *,
    root: Path,
    output: Path,
    on_progress: Callable[[RenderProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> RenderReport:
    """Render ``sequence`` (its media paths relative to the project ``root``) to ``output``:
    H.264 + AAC 48 kHz, yuv420p, faststart, at the sequence's size and frame rate. Written
    to a temporary name beside ``output`` and renamed when complete; ``cancel`` set stops
    the encoder (:class:`RenderCanceled`, no file at ``output``, no ffmpeg left running).
    A source that is an LFS pointer is refused (:class:`LFSPointerMedia`) before anything
    is encoded."""
    raise NotImplementedError
