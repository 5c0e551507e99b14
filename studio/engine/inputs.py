"""What a Shot node feeds its pipeline: read from a graph snapshot (pure), then located on
disk (the one I/O step), then matched to the pipeline's declared inputs (pure).

Media reach a shot through its input sockets:

- from an upstream **Shot** — that shot's active take (the one chosen in its dropdown, else its
  newest ready take), so "generate the still, then animate it" is two connected shots;
- from an **Asset** node — its ``preview`` file; a **MotionSource** or **Audio** node — its
  ``file``. Such paths are relative to the project folder (absolute paths are accepted when
  they stay inside the project or the workspace's ``Library/``).

A source that cannot be found fails the job with ``INPUT_INVALID`` and a sentence that names
the node and what to do, before any pipeline runs.

A post node (Video restoration, Super resolution) generates too: :func:`resolve_node` reads
either kind; what a post node runs on is :mod:`studio.post`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Final, Literal

from studio.errors import InvalidInput
from studio.graph.builtin_types import BUILTIN_TYPES, PIPELINE, SHOT
from studio.graph.sockets import SocketType, can_feed
from studio.pipelines import LATEST, MEDIA_EXTENSIONS, Manifest, Pipeline, check_value
from studio.post import PostInputs, is_post, resolve_post

MEDIA_SOCKETS: Final = ("image", "control", "audio", "character", "style")
"""The Shot's input sockets that carry files (``pipeline`` and ``prompt`` are not media)."""
FILE_FIELDS: Final[dict[str, str]] = {
    node_type.name: field.name
    for node_type in BUILTIN_TYPES
    for field in node_type.fields
    if field.kind == "file"
}
"""Node type → the field naming the file it feeds a shot (the built-in types' file fields)."""


@dataclass(frozen=True)
class MediaSource:
    """Where one media input of a shot comes from, as the graph says (nothing read yet)."""

    socket: str
    """The shot's input socket (``image``, ``control``, ...)."""
    node_id: str
    description: str
    """How a message names the source: "Shot SHOT-020 (scene 1)", "Asset 'Hero'"."""
    origin: Literal["take", "file"]
    scene: int = 0
    shot: int = 0
    """The upstream shot (origin "take")."""
    path: str = ""
    """The file as the node's field gives it (origin "file")."""


@dataclass(frozen=True)
class ShotInputs:
    """What a Shot node asks for, read from the canvas graph (``Graph.to_json()``)."""

    node_id: str
    scene: int
    shot: int
    prompt: str | None
    negative_prompt: str | None
    seed: int | None
    pipeline_id: str | None
    """From the connected Pipeline node; None: the dispatcher picks from the quality map."""
    media: tuple[MediaSource, ...] = ()


@dataclass(frozen=True)
class LocatedMedia:
    """A media source found on disk."""

    source: MediaSource
    path: Path
    reference: str
    """What provenance records: the take's name or the project-relative path."""


def _scene_shot(data: dict[str, Any]) -> tuple[int, int]:
    return int(data.get("scene", 1)), int(data.get("shot", 10))


def _media_source(socket: str, node: dict[str, Any]) -> MediaSource:
    kind, data = node.get("type"), node.get("data", {})
    node_id = str(node["id"])
    if kind == SHOT:
        scene, shot = _scene_shot(data)
        return MediaSource(
            socket=socket, node_id=node_id, origin="take", scene=scene, shot=shot,
            description=f"Shot SHOT-{shot:03d} (scene {scene})",
        )  # fmt: skip
    field = FILE_FIELDS.get(str(kind))
    name = data.get("name") or node_id
    if field is None:
        raise InvalidInput(
            f"the {socket!r} input comes from a {kind} node ({node_id}), which has no file of "
            "its own yet; connect a Shot, Asset, Motion source or Audio node instead"
        )
    path = data.get(field)
    if not path:
        raise InvalidInput(
            f"{kind} {name!r} ({node_id}) feeds the shot's {socket!r} input but has no file: "
            f"choose one in its {field!r} field"
        )
    return MediaSource(
        socket=socket, node_id=node_id, origin="file", path=str(path),
        description=f"{kind} {name!r}",
    )  # fmt: skip


