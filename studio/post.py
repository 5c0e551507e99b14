"""The post nodes (Video restoration, Super resolution): what each runs on, with which
pipeline and settings, and which of its outputs is *current*.

A post node runs its pipeline on its upstream output: the active take of the Shot before it,
or the current output of the post node before it (``Shot -> Video restoration -> Super
resolution``). The pipeline is the node's ``pipeline_id`` field, whose default is the type's
(:data:`~studio.graph.builtin_types.POST_PIPELINES`); the node's other fields that the
pipeline declares as inputs are its settings (``scale``, ``strength``), the source file fills
the pipeline's first file input of a fitting type.

A node's **current output** is the newest of its outputs (:mod:`studio.project.outputs`)
made from its current source with its current pipeline and settings (the same creative
fingerprint), or the one its ``active_output`` field picks among those. When the upstream
active take, the upstream node's current output, the pipeline or a setting changes, the
node has no current output (it is *stale*) until it is generated again. The engine runs
it (:func:`studio.engine.generate`), the assembly cuts it (:mod:`studio.assembly.resolve`),
the canvas shows it (:mod:`studio.service.views`): all through :func:`post_state`.

Reading the graph is pure (:func:`resolve_post`); :func:`post_state` reads the render folder.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from studio.errors import InvalidInput, StudioError
from studio.graph.builtin_types import POST_KINDS, POST_PIPELINES, POST_TYPES, SHOT
from studio.graph.registry import UnknownNodeType, registry
from studio.graph.sockets import SocketType
from studio.pipelines import MEDIA_EXTENSIONS, Pipeline, PipelineNotFound, discover, find_pipeline
from studio.project.outputs import PostOutput, list_outputs, post_fingerprint

if TYPE_CHECKING:
    from studio.project.project import Project
    from studio.project.takes import Take

INPUT_SOCKET: Final = "input"
"""The post nodes' one input socket."""
NOT_SETTINGS: Final = frozenset({"pipeline_id", "active_output"})
"""Post node fields that are not pipeline settings."""


@dataclass(frozen=True)
class PostInputs:
    """A post node as the graph says (nothing read from disk)."""

    node_id: str
    node_type: str
    label: str
    """How messages name it: "Video restoration 'n3'"."""
    kind: str
    """Its outputs' file-name tag (``restore``, ``sr``)."""
    pipeline_id: str
    data: Mapping[str, Any]
    upstream_id: str
    """The node feeding its input: the Shot, or the post node before it."""
    upstream_is_shot: bool
    upstream_label: str
    shot_id: str
    scene: int
    shot: int
    """The shot at the root of the chain (whose render folder holds the outputs)."""


def _label(node: Mapping[str, Any]) -> str:
    kind, node_id = str(node.get("type")), str(node.get("id"))
    try:
        type_label = registry.get(kind).label
    except UnknownNodeType:
        type_label = kind
    if kind == SHOT:
        data = node.get("data", {})
        shot = data.get("shot")
        number = f"SHOT-{shot:03d}" if isinstance(shot, int) else "(no shot number)"
        return f"Shot {number} ({node_id!r}, scene {data.get('scene')})"
    return f"{type_label} {node_id!r}"


def is_post(graph: Mapping[str, Any], node_id: str) -> bool:
    return any(
        n.get("id") == node_id and n.get("type") in POST_TYPES for n in graph.get("nodes", [])
    )


def resolve_post(graph: Mapping[str, Any], node_id: str) -> PostInputs:
    """Read a post node and walk its input up to the Shot at the root of its chain. Raises
    ``InvalidInput`` naming the node: not a post node, nothing upstream ("connect a shot
    first"), something upstream that is neither a Shot nor a post node, a cycle."""
    nodes = {str(n["id"]): n for n in graph.get("nodes", [])}
    node = nodes.get(node_id)
    if node is None:
        raise InvalidInput(f"no node {node_id!r} in the graph")
    if node.get("type") not in POST_TYPES:
        raise InvalidInput(f"node {node_id!r} is a {node.get('type')} node, not a post node")
    upstream_of = {
        str(e["target"]): str(e["source"])
        for e in graph.get("edges", [])
        if e.get("targetHandle") == INPUT_SOCKET and e.get("source") in nodes
    }
    current, seen = node, [node_id]
    while True:
        source_id = upstream_of.get(str(current["id"]))
        if source_id is None:
            raise InvalidInput(
                f"{_label(current)} has nothing upstream: connect a shot first (a Shot, or a "
                "post node after one, to its Input)"
            )
        source = nodes[source_id]
        if source_id in seen:
            raise InvalidInput(f"the post chain into {_label(node)} is a cycle: remove one of "
                               "its edges")  # fmt: skip
        seen.append(source_id)
        if source.get("type") == SHOT:
            break
        if source.get("type") not in POST_TYPES:
            raise InvalidInput(
                f"{_label(current)} is fed by the {source.get('type')} node {source_id!r}: a "
                "post node takes a Shot's take or another post node's output; connect one of "
                "those"
            )
        current = source
    data = dict(node.get("data", {}))
    node_type = str(node["type"])
    upstream = nodes[upstream_of[node_id]]
    shot_data = source.get("data", {})
    scene, shot = shot_data.get("scene"), shot_data.get("shot")
    if not (isinstance(scene, int) and isinstance(shot, int)):
        raise InvalidInput(f"{_label(source)} before {_label(node)} needs a scene and a shot "
                           "number: set them on the shot")  # fmt: skip
    return PostInputs(
        node_id=node_id,
        node_type=node_type,
        label=_label(node),
        kind=POST_KINDS[node_type],
        pipeline_id=str(data.get("pipeline_id") or POST_PIPELINES[node_type]),
        data=data,
        upstream_id=str(upstream["id"]),
        upstream_is_shot=upstream.get("type") == SHOT,
        upstream_label=_label(upstream),
        shot_id=source_id,
        scene=scene,
        shot=shot,
    )


