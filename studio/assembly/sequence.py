"""The Assembler's inputs -> a :class:`~studio.assembly.model.Sequence` (pure, no I/O).

:func:`compile_sequence` takes the canvas JSON (``Graph.to_json()``) and a
:class:`~studio.assembly.model.SequenceInputs` the resolver made from the project (media
facts by node id, EDL texts). Its rules:

* **Order.** The nodes connected to the Assembler's ``clips`` input, in the order of its
  ``order`` field (node ids the user arranges); connected nodes it does not list follow in
  the order they were connected, listed nodes no longer connected are ignored (a warning).
  A Scene group connected as a whole contributes its shots (at any depth) in (scene, shot)
  order, each through the post nodes after it inside the group.
* **What a clip shows.** A Shot's active take, or the output of the last post node after it
  (``Shot -> Video restoration -> Super resolution -> Assembler``). A post node whose output
  is not made yet leaves the clip on the newest media upstream, with the steps to run listed
  in ``Clip.pending`` (the render runs them first; an EDL export refuses).
* **Per clip** (the Assembler's ``clip_settings[node id]``, see :class:`ClipSettings`; the id
  of the node connected to Clips, or for a Scene group's shot that shot's own, or its last
  post node's): trim in/out or duration (frames or source timecode), handles, an overlay, a
  transition into the next clip. Untrimmed, a clip runs to its media's end, less the frames
  a dissolve out of it plays under the next clip (its tail handle). An image lasts
  ``duration`` or the Assembler's ``still_duration``.
* **Audio.** Each clip's own sound on A1, cut with its picture; each Audio node on the
  ``music`` input as a bed on A1 or A2 (``music_settings[node id]``, :class:`MusicSettings`),
  on the first of A2, A1 where it overlaps nothing unless a track is given.
* **Sequence in.** An EDL on ``Sequence in`` is the edit as given (read by
  :func:`studio.assembly.edl.sequence_from_edl`); with clips connected too, it is refused.

Everything that does not make a sequence is a :class:`SequenceError` naming the node and
what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from studio.assembly import edl
from studio.assembly.model import (
    AUDIO_TRACKS,
    DEFAULT_POSITION,
    AudioClip,
    AudioTrack,
    Clip,
    Media,
    Overlay,
    OverlayStyle,
    Position,
    PostStep,
    Sequence,
    SequenceInputs,
    Transition,
    frame_size,
)
from studio.assembly.timecode import FrameRate, TimecodeError, frame_rate
from studio.errors import SequenceError
from studio.graph.builtin_types import (
    AUDIO,
    POST_TYPES,
    SCENE_GROUP,
    SHOT,
    VSE_ASSEMBLER,
)
from studio.graph.builtin_types import EDL as EDL_NODE
from studio.graph.registry import NodeTypeRegistry, UnknownNodeType, registry
from studio.graph.sockets import SocketType

FrameValue = int | str
"""Frames (``48``) or timecode (``"00:00:02:00"``)."""
_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OverlaySettings(_Settings):
    text: str = Field(min_length=1)
    style: OverlayStyle = "title"
    position: Position | None = None
    """None: the style's own (a title centred, a lower third bottom left)."""
    start: FrameValue = 0
    """From the clip's first frame."""
    duration: FrameValue | None = None
    """None: to the clip's end."""


class TransitionSettings(_Settings):
    kind: Literal["cut", "dissolve"] = "cut"
    frames: int = Field(default=12, ge=1, le=999)


class ClipSettings(_Settings):
    """One clip's settings, ``clip_settings[node id]`` on the Assembler."""

    trim_in: FrameValue | None = None
    trim_out: FrameValue | None = None
    """Exclusive, like an EDL's source out."""
    duration: FrameValue | None = None
    """Instead of ``trim_out``; for an image, how long it shows."""
    handles: int = Field(default=0, ge=0, le=100_000)
    overlay: OverlaySettings | None = None
    transition: TransitionSettings | None = None
    """Into the next clip."""


class MusicSettings(_Settings):
    """One Audio node's bed, ``music_settings[node id]`` on the Assembler."""

    track: AudioTrack | None = None
    level_db: float = Field(default=0.0, ge=-96.0, le=12.0)
    start: FrameValue = 0
    """Where it starts, from the sequence's first frame."""
    trim_in: FrameValue = 0
    """Where in the file it starts."""
    duration: FrameValue | None = None
    """None: to the file's end or the sequence's, whichever comes first."""


