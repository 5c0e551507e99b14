"""The project -> what the pure compilation needs (the I/O edge of the sequence).

:func:`sequence_inputs` finds, for the nodes upstream of an Assembler
(:func:`~studio.assembly.sequence.needed_inputs`): each Shot's active take (a scan of its
render folder), each Audio node's file, each EDL node's text and the sources that EDL names,
and probes every media file once (ffprobe when it is on PATH, else the ffmpeg of
``imageio-ffmpeg``; Pillow for images). Takes are immutable, so facts are cached by path,
size and modification time. :func:`project_sequence` then compiles.

A post node gives its *current output* (:func:`studio.post.post_state`: the newest output made
from its current source with its current pipeline and settings); without one (never run, or
stale) its clip cuts the newest media upstream and lists the step in ``Clip.pending``, which
``studio.engine.generate_pending`` runs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from PIL import Image, UnidentifiedImageError

from studio.assembly.edl import edl_sources
from studio.assembly.model import Media, MediaKind, Sequence, SequenceInputs
from studio.assembly.sequence import compile_sequence, needed_inputs
from studio.errors import InvalidInput, SequenceError
from studio.pipelines import discover
from studio.post import PostState, post_state
from studio.project.repo import LFS_POINTER_PREFIX

if TYPE_CHECKING:
    from studio.project.project import Project

IMAGE_EXTENSIONS: Final = frozenset(
    {"png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff", "exr"}
)
AUDIO_EXTENSIONS: Final = frozenset({"wav", "mp3", "flac", "aac", "ogg", "m4a", "aiff", "opus"})
PROBE_TIMEOUT_S: Final = 120
_SEARCH_SKIP: Final = frozenset({".git", "05_Cache", "06_Exports"})

_cache: dict[tuple[str, str, int, int], Media] = {}
_cache_lock = threading.Lock()


class MediaUnreadable(SequenceError):
    """A media file the sequence needs cannot be read (or is a Git LFS pointer)."""


def probe_media(path: Path, relative: str) -> Media:
    """The facts of the media file at ``path`` (``relative``: its path in the project)."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise MediaUnreadable(f"{relative}: {exc.strerror or exc}") from None
    key = (str(path), relative, stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    media = _probe(path, relative)
    with _cache_lock:
        _cache[key] = media
    return media


def _probe(path: Path, relative: str) -> Media:
    with path.open("rb") as f:
        head = f.read(len(LFS_POINTER_PREFIX))
    if head == LFS_POINTER_PREFIX:
        raise MediaUnreadable(
            f"{relative} is a Git LFS pointer, not the media (this clone has not fetched it)",
            hint=f"run: git lfs pull --include={relative!r}",
        )
    ext = path.suffix.lower().removeprefix(".")
    if ext in IMAGE_EXTENSIONS:
        try:
            with Image.open(path) as image:
                width, height = image.size
        except (UnidentifiedImageError, OSError):
            raise MediaUnreadable(f"{relative} is not a readable image") from None
        return Media(path=relative, kind="image", width=width, height=height)
    kind: MediaKind = "audio" if ext in AUDIO_EXTENSIONS else "video"
    ffprobe = shutil.which("ffprobe")
    facts = _ffprobe(ffprobe, path) if ffprobe else _ffmpeg_header(path)
    if facts is None:
        raise MediaUnreadable(f"{relative} is not a readable video or audio file")
    if kind == "video" and facts.get("width") is None:
        kind = "audio" if facts.get("has_audio") else kind
    if kind == "video":
        if facts.get("width") is None or not facts.get("fps"):
            raise MediaUnreadable(f"{relative} has no readable video stream")
        frames = facts.get("frames") or _count_frames(path)
        fps: Fraction = facts["fps"]
        return Media(
            path=relative,
            kind="video",
            frames=frames,
            fps=fps,
            duration=Fraction(frames) / fps,
            has_audio=bool(facts.get("has_audio")),
            width=facts["width"],
            height=facts["height"],
        )
    if facts.get("duration") is None:
        raise MediaUnreadable(f"{relative}: its length cannot be read")
    return Media(path=relative, kind="audio", duration=facts["duration"], has_audio=True)


def _run(args: list[str]) -> str | None:
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else (done.stderr or None)


def _fps(text: str | None) -> Fraction | None:
    if not text or text in ("0/0", "0"):
        return None
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _ffprobe(ffprobe: str, path: Path) -> dict[str, Any] | None:
    """Stream facts from ffprobe: exact rate (``24000/1001``) and frame count."""
    base = [ffprobe, "-v", "error", "-print_format", "json", "-show_streams", "-show_format"]
    out = _run([*base, str(path)])
    try:
        info = json.loads(out) if out else None
    except json.JSONDecodeError:
        info = None
    if not isinstance(info, dict):
        return None
    streams = info.get("streams", [])
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
        ),
        None,
    )
    duration = info.get("format", {}).get("duration")
    facts: dict[str, Any] = {
        "has_audio": any(s.get("codec_type") == "audio" for s in streams),
        "duration": Fraction(str(duration)) if duration not in (None, "N/A") else None,
    }
    if video is not None:
        facts["width"], facts["height"] = int(video["width"]), int(video["height"])
        facts["fps"] = _fps(video.get("avg_frame_rate")) or _fps(video.get("r_frame_rate"))
        frames = video.get("nb_frames")
        if not (isinstance(frames, str) and frames.isdigit()):
            counted = _run(
                [
                    *base[:5],
                    "-select_streams",
                    "v:0",
                    "-count_packets",
                    "-show_entries",
                    "stream=nb_read_packets",
                    str(path),
                ]
            )
            try:
                frames = json.loads(counted or "{}")["streams"][0]["nb_read_packets"]
            except (json.JSONDecodeError, KeyError, IndexError):
                frames = None
        facts["frames"] = int(frames) if isinstance(frames, str) and frames.isdigit() else None
    return facts