# --- the pipeline's inputs (pure) -------------------------------------------------------------


def media_kind(path: Path) -> SocketType | None:
    suffix = path.suffix.lower()
    for kind in (SocketType.IMAGE, SocketType.VIDEO):
        if suffix in MEDIA_EXTENSIONS[kind]:
            return kind
    return None


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def media_input(pipeline: Pipeline, post: PostInputs, source: Path, source_label: str) -> str:
    """The pipeline input the source file fills: refused (naming the node) when the node or
    its pipeline does not take that kind of media (an image into Video restoration)."""
    kind = media_kind(source)
    spec = registry.get(post.node_type).input(INPUT_SOCKET)
    accepted = spec.types if spec is not None else ()
    what = kind.value.lower() if kind else "file"
    if kind is None or kind not in accepted:
        takes = " or ".join(t.value.lower() for t in accepted)
        still = ", or upscale the still with Super resolution" if kind == SocketType.IMAGE else ""
        raise InvalidInput(
            f"{post.label} takes {_a(takes)}, but {source_label} gives {_a(what)} "
            f"({source.name}): connect a shot that makes a video{still}"
        )
    for input_spec in pipeline.manifest.inputs:
        if input_spec.is_file and kind in input_spec.type:
            return input_spec.name
    raise InvalidInput(
        f"{post.label}: pipeline {pipeline.id!r} has no input for {_a(what)}; choose another "
        "pipeline in its Pipeline field"
    )


def post_settings(pipeline: Pipeline, data: Mapping[str, Any]) -> dict[str, Any]:
    """The node's fields the pipeline declares as (scalar) inputs: what the step is run with."""
    values: dict[str, Any] = {}
    for spec in pipeline.manifest.inputs:
        value = data.get(spec.name)
        if spec.is_file or spec.name in NOT_SETTINGS or value is None:
            continue
        if SocketType.FLOAT in spec.type and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # 2 and 2.0 are one setting (and one fingerprint)
        values[spec.name] = value
    return values


@dataclass(frozen=True)
class PostRun:
    """What one run of a post node is: its pipeline, its source and the inputs recorded."""

    post: PostInputs
    pipeline: Pipeline
    source: Take
    media_input: str
    settings: dict[str, Any]

    @property
    def recorded(self) -> dict[str, Any]:
        """The inputs as provenance (and the fingerprint) name them: the source by name."""
        return {self.media_input: self.source.name, **self.settings}

    @property
    def fingerprint(self) -> str:
        return post_fingerprint(pipeline=self.pipeline.id, inputs=self.recorded)

    def provenance(self) -> dict[str, Any]:
        """The sidecar's post fields (beside pipeline, inputs and ``source``)."""
        return {
            "post_node": self.post.node_id,
            "node_type": self.post.node_type,
            "settings": self.settings,
            "pipeline_version": self.pipeline.manifest.version,
        }


# --- on disk ----------------------------------------------------------------------------------


@dataclass
class PostState:
    """A post node's outputs as its render folder holds them now."""

    node_id: str
    label: str = ""
    """How messages name the node ("Video restoration 'n3'")."""
    post: PostInputs | None = None
    source: Take | None = None
    problem: str | None = None
    """Why the node cannot run now (nothing upstream, the upstream not generated, an image
    into Video restoration, a pipeline not installed): what a refusal says."""
    run: PostRun | None = None
    outputs: list[PostOutput] = field(default_factory=list)
    """Its ready outputs made from the current source (any settings), oldest first."""
    fresh: list[PostOutput] = field(default_factory=list)
    """Those made with the current pipeline and settings."""
    current: PostOutput | None = None

    @property
    def stale(self) -> bool:
        """Its source is there but no output matches it and the settings now."""
        return self.problem is None and self.current is None


def _ready_fresh(outputs: list[PostOutput], fingerprint: str) -> list[PostOutput]:
    fresh = []
    for output in outputs:
        with contextlib.suppress(StudioError):
            provenance = output.provenance
            if provenance is not None and provenance.creative_fingerprint == fingerprint:
                fresh.append(output)
    return fresh