class AssemblerSettings(BaseModel):
    """The Assembler node's fields (defaults from the registry)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    title: str | None = ""
    frame_rate: str = "24"
    resolution: str = "1080p"
    start_timecode: str = "01:00:00:00"
    still_duration: float = Field(default=4.0, gt=0)
    order: list[str] | None = None
    clip_settings: dict[str, dict[str, Any]] | None = None
    music_settings: dict[str, dict[str, Any]] | None = None


# --- the graph, as the compiler reads it -----------------------------------------------------


@dataclass(frozen=True)
class _Node:
    id: str
    type: str
    data: Mapping[str, Any]
    parent_id: str | None


@dataclass(frozen=True)
class _Edge:
    source: str
    source_handle: str
    target: str
    target_handle: str


@dataclass
class _GraphView:
    nodes: dict[str, _Node]
    edges: list[_Edge]
    node_types: NodeTypeRegistry

    @classmethod
    def of(cls, graph: Mapping[str, Any], node_types: NodeTypeRegistry) -> _GraphView:
        raw_nodes, raw_edges = graph.get("nodes"), graph.get("edges")
        if not isinstance(raw_nodes, list) or not isinstance(raw_edges, list):
            raise SequenceError("the canvas has no nodes/edges lists")
        nodes: dict[str, _Node] = {}
        for raw in raw_nodes:
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                raise SequenceError(f"the canvas has a node without an id: {raw!r}")
            data = raw.get("data")
            parent = raw.get("parentId")
            nodes[raw["id"]] = _Node(
                id=raw["id"],
                type=str(raw.get("type")),
                data=data if isinstance(data, dict) else {},
                parent_id=parent if isinstance(parent, str) else None,
            )
        keys = ("source", "sourceHandle", "target", "targetHandle")
        edges = [
            _Edge(*(str(raw[k]) for k in keys))
            for raw in raw_edges
            if isinstance(raw, dict) and all(isinstance(raw.get(k), str) for k in keys)
        ]
        return cls(nodes, edges, node_types)

    def node(self, node_id: str) -> _Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise SequenceError(
                f"an edge names node {node_id!r}, which is not in the canvas"
            ) from None

    def into(self, node_id: str, socket: str) -> list[_Edge]:
        """Edges into ``node_id``'s input ``socket``, in the order they were made."""
        return [e for e in self.edges if e.target == node_id and e.target_handle == socket]

    def out_of(self, node_id: str) -> list[_Edge]:
        return [e for e in self.edges if e.source == node_id]

    def descendants(self, group_id: str) -> list[_Node]:
        found, pending, seen = [], [group_id], {group_id}
        while pending:
            current = pending.pop()
            for node in self.nodes.values():
                if node.parent_id == current and node.id not in seen:
                    seen.add(node.id)
                    found.append(node)
                    pending.append(node.id)
        return found

    def label(self, node_id: str) -> str:
        """``Shot 'shot-1' (scene 1, shot 10)``: how refusals name a node."""
        node = self.nodes.get(node_id)
        if node is None:
            return repr(node_id)
        try:
            type_label = self.node_types.get(node.type).label
        except UnknownNodeType:
            type_label = node.type
        where = ""
        if node.type == SHOT:
            where = f" (scene {node.data.get('scene')}, shot {node.data.get('shot')})"
        return f"{type_label} {node_id!r}{where}"

    def defaults(self, type_name: str) -> dict[str, Any]:
        try:
            return self.node_types.get(type_name).defaults()
        except UnknownNodeType:
            return {}

    def input_types(self, type_name: str, socket: str) -> tuple[SocketType, ...]:
        spec = self.node_types.get(type_name).input(socket)
        return spec.types if spec is not None else ()


# --- what the resolver must look up ----------------------------------------------------------


@dataclass(frozen=True)
class Needs:
    """The nodes upstream of an Assembler whose media (or EDL text) the resolver finds."""

    assembler_id: str
    shots: tuple[str, ...] = ()
    posts: tuple[str, ...] = ()
    audio: tuple[str, ...] = ()
    edls: tuple[str, ...] = ()