def pipeline_reference(data: dict[str, Any]) -> str | None:
    """A Pipeline node's ``pipeline_id`` and ``version`` fields as one reference (``id`` or
    ``id:tag``, see :class:`studio.pipelines.PipelineRef`); None when no pipeline is chosen."""
    ident = str(data.get("pipeline_id") or "").strip()
    version = str(data.get("version") or LATEST).strip()
    if not ident:
        return None
    return ident if ":" in ident or version == LATEST else f"{ident}:{version}"


def resolve_shot(graph: dict[str, Any], node_id: str) -> ShotInputs:
    """Read a Shot node and what is connected to it. Raises ``InvalidInput`` with a readable
    message when the node is missing, not a shot, or fed by something without a file."""
    nodes = {n["id"]: n for n in graph.get("nodes", [])}
    node = nodes.get(node_id)
    if node is None:
        raise InvalidInput(f"no node {node_id!r} in the graph")
    if node.get("type") != SHOT:
        raise InvalidInput(
            f"node {node_id!r} is a {node.get('type')} node; only Shot nodes generate takes "
            "(and post nodes, outputs of them)"
        )
    data = node.get("data", {})
    prompt = data.get("prompt") or None
    pipeline_id: str | None = None
    media: list[MediaSource] = []
    for edge in graph.get("edges", []):
        if edge.get("target") != node_id or edge.get("source") not in nodes:
            continue
        source = nodes[edge["source"]]
        source_data = source.get("data", {})
        socket = edge.get("targetHandle")
        if socket == "pipeline" and source.get("type") == PIPELINE:
            pipeline_id = pipeline_reference(source_data)
        elif socket == "prompt":
            # A connected text source wins over the field typed on the shot.
            prompt = source_data.get("text") or source_data.get("prompt") or prompt
        elif socket in MEDIA_SOCKETS:
            media.append(_media_source(socket, source))
    scene, shot = _scene_shot(data)
    return ShotInputs(
        node_id=node_id,
        scene=scene,
        shot=shot,
        prompt=prompt,
        negative_prompt=data.get("negative_prompt") or None,
        seed=data.get("seed"),
        pipeline_id=pipeline_id,
        media=tuple(media),
    )


@dataclass(frozen=True)
class NodeTarget:
    """A node that generates (a Shot, or a post node) as the engine needs it: where its
    results go and which pipeline it names."""

    node_id: str
    scene: int
    shot: int
    seed: int | None
    pipeline_id: str | None
    post: PostInputs | None = None
    """Set for a post node (its chain, pipeline and settings)."""


def resolve_node(graph: dict[str, Any], node_id: str) -> NodeTarget:
    """A Shot (:func:`resolve_shot`) or a post node (:func:`studio.post.resolve_post`);
    ``InvalidInput`` for anything else, or a post node with nothing upstream."""
    if is_post(graph, node_id):
        post = resolve_post(graph, node_id)
        return NodeTarget(node_id=node_id, scene=post.scene, shot=post.shot, seed=None,
                          pipeline_id=post.pipeline_id, post=post)  # fmt: skip
    shot = resolve_shot(graph, node_id)  # says why when it is not a shot
    return NodeTarget(node_id=node_id, scene=shot.scene, shot=shot.shot, seed=shot.seed,
                      pipeline_id=shot.pipeline_id)  # fmt: skip