_DURATION: Final = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO: Final = re.compile(r"Stream #.*Video:.*?(\d{2,5})x(\d{2,5})")
_FPS: Final = re.compile(r"(\d+(?:\.\d+)?) fps")


def _ffmpeg() -> str:
    import imageio_ffmpeg

    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def _ffmpeg_header(path: Path) -> dict[str, Any] | None:
    """Stream facts from ``ffmpeg -i``'s header (no ffprobe here): a rate like ``23.98``
    is the nearest NTSC rate, the frame count comes from counting."""
    header = _run([_ffmpeg(), "-hide_banner", "-i", str(path)]) or ""
    duration = _DURATION.search(header)
    if duration is None:
        return None
    h, m, s = duration.groups()
    facts: dict[str, Any] = {
        "has_audio": "Audio:" in header,
        "duration": Fraction(int(h) * 3600 + int(m) * 60) + Fraction(s),
    }
    video, fps = _VIDEO.search(header), _FPS.search(header)
    if video is not None and fps is not None:
        facts["width"], facts["height"] = int(video.group(1)), int(video.group(2))
        facts["fps"] = _snapped(Fraction(fps.group(1)))
    return facts


_NTSC: Final = tuple(Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120))


def _snapped(fps: Fraction) -> Fraction:
    """ffmpeg's header rounds (``23.98 fps``): the whole or NTSC rate it stands for."""
    if abs(fps - round(fps)) < Fraction(1, 100):
        return Fraction(round(fps))
    nearest = min(_NTSC, key=lambda rate: abs(rate - fps))
    return nearest if abs(nearest - fps) < Fraction(1, 50) else fps.limit_denominator(1001)


def _count_frames(path: Path) -> int:
    import imageio_ffmpeg

    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    return int(frames)


# --- the project's side ------------------------------------------------------------------------


def _inside(project: Project, given: str) -> tuple[Path, str] | None:
    root = project.path.resolve()
    full = (root / given).resolve()
    if not full.is_relative_to(root) or not full.is_file():
        return None
    return full, full.relative_to(root).as_posix()


def _find_by_name(project: Project, name: str) -> tuple[Path, str] | None:
    """A file called ``name`` anywhere in the project (renders first), for an EDL's source."""
    found = _inside(project, name)
    if found is not None:
        return found
    base = Path(name).name
    matches = sorted(
        p
        for p in project.path.rglob(base)
        if p.is_file() and not _SEARCH_SKIP.intersection(p.relative_to(project.path).parts)
    )
    if not matches:
        return None
    return matches[0], matches[0].relative_to(project.path).as_posix()