def needed_inputs(
    graph: Mapping[str, Any],
    *,
    assembler_id: str | None = None,
    node_types: NodeTypeRegistry = registry,
) -> Needs:
    """Which nodes :func:`compile_sequence` will ask :class:`SequenceInputs` about: all
    nodes upstream of the Assembler (through Scene groups' members), by kind."""
    view = _GraphView.of(graph, node_types)
    assembler = _assembler(view, assembler_id)
    seen: set[str] = set()
    pending = [assembler.id]
    while pending:
        current = pending.pop()
        if current in seen or current not in view.nodes:
            continue
        seen.add(current)
        pending += [e.source for e in view.edges if e.target == current]
        if view.nodes[current].type == SCENE_GROUP:
            pending += [n.id for n in view.descendants(current)]
    by_type: dict[str, list[str]] = {}
    for node_id in sorted(seen):
        node_type = view.nodes[node_id].type
        kind = "post" if node_type in POST_TYPES else node_type
        by_type.setdefault(kind, []).append(node_id)
    return Needs(
        assembler_id=assembler.id,
        shots=tuple(by_type.get(SHOT, ())),
        posts=tuple(by_type.get("post", ())),
        audio=tuple(by_type.get(AUDIO, ())),
        edls=tuple(by_type.get(EDL_NODE, ())),
    )


def assembler_ids(graph: Mapping[str, Any]) -> list[str]:
    """The ids of the canvas's Assembler nodes."""
    return [n["id"] for n in graph.get("nodes", []) if n.get("type") == VSE_ASSEMBLER]


def _assembler(view: _GraphView, assembler_id: str | None) -> _Node:
    if assembler_id is not None:
        node = view.nodes.get(assembler_id)
        if node is None or node.type != VSE_ASSEMBLER:
            raise SequenceError(
                f"there is no Assembler {assembler_id!r} in the canvas", node_id=assembler_id
            )
        return node
    found = [n for n in view.nodes.values() if n.type == VSE_ASSEMBLER]
    if not found:
        raise SequenceError(
            "the canvas has no Assembler",
            hint="add a VSE Assembler node and connect your shots to its Clips input",
        )
    if len(found) > 1:
        names = ", ".join(repr(n.id) for n in found)
        raise SequenceError(
            f"the canvas has {len(found)} Assemblers ({names})",
            hint="say which one: project.sequence(assembler=ID)",
        )
    return found[0]


# --- compilation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """One clip of the edit before timing: the node that supplies it and its chain."""

    key: str
    """The node whose settings apply (connected to the Assembler, or a group's member)."""
    shot: _Node
    posts: tuple[_Node, ...]


@dataclass
class _Build:
    view: _GraphView
    inputs: SequenceInputs
    assembler: _Node
    settings: AssemblerSettings
    rate: FrameRate
    warnings: list[str] = field(default_factory=list)


def compile_sequence(
    graph: Mapping[str, Any],
    inputs: SequenceInputs,
    *,
    assembler_id: str | None = None,
    node_types: NodeTypeRegistry = registry,
) -> Sequence:
    """The sequence of the Assembler ``assembler_id`` (the canvas's only one by default);
    see the module doc for the rules. Pure: the same arguments give the same sequence."""
    view = _GraphView.of(graph, node_types)
    assembler = _assembler(view, assembler_id)
    raw = {**view.defaults(VSE_ASSEMBLER), **assembler.data}
    settings = _validated(AssemblerSettings, raw, view, assembler.id, "settings")
    rate = _checked(lambda: frame_rate(settings.frame_rate), view, assembler.id, "frame_rate")
    start = _checked(
        lambda: rate.frames(settings.start_timecode, what="start timecode"),
        view,
        assembler.id,
        "start_timecode",
    )
    short_side = _short_side(settings.resolution, view, assembler.id)
    width, height = frame_size(inputs.aspect_ratio, short_side)
    title = (settings.title or "").strip() or inputs.title
    build = _Build(view, inputs, assembler, settings, rate)

    sequence_in = view.into(assembler.id, "sequence")
    clips_in = view.into(assembler.id, "clips")
    if sequence_in and clips_in:
        raise SequenceError(
            f"{view.label(assembler.id)} has both an EDL on Sequence in and clips connected",
            node_id=assembler.id,
            hint="an EDL is rendered as given: disconnect either the EDL or the clips",
        )
    if sequence_in:
        return _from_edl(build, sequence_in[0].source, title=title, size=(width, height))
    if not clips_in:
        raise SequenceError(
            f"{view.label(assembler.id)} has nothing connected",
            node_id=assembler.id,
            hint="connect Shots (or a Scene group) to its Clips input, or an EDL to Sequence in",
        )
    entries = [entry for node_id in _ordered(build, clips_in) for entry in _entries(build, node_id)]
    clips = _clips(build, entries)
    audio = _sync_audio(clips) + _music(build, clips)
    sequence = Sequence(
        title=title,
        frame_rate=rate,
        width=width,
        height=height,
        clips=tuple(clips),
        audio=(),
        start=start,
        assembler_id=assembler.id,
        origin="graph",
        warnings=tuple(build.warnings),
    )
    return _with_reels(sequence, audio)