def post_state(
    project: Project,
    graph: Mapping[str, Any],
    node_id: str,
    *,
    installed: dict[str, Pipeline] | None = None,
    _memo: dict[str, PostState] | None = None,
) -> PostState:
    """The node's source, outputs and current output (see the module doc); ``problem`` says
    what stands in the way when there is no source to run on."""
    memo = {} if _memo is None else _memo
    if node_id in memo:
        return memo[node_id]
    node = next((n for n in graph.get("nodes", []) if n.get("id") == node_id), None)
    state = memo[node_id] = PostState(node_id=node_id, label=_label(node) if node else "")
    try:
        post = state.post = resolve_post(graph, node_id)
    except InvalidInput as exc:
        state.problem = exc.message
        return state
    source, state.problem = _upstream(project, graph, post, installed, memo)
    if source is None:
        return state
    state.source = source
    try:
        state.run = post_run(post, source, source_label=post.upstream_label, installed=installed)
    except StudioError as exc:
        state.problem = exc.message
        return state
    state.outputs = [
        o
        for o in list_outputs(
            project.path, scene=post.scene, shot=post.shot, source=source.stem, kind=post.kind
        )
        if o.ready
    ]
    state.fresh = _ready_fresh(state.outputs, state.run.fingerprint)
    chosen = post.data.get("active_output")
    picked = next((o for o in state.fresh if o.name == chosen), None)
    state.current = picked or (state.fresh[-1] if state.fresh else None)
    return state


def post_run(
    post: PostInputs,
    source: Take,
    *,
    source_label: str,
    installed: dict[str, Pipeline] | None = None,
) -> PostRun:
    """What running ``post`` on ``source`` means (raises ``PipelineNotFound`` or
    ``InvalidInput`` naming the node)."""
    try:
        pipeline = find_pipeline(post.pipeline_id, installed=installed or discover())
    except PipelineNotFound as exc:
        raise PipelineNotFound(f"{post.label}: {exc.message}; choose another pipeline in its "
                               "Pipeline field") from None  # fmt: skip
    name = media_input(pipeline, post, source.path, source_label)
    return PostRun(post=post, pipeline=pipeline, source=source, media_input=name,
                   settings=post_settings(pipeline, post.data))  # fmt: skip


def _upstream(
    project: Project,
    graph: Mapping[str, Any],
    post: PostInputs,
    installed: dict[str, Pipeline] | None,
    memo: dict[str, PostState],
) -> tuple[Take | None, str | None]:
    if post.upstream_is_shot:
        try:
            view = project.shot_view(scene=post.scene, shot=post.shot)
        except StudioError as exc:
            return None, f"{post.upstream_label}: {exc.message}"
        if view.active is None:
            return None, (
                f"{post.upstream_label} has no take yet: generate SHOT-{post.shot:03d} first"
            )
        if not view.active.path.resolve().is_relative_to(project.path):
            return (
                None,
                f"{post.upstream_label}: its take {view.active.name} is a link out of the project",
            )
        return view.active, None
    upstream = post_state(project, graph, post.upstream_id, installed=installed, _memo=memo)
    if upstream.current is not None:
        return upstream.current, None
    if upstream.problem is not None:
        return None, upstream.problem
    return None, f"{post.upstream_label} has no current output: generate it first"


def check_runnable(project: Project, graph: Mapping[str, Any], node_id: str) -> None:
    """Refuse (``InvalidInput``, naming the node and what to do) a post node with nothing to
    run on now: nothing upstream, the upstream shot or post node not generated, an image
    into Video restoration, its pipeline not installed."""
    state = post_state(project, graph, node_id)
    if state.problem is not None:
        raise InvalidInput(state.problem)


def stale_chain(project: Project, graph: Mapping[str, Any], node_ids: list[str]) -> list[str]:
    """The post nodes among ``node_ids`` that have no current output, with the stale post
    nodes before them and those after a stale one (their source is about to be remade), in
    dependency order (each after the node it runs on), once each."""
    memo: dict[str, PostState] = {}
    ordered: list[str] = []

    def stale(node_id: str) -> bool:
        return post_state(project, graph, node_id, _memo=memo).current is None

    def add(node_id: str) -> None:
        if node_id in ordered:
            return
        post = resolve_post(graph, node_id)
        if not post.upstream_is_shot and stale(post.upstream_id):
            add(post.upstream_id)
        if post.upstream_id in ordered or stale(node_id):
            ordered.append(node_id)

    for node_id in node_ids:
        add(node_id)
    return ordered


def post_node_ids(graph: Mapping[str, Any]) -> list[str]:
    return [str(n["id"]) for n in graph.get("nodes", []) if n.get("type") in POST_TYPES]


def downstream_posts(graph: Mapping[str, Any], node_ids: set[str]) -> set[str]:
    """The post nodes fed, directly or through other post nodes, by any of ``node_ids``."""
    posts = set(post_node_ids(graph))
    found: set[str] = set()
    frontier = set(node_ids)
    while frontier:
        after = {
            str(e["target"])
            for e in graph.get("edges", [])
            if e.get("source") in frontier
            and e.get("target") in posts
            and e.get("targetHandle") == INPUT_SOCKET
        } - found
        found |= after
        frontier = after
    return found