# --- on disk ---------------------------------------------------------------------------------


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def locate_media(project_root: Path, source: MediaSource) -> LocatedMedia:
    """Find ``source`` on disk: an upstream shot's active take, or a file inside the project
    (or the workspace's Library). Raises ``InvalidInput`` saying what is missing."""
    from studio.project.project import Project
    from studio.workspace import workspace_of

    root = project_root.resolve()
    if source.origin == "take":
        take = Project(project_root).active_take(scene=source.scene, shot=source.shot)
        if take is None:
            raise InvalidInput(
                f"{source.description} feeds this shot's {source.socket!r} input but has no "
                "take yet: generate it first"
            )
        if not take.path.resolve().is_relative_to(root):  # a symlink planted in a clone
            raise InvalidInput(f"{source.description}: its take {take.name} is a link out of "
                               "the project; remove it and generate again")  # fmt: skip
        return LocatedMedia(source=source, path=take.path, reference=take.name)
    workspace = workspace_of(root)
    roots = (root,) if workspace is None else (root, (workspace / "Library").resolve())
    given = Path(source.path).expanduser()
    full = (given if given.is_absolute() else root / given).resolve()
    if not _inside(full, roots):
        raise InvalidInput(
            f"{source.description}: {source.path!r} is outside the project and the workspace "
            "Library; copy the file into the project's 01_Assets folder and choose it there"
        )
    if not full.is_file():
        raise InvalidInput(f"{source.description}: no file {source.path!r} in the project")
    reference = full.relative_to(root).as_posix() if full.is_relative_to(root) else str(full)
    return LocatedMedia(source=source, path=full, reference=reference)


# --- matching the pipeline's inputs (pure) ---------------------------------------------------


OWN_FIELDS: Final = ("prompt", "seed")
"""Overridden by their own :class:`Overrides` fields, not through ``inputs``."""


@dataclass(frozen=True)
class Overrides:
    """Values one job uses instead of its Shot node's (a sweep cell's), the graph unchanged:
    ``prompt`` and ``seed`` replace the node's fields (a connected text node's prompt too),
    ``inputs`` set pipeline inputs the node does not (``steps``, ``width``...)."""

    prompt: str | None = None
    seed: int | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)

    def apply(self, shot: ShotInputs) -> ShotInputs:
        return shot if self.prompt is None else replace(shot, prompt=self.prompt)


def override_problems(manifest: Manifest, inputs: Mapping[str, Any]) -> list[str]:
    """Pure: why ``inputs`` cannot override the pipeline's inputs (empty when they can): an
    input it does not declare, a file input (media come through the shot's sockets), the
    prompt or seed (their own fields), a value of the wrong type or out of range."""
    declared = ", ".join(i.name for i in manifest.inputs if not i.is_file) or "none"
    problems = []
    for name, value in inputs.items():
        spec = manifest.input(name)
        if name in OWN_FIELDS:
            problems.append(f"{name!r} is overridden by its own argument, not as an input")
        elif spec is None:
            problems.append(
                f"pipeline {manifest.id!r} has no input {name!r} (its inputs: {declared})"
            )
        elif spec.is_file:
            problems.append(
                f"{name!r} is a file input of {manifest.id!r}: connect it to the shot instead"
            )
        elif problem := check_value(spec, value, files_root=None):
            problems.append(f"{name} {problem}")
    return problems


def media_type(path: Path) -> SocketType | None:
    """The media socket type a file's extension says (``.png`` → Image), None if unknown."""
    suffix = path.suffix.lower()
    for kind in (SocketType.IMAGE, SocketType.VIDEO, SocketType.AUDIO, SocketType.EDL):
        if suffix in MEDIA_EXTENSIONS[kind]:
            return kind
    return None