def _validated(model: type[_M], raw: Any, view: _GraphView, node_id: str, what: str) -> _M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SequenceError(
            f"{view.label(node_id)}: its {what} do not read ({problems})", node_id=node_id
        ) from None


def _checked(make: Callable[[], _T], view: _GraphView, node_id: str, what: str) -> _T:
    try:
        return make()
    except TimecodeError as exc:
        raise SequenceError(
            f"{view.label(node_id)}: {what}: {exc.message}", node_id=node_id, hint=exc.hint
        ) from None


def _short_side(resolution: str, view: _GraphView, node_id: str) -> int:
    text = resolution.strip().lower().removesuffix("p")
    if not text.isdigit() or not 16 <= int(text) <= 8640:
        raise SequenceError(
            f"{view.label(node_id)}: resolution {resolution!r} is not like 1080p",
            node_id=node_id,
        )
    return int(text)


def _ordered(build: _Build, edges: list[_Edge]) -> list[str]:
    connected = list(dict.fromkeys(e.source for e in edges))
    order = build.settings.order or []
    for node_id in order:
        if node_id not in connected:
            build.warnings.append(
                f"the clip order lists {node_id!r}, which is not connected to Clips (ignored)"
            )
    listed = [node_id for node_id in order if node_id in connected]
    return listed + [node_id for node_id in connected if node_id not in listed]


def _entries(build: _Build, node_id: str) -> list[_Entry]:
    view = build.view
    node = view.node(node_id)
    if node.type == SCENE_GROUP:
        members = [n for n in view.descendants(node.id) if n.type == SHOT]
        if not members:
            raise SequenceError(
                f"{view.label(node.id)} is connected to the Assembler but holds no Shot",
                node_id=node.id,
                hint="put Shot nodes inside the scene, or disconnect it",
            )
        members.sort(
            key=lambda n: (_number(n.data.get("scene")), _number(n.data.get("shot")), n.id)
        )
        inside = {n.id for n in view.descendants(node.id)}
        return [_group_member(build, shot, inside) for shot in members]
    shot, posts = _chain(build, node)
    return [_Entry(key=node.id, shot=shot, posts=posts)]


def _number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _chain(build: _Build, end: _Node) -> tuple[_Node, tuple[_Node, ...]]:
    """Walk up from the node connected to the Assembler to its Shot, through post nodes."""
    view = build.view
    posts: list[_Node] = []
    seen = {build.assembler.id}
    node = end
    while node.type in POST_TYPES:
        if node.id in seen:
            path = " -> ".join(repr(n.id) for n in reversed(posts))
            raise SequenceError(
                f"the post chain {path} is a cycle", node_id=node.id, hint="remove one of its edges"
            )
        seen.add(node.id)
        posts.append(node)
        upstream = view.into(node.id, "input")
        if not upstream:
            raise SequenceError(
                f"{view.label(node.id)} has nothing upstream",
                node_id=node.id,
                hint="connect a Shot (or another post node) to its Input",
            )
        node = view.node(upstream[0].source)
    if node.id in seen:
        raise SequenceError(
            f"{view.label(node.id)} feeds itself: the chain into the Assembler is a cycle",
            node_id=node.id,
            hint="remove the edge that closes the loop",
        )
    if node.type != SHOT:
        where = f"into {view.label(posts[-1].id)}" if posts else "to the Assembler's Clips"
        if node.type == SCENE_GROUP:
            hint = (
                "connect a scene's shots to a post node one by one, or the scene to the Assembler"
            )
        else:
            hint = "a clip comes from a Shot (or a post node after one): connect that instead"
        raise SequenceError(
            f"{view.label(node.id)} cannot be connected {where}", node_id=node.id, hint=hint
        )
    return node, tuple(reversed(posts))