def files_named_by_edl(project: Project, text: str) -> dict[str, tuple[Path, str]]:
    """Each source an EDL's comments name (see :func:`edl_sources`), found in the project:
    name -> (the file, its project-relative path). A name not found is left out: reading the
    EDL then says which event has no media."""
    found = {}
    for name in edl_sources(text):
        located = _find_by_name(project, name)
        if located is not None:
            found[name] = located
    return found


def media_named_by_edl(project: Project, text: str) -> dict[str, Media]:
    """The facts of each source an EDL names (what :func:`sequence_from_edl` cuts from),
    probed once; a Git LFS pointer raises :class:`MediaUnreadable` with the pull command."""
    return {name: probe_media(*where) for name, where in files_named_by_edl(project, text).items()}


def sequence_inputs(
    project: Project, graph: Mapping[str, Any], *, assembler_id: str | None = None
) -> SequenceInputs:
    """Everything :func:`~studio.assembly.sequence.compile_sequence` asks about, from the
    project's folders. A node without media gets a problem, said when it is refused."""
    needs = needed_inputs(graph, assembler_id=assembler_id)
    nodes = {n["id"]: n for n in graph.get("nodes", []) if isinstance(n, dict)}
    media: dict[str, Media] = {}
    problems: dict[str, str] = {}
    edls: dict[str, str] = {}
    edl_media: dict[str, Media] = {}

    def data(node_id: str) -> Mapping[str, Any]:
        value = nodes.get(node_id, {}).get("data")
        return value if isinstance(value, dict) else {}

    for node_id in needs.shots:
        scene, shot = data(node_id).get("scene"), data(node_id).get("shot")
        try:
            view = project.shot_view(scene=scene, shot=shot)  # type: ignore[arg-type]
        except InvalidInput as exc:
            problems[node_id] = exc.message
            continue
        if view.active is None:
            problems[node_id] = "no written take yet" + (
                f"; {view.active_problem}" if view.active_problem else ""
            )
            continue
        found = _inside(project, view.active.path.relative_to(project.path).as_posix())
        if found is None:
            problems[node_id] = f"its take {view.active.name} is a link out of the project"
            continue
        media[node_id] = probe_media(*found)
    memo: dict[str, PostState] = {}
    installed = discover() if needs.posts else {}
    for node_id in needs.posts:
        state = post_state(project, graph, node_id, installed=installed, _memo=memo)
        if state.current is None:
            problems[node_id] = state.problem or "its output is not made yet (or is stale)"
            continue
        found = _inside(project, state.current.path.relative_to(project.path).as_posix())
        if found is None:
            problems[node_id] = f"its output {state.current.name} is a link out of the project"
            continue
        media[node_id] = probe_media(*found)
    for node_id in needs.audio:
        file, text = data(node_id).get("file"), data(node_id).get("text")
        if not file:
            problems[node_id] = (
                "its speech is not generated yet" if text else "no audio file chosen"
            )
            continue
        found = _inside(project, str(file))
        if found is None:
            problems[node_id] = f"no file {file!r} in the project"
            continue
        media[node_id] = probe_media(*found)
    for node_id in needs.edls:
        file = data(node_id).get("file")
        found = _inside(project, str(file)) if file else None
        if found is None:
            problems[node_id] = f"no file {file!r} in the project" if file else "no file chosen"
            continue
        try:
            edls[node_id] = found[0].read_text(encoding="utf-8-sig", errors="replace")
        except OSError as exc:
            problems[node_id] = f"{found[1]}: {exc.strerror or exc}"
            continue
        edl_media.update(media_named_by_edl(project, edls[node_id]))
    settings = project.manifest.project_settings
    return SequenceInputs(
        title=project.title,
        aspect_ratio=settings.aspect_ratio,
        media=media,
        problems=problems,
        edls=edls,
        edl_media=edl_media,
    )


def project_sequence(project: Project, assembler_id: str | None = None) -> Sequence:
    """The sequence of the project's Assembler (its only one by default), from its canvas as
    edited now (unsaved edits included) and its takes as they are on disk."""
    graph = project.graph.to_json()
    inputs = sequence_inputs(project, graph, assembler_id=assembler_id)
    return compile_sequence(graph, inputs, assembler_id=assembler_id)