def assign_media(pipeline: Pipeline, media: list[LocatedMedia]) -> dict[str, LocatedMedia]:
    """Pipeline input name → the media that fills it: an input named like the shot's socket
    first, then the first free file input whose type the file can feed. Raises
    ``InvalidInput`` when a connected source fits no input of the pipeline (it would be
    silently ignored otherwise)."""
    files = [spec for spec in pipeline.manifest.inputs if spec.is_file]
    assigned: dict[str, LocatedMedia] = {}
    for item in media:
        kind = media_type(item.path)
        free = [s for s in files if s.name not in assigned]
        fits = [s for s in free if kind is not None and any(can_feed(kind, t) for t in s.type)]
        by_name = next((s for s in fits if s.name == item.source.socket), None)
        by_type = next(iter(fits), None)
        spec = by_name or by_type
        if spec is None:
            accepted = ", ".join(f"{s.name} ({'/'.join(s.type)})" for s in files) or "none"
            raise InvalidInput(
                f"{item.source.description} is connected to the {item.source.socket!r} input, "
                f"but pipeline {pipeline.id!r} has no free input for a {kind or 'file'} "
                f"(its file inputs: {accepted})"
            )
        assigned[spec.name] = item
    return assigned


def _ratio_value(text: str) -> Fraction | None:
    """``"21:9"`` or ``"2.39:1"`` as a number; None when it is not W:H."""
    try:
        width, height = (Fraction(part.strip()) for part in text.split(":"))
    except (ValueError, ZeroDivisionError):
        return None
    return width / height if width > 0 and height > 0 else None


def pipeline_aspect_ratio(pipeline: Pipeline, aspect_ratio: str) -> str:
    """Pure: how ``pipeline`` names the project's ``aspect_ratio``: itself when the pipeline
    takes any ratio, else the choice of the same value (``"239:100"`` is its ``"2.39:1"``).
    A ratio it does not list raises :class:`InvalidInput` naming the pipeline and the ratios
    it supports: a take of another shape than the project's would not cut with the others
    (the nearest ratio would crop or letterbox every take, silently)."""
    spec = pipeline.manifest.input("aspect_ratio")
    if spec is None or spec.choices is None or aspect_ratio in spec.choices:
        return aspect_ratio
    wanted = _ratio_value(aspect_ratio)
    same = [c for c in spec.choices if wanted is not None and _ratio_value(str(c)) == wanted]
    if same:
        return str(same[0])
    supported = ", ".join(str(choice) for choice in spec.choices)
    raise InvalidInput(
        f"pipeline {pipeline.id!r} cannot make the project's aspect ratio {aspect_ratio}: "
        f"it supports {supported}; change the project's aspect ratio or choose another "
        "pipeline",
        hint="project settings: the canvas toolbar, the Studio panel or "
        "Project.update_settings(aspect_ratio=...)",
    )


def pipeline_inputs(
    pipeline: Pipeline,
    shot: ShotInputs,
    *,
    seed: int,
    aspect_ratio: str | None,
    media: dict[str, LocatedMedia] | None = None,
    overrides: Overrides | None = None,
) -> dict[str, Any]:
    """Pure: the shot's values for the inputs the pipeline declares (others are left out, so
    one shot works with any pipeline); media files as absolute paths; ``overrides.inputs``
    last (they win). A missing prompt stays missing: the manifest decides whether that is
    an error (INPUT_INVALID). An aspect ratio the pipeline does not support raises
    :class:`InvalidInput` (:func:`pipeline_aspect_ratio`); a pipeline without an
    ``aspect_ratio`` input follows its own (an image-to-video one, its image's)."""
    manifest = pipeline.manifest
    values: dict[str, Any] = {}
    offered: dict[str, Any] = {
        "prompt": shot.prompt,
        "negative_prompt": shot.negative_prompt,
        "seed": seed,
        "shot_label": f"SHOT {shot.shot:03d}",
    }
    for name, value in offered.items():
        if value is not None and manifest.input(name) is not None:
            values[name] = value
    if aspect_ratio and manifest.input("aspect_ratio") is not None:
        values["aspect_ratio"] = pipeline_aspect_ratio(pipeline, aspect_ratio)
    for name, item in (media or {}).items():
        values[name] = str(item.path)
    return {**values, **(overrides.inputs if overrides else {})}