def _group_member(build: _Build, shot: _Node, inside: set[str]) -> _Entry:
    """A group's shot, through the post nodes after it that are inside the group too."""
    view = build.view
    posts: list[_Node] = []
    current, seen = shot, {shot.id}
    while True:
        after = [
            view.nodes[e.target]
            for e in view.out_of(current.id)
            if e.target in inside
            and e.target in view.nodes
            and view.nodes[e.target].type in POST_TYPES
            and e.target_handle == "input"
        ]
        if not after:
            break
        if len(after) > 1:
            names = ", ".join(repr(n.id) for n in after)
            raise SequenceError(
                f"{view.label(current.id)} feeds {len(after)} post nodes in its scene ({names}):"
                " which one's output goes into the edit is ambiguous",
                node_id=current.id,
                hint="connect the post node you want to the Assembler directly",
            )
        current = after[0]
        if current.id in seen:
            raise SequenceError(
                f"the post chain after {view.label(shot.id)} is a cycle",
                node_id=current.id,
                hint="remove one of its edges",
            )
        seen.add(current.id)
        posts.append(current)
    return _Entry(key=current.id, shot=shot, posts=tuple(posts))


def _media_of(build: _Build, entry: _Entry) -> tuple[Media, tuple[PostStep, ...]]:
    """The newest media along the chain, and the post steps after it still to run."""
    view, inputs = build.view, build.inputs
    chain = [entry.shot, *entry.posts]
    found = [(i, inputs.media[n.id]) for i, n in enumerate(chain) if n.id in inputs.media]
    if not found:
        problem = inputs.problems.get(entry.shot.id)
        raise SequenceError(
            f"{view.label(entry.shot.id)} has no active take"
            + (f" ({problem})" if problem else ""),
            node_id=entry.shot.id,
            hint="generate it first (its Generate button, or project.generate(node))",
        )
    index, media = found[-1]
    source_kind = found[0][1].kind
    for post in entry.posts:
        accepts = view.input_types(post.type, "input")
        wanted = SocketType.IMAGE if source_kind == "image" else SocketType.VIDEO
        if wanted not in accepts:
            raise SequenceError(
                f"{view.label(post.id)} takes {' or '.join(t.lower() for t in accepts)}, but "
                f"{view.label(entry.shot.id)} gives an {source_kind} "
                f"({found[0][1].name})",
                node_id=post.id,
                hint="connect that shot to the Assembler directly, or through a post node that "
                f"takes an {source_kind}",
            )
    if media.kind not in ("video", "image"):
        raise SequenceError(
            f"{view.label(chain[index].id)} gives {media.name}, which is not a picture",
            node_id=chain[index].id,
        )
    pending = tuple(
        PostStep(node_id=n.id, node_type=n.type, settings=dict(n.data)) for n in chain[index + 1 :]
    )
    return media, pending


def _clip_settings(build: _Build, key: str) -> ClipSettings:
    raw = (build.settings.clip_settings or {}).get(key, {})
    return _validated(
        ClipSettings, raw, build.view, build.assembler.id, f"clip settings for {key!r}"
    )


def _frames(build: _Build, value: FrameValue, what: str) -> int:
    return int(
        _checked(lambda: build.rate.frames(value, what=what), build.view, build.assembler.id, what)
    )


def _clips(build: _Build, entries: list[_Entry]) -> list[Clip]:
    view, rate = build.view, build.rate
    resolved = [
        (entry, *_media_of(build, entry), _clip_settings(build, entry.key)) for entry in entries
    ]
    dissolves_out = [
        s.transition.frames if s.transition and s.transition.kind == "dissolve" else 0
        for _, _, _, s in resolved
    ]
    if dissolves_out and dissolves_out[-1]:
        build.warnings.append(
            f"{view.label(resolved[-1][0].key)} is the last clip: its dissolve into the next "
            "is ignored"
        )
        dissolves_out[-1] = 0
    clips: list[Clip] = []
    record = 0
    for index, (entry, media, pending, settings) in enumerate(resolved):
        key = entry.key
        label = view.label(key)
        tail_needed = dissolves_out[index]
        length = media.length_at(rate)
        source_in = (
            _frames(build, settings.trim_in, f"{key}: trim_in")
            if settings.trim_in is not None
            else 0
        )
        if settings.trim_out is not None and settings.duration is not None:
            raise SequenceError(
                f"{label}: give trim_out or duration, not both", node_id=build.assembler.id
            )
        if settings.trim_out is not None:
            source_out = _frames(build, settings.trim_out, f"{key}: trim_out")
        elif settings.duration is not None:
            source_out = source_in + _frames(build, settings.duration, f"{key}: duration")
        elif length is None:  # a still
            seconds = Fraction(str(build.settings.still_duration))
            source_out = source_in + max(1, round(seconds * rate.fps))
        else:
            source_out = length - tail_needed
        if length is not None and source_out > length:
            raise SequenceError(
                f"{label}: its out point {rate.timecode(source_out)} ({source_out} frames) is past"
                f" the end of {media.name} ({length} frames at {rate.label} fps)",
                node_id=build.assembler.id,
                hint=f"trim it to at most {rate.timecode(length)}",
            )
        if source_out <= source_in:
            raise SequenceError(
                f"{label}: nothing is left between its in point {rate.timecode(source_in)} and "
                f"out point {rate.timecode(source_out)}"
                + (f" once its {tail_needed}-frame dissolve takes its tail" if tail_needed else ""),
                node_id=build.assembler.id,
                hint="move the in point earlier (or the out point later), or shorten the dissolve",
            )
        tail = None if length is None else length - source_out
        if tail is not None and tail < tail_needed:
            raise SequenceError(
                f"{label}: its {tail_needed}-frame dissolve into the next clip plays "
                f"{tail_needed} frames after its out point, and {media.name} has {tail}",
                node_id=build.assembler.id,
                hint=f"set its out point {tail_needed - tail} frames earlier, or shorten the "
                "dissolve",
            )
        handles = (
            min(settings.handles, source_in),
            settings.handles if tail is None else min(settings.handles, tail),
        )
        frames = source_out - source_in
        transition_in = None
        if index > 0 and dissolves_out[index - 1]:
            transition_in = Transition(frames=dissolves_out[index - 1])
            if transition_in.frames > frames:
                raise SequenceError(
                    f"{view.label(resolved[index - 1][0].key)}: its {transition_in.frames}-frame"
                    f" dissolve is longer than the next clip ({label}, {frames} frames)",
                    node_id=build.assembler.id,
                    hint="shorten the dissolve",
                )
        clips.append(
            Clip(
                media=media,
                source_in=source_in,
                source_out=source_out,
                record_in=record,
                reel="",
                node_id=key,
                shot_id=entry.shot.id,
                transition_in=transition_in,
                overlay=_overlay(build, settings.overlay, key, frames),
                handles=handles,
                pending=pending,
                label=label,
            )
        )
        record += frames
    return clips


def _overlay(
    build: _Build, settings: OverlaySettings | None, key: str, frames: int
) -> Overlay | None:
    if settings is None:
        return None
    start = _frames(build, settings.start, f"{key}: overlay start")
    length = (
        frames - start
        if settings.duration is None
        else _frames(build, settings.duration, f"{key}: overlay duration")
    )
    if start >= frames or length <= 0 or start + length > frames:
        raise SequenceError(
            f"{build.view.label(key)}: its overlay ({start} + {length} frames) does not fit in "
            f"the clip ({frames} frames)",
            node_id=build.assembler.id,
            hint="start it earlier or make it shorter",
        )
    return Overlay(
        text=settings.text,
        style=settings.style,
        position=settings.position or DEFAULT_POSITION[settings.style],
        start=start,
        frames=length,
    )


def _sync_audio(clips: list[Clip]) -> list[AudioClip]:
    return [
        AudioClip(
            track="A1",
            media=clip.media,
            source_in=clip.source_in,
            source_out=clip.source_out,
            record_in=clip.record_in,
            reel="",
            node_id=clip.node_id,
            sync=True,
        )
        for clip in clips
        if clip.media is not None and clip.media.has_audio
    ]


def _overlaps(events: Iterable[AudioClip], track: str, start: int, end: int) -> AudioClip | None:
    return next(
        (a for a in events if a.track == track and a.record_in < end and start < a.record_out),
        None,
    )


def _music(build: _Build, clips: list[Clip]) -> list[AudioClip]:
    view, rate = build.view, build.rate
    placed = _sync_audio(clips)
    total = clips[-1].record_out if clips else 0
    beds: list[AudioClip] = []
    for node_id in dict.fromkeys(e.source for e in view.into(build.assembler.id, "music")):
        node = view.node(node_id)
        label = view.label(node_id)
        if node.type != AUDIO:
            raise SequenceError(
                f"{label} cannot be a music bed",
                node_id=node_id,
                hint="connect an Audio node (a file, or speech made from text) to Music",
            )
        media = build.inputs.media.get(node_id)
        if media is None:
            problem = build.inputs.problems.get(node_id)
            raise SequenceError(
                f"{label} has no audio" + (f" ({problem})" if problem else ""),
                node_id=node_id,
                hint="choose its audio file (in 01_Assets/Source_Media/)",
            )
        raw = (build.settings.music_settings or {}).get(node_id, {})
        settings = _validated(
            MusicSettings, raw, view, build.assembler.id, f"music settings for {node_id!r}"
        )
        start = _frames(build, settings.start, f"{node_id}: start")
        source_in = _frames(build, settings.trim_in, f"{node_id}: trim_in")
        length = media.length_at(rate) or 0
        if start >= total:
            raise SequenceError(
                f"{label} starts at {rate.timecode(start)}, after the sequence ends "
                f"({rate.timecode(total)})",
                node_id=node_id,
                hint="start it earlier (music_settings start)",
            )
        room = min(length - source_in, total - start)
        frames = (
            room
            if settings.duration is None
            else _frames(build, settings.duration, f"{node_id}: duration")
        )
        if frames <= 0 or frames > length - source_in:
            raise SequenceError(
                f"{label}: {media.name} has {max(0, length - source_in)} frames after its in point;"
                f" {frames} were asked for",
                node_id=node_id,
                hint="trim it less, or make it shorter",
            )
        frames = min(frames, total - start)
        end = start + frames
        candidates: tuple[AudioTrack, ...] = (
            (settings.track,) if settings.track else (AUDIO_TRACKS[1], AUDIO_TRACKS[0])
        )
        track = next((t for t in candidates if _overlaps(placed, t, start, end) is None), None)
        if track is None:
            clashes = []
            for candidate in candidates:
                clash = _overlaps(placed, candidate, start, end)
                what = (
                    "the shots' own sound"
                    if clash is None or clash.sync or clash.node_id is None
                    else view.label(clash.node_id)
                )
                clashes.append(f"{what} on {candidate}")
            raise SequenceError(
                f"{label} overlaps {' and '.join(clashes)} "
                f"({rate.timecode(start)}-{rate.timecode(end)})",
                node_id=node_id,
                hint="start it later or shorten it"
                + ("" if len(candidates) > 1 else ", or put it on the other track"),
            )
        bed = AudioClip(
            track=track,
            media=media,
            source_in=source_in,
            source_out=source_in + frames,
            record_in=start,
            reel="",
            level_db=settings.level_db,
            node_id=node_id,
        )
        placed.append(bed)
        beds.append(bed)
    return beds


def _with_reels(sequence: Sequence, audio: list[AudioClip]) -> Sequence:
    """Reels unique per source file (the EDL names each source by its reel)."""
    reels = edl.reel_names(
        [m.path for m in [c.media for c in sequence.clips] if m] + [a.media.path for a in audio]
    )
    clips = tuple(
        replace(c, reel=reels[c.media.path] if c.media else edl.BLACK_REEL) for c in sequence.clips
    )
    tracks = {t: i for i, t in enumerate(AUDIO_TRACKS)}
    ordered = sorted(audio, key=lambda a: (tracks[a.track], a.record_in))
    return replace(
        sequence,
        clips=clips,
        audio=tuple(replace(a, reel=reels[a.media.path]) for a in ordered),
    )


def _from_edl(build: _Build, source_id: str, *, title: str, size: tuple[int, int]) -> Sequence:
    view = build.view
    node = view.node(source_id)
    text = build.inputs.edls.get(source_id)
    if node.type != EDL_NODE or text is None:
        problem = build.inputs.problems.get(source_id)
        raise SequenceError(
            f"{view.label(source_id)} gives no EDL" + (f" ({problem})" if problem else ""),
            node_id=source_id,
            hint="choose the EDL node's file (a .edl in the project)",
        )
    try:
        sequence = edl.sequence_from_edl(
            text, frame_rate=build.rate, media=build.inputs.edl_media, title=title, size=size
        )
    except SequenceError as exc:
        raise SequenceError(
            f"{view.label(source_id)}: {exc.message}", node_id=source_id, hint=exc.hint
        ) from None
    return replace(sequence, assembler_id=build.assembler.id)
