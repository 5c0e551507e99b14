"""What a client shows of a project besides its graph: each node's status (its jobs, from the
durable job log or followed live), each Shot's takes, active take and thumbnail, and each post
node's outputs, current output and thumbnail, read from the render folder. Pure folding plus
reads of the project; no transport.

How a client loads a file of the project depends on the front end: that is a
:data:`MediaLink`. A server client fetches everything through the studio server extension's
media route (single byte ranges: a ``<video>`` seeks). The kernel's canvas inlines a small
thumbnail as a data URL, but a video (a take, an export) is far too big for one: it is linked
through the same media route of the lab the notebook runs in, as a URL relative to the lab's
base URL (:data:`LAB_MEDIA_ROUTE`; the widget resolves it against the page's base URL). So a
video take shows its poster (the first frame, inlined) at once and plays on demand, streamed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from studio.engine import jobs as job_log
from studio.errors import StudioError
from studio.graph.builtin_types import POST_TASKS, POST_TYPES, SHOT
from studio.pipelines import Pipeline, discover
from studio.post import PostState, downstream_posts, post_state
from studio.project.layout import EDLS_DIR, EXPORTS_DIR
from studio.project.thumbnails import THUMBNAIL_DIR, VIDEO_EXTENSIONS, data_url, make_thumbnail

if TYPE_CHECKING:
    from studio.graph.graph import Graph, Node
    from studio.project.project import Project

MediaLink = Callable[[Path], str | None]
"""A file of the project (a take's thumbnail, a video take, an export) -> a URL the client can
load it from (None: this front end cannot link it)."""
LAB_MEDIA_ROUTE: Final = "studio/api/v1/projects/{project}/media/{path}"
"""The studio server extension's media route, relative to the lab's base URL (the extension's
``API_PREFIX`` + its media route: a test keeps them equal)."""
INLINE_MAX_BYTES: Final = 512 * 1024
"""The largest thumbnail the kernel's canvas inlines (the cache's are ~20 kB)."""
NodeStatus = dict[str, dict[str, Any]]
FOLDER_KEYS: Final = frozenset(
    {"takes", "active_take", "take_pinned", "thumbnail_url", "video_url", "outputs",
     "active_output", "source", "stale", "problem", "pipelines"}
)  # fmt: skip
"""Node status keys read from the render folder (the truth about takes), not from events."""
NO_TAKES: Final[dict[str, Any]] = {
    "takes": [], "active_take": None, "take_pinned": False, "thumbnail_url": None,
    "video_url": None,
}  # fmt: skip


def inline_link(path: Path) -> str | None:
    """The kernel's canvas: the (small, cached) thumbnail inlined as a data URL."""
    return data_url(path.read_bytes())


def kernel_link(project: Project) -> MediaLink:
    """The kernel canvas' link: a thumbnail of the cache inlined (small), any other file of
    the project (a video take, an export) through the lab's studio media route (a URL relative
    to the lab's base URL; see the module doc)."""
    root = project.path
    thumbnails = root / THUMBNAIL_DIR

    def link(path: Path) -> str | None:
        try:
            relative = path.relative_to(root).as_posix()
            if path.parent == thumbnails and path.stat().st_size <= INLINE_MAX_BYTES:
                return inline_link(path)
        except (ValueError, OSError):
            return None
        return LAB_MEDIA_ROUTE.format(project=quote(project.name), path=quote(relative))

    return link


def cached_thumbnail(project_root: Path, relative: object) -> Path | None:
    """The thumbnail file a worker's event names (a path relative to the project), if it is
    a plain path inside the project's thumbnail cache and there; None for anything else."""
    if not isinstance(relative, str) or "\\" in relative or "\0" in relative:
        return None
    parts = PurePosixPath(relative).parts
    cache = PurePosixPath(THUMBNAIL_DIR).parts
    if parts[: len(cache)] != cache or len(parts) != len(cache) + 1 or parts[-1] in ("..", "."):
        return None
    file = project_root.joinpath(*parts)
    try:
        return file if file.is_file() else None
    except OSError:
        return None


EXPORT_LINKS: Final = {
    "output_url": ("video_url", EXPORTS_DIR),
    "edl": ("edl_url", EDLS_DIR),
    "otio": ("otio_url", EDLS_DIR),
    "fcp_xml": ("fcp_xml_url", EDLS_DIR),
}
"""A render's result fields (project-relative files) -> the link each gets, and the folder
it must be in (``06_Exports`` for the film, the EDLs' folder for its EDL, OTIO and XML)."""


def project_file(project_root: Path, relative: object, *, folder: str) -> Path | None:
    """The file a worker's event names (a path relative to the project) if it is a plain path
    inside ``folder`` of the project and there; None for anything else."""
    if not isinstance(relative, str) or "\\" in relative or "\0" in relative:
        return None
    parts = PurePosixPath(relative).parts
    inside = PurePosixPath(folder).parts
    if parts[: len(inside)] != inside or len(parts) <= len(inside):
        return None
    if any(part in ("..", ".") for part in parts):
        return None
    file = project_root.joinpath(*parts)
    try:
        return file if file.is_file() else None
    except OSError:
        return None


def export_links(
    project_root: Path, result: dict[str, Any], *, link: MediaLink | None
) -> dict[str, str]:
    """A render's result (``server:task_success``) linked for the client: ``video_url`` of
    the film, ``edl_url``, ``otio_url``, ``fcp_xml_url``; nothing where the front end cannot
    serve a file of any size (``link`` None: the kernel's canvas) or for a shot's take."""
    if link is None or not isinstance(result.get("edl"), str):
        return {}
    links: dict[str, str] = {}
    for key, (url_key, folder) in EXPORT_LINKS.items():
        file = project_file(project_root, result.get(key), folder=folder)
        if file is not None and (url := link(file)) is not None:
            links[url_key] = url
    return links


def with_export_links(
    status: NodeStatus, project_root: Path, *, link: MediaLink | None
) -> NodeStatus:
    """``status`` (from the job log) with each node's last render result linked (see
    :func:`export_links`)."""
    if link is None:
        return status
    linked = dict(status)
    for node_id, node in status.items():
        if links := export_links(project_root, node, link=link):
            linked[node_id] = {**node, **links}
    return linked


def shot_view(project: Project, node: Node, *, link: MediaLink) -> dict[str, Any]:
    """A Shot node's ready takes, its active take and that take's thumbnail (made once, then
    read from ``05_Cache/thumbnails``; a video's poster frame) and, for a video, its link
    (played on demand); nothing for a node without valid shot numbers."""
    try:
        scene, shot = int(node.data["scene"]), int(node.data["shot"])
        view = project.shot_view(scene=scene, shot=shot)
    except (StudioError, KeyError, TypeError, ValueError):
        return dict(NO_TAKES)
    takes, active = view.takes, view.active
    thumbnail = make_thumbnail(project.path, active) if active else None
    video = active is not None and active.ext.lower() in VIDEO_EXTENSIONS
    return {
        "takes": [take.name for take in takes if take.ready],
        "active_take": active.name if active else None,
        "take_pinned": view.pinned,
        "thumbnail_url": link(thumbnail) if thumbnail else None,
        "video_url": link(active.path) if video and active else None,
    }


def post_view(
    state: PostState, project: Project, *, link: MediaLink, pipelines: list[str]
) -> dict[str, Any]:
    """A post node's outputs as its node shows them (see :mod:`studio.post`):

    * ``outputs``: the outputs made from its current source with its current settings (the
      picker's choices), oldest first; ``active_output``: its current output (None: none);
    * ``thumbnail_url``: the current output's thumbnail, else (``stale``) the newest output
      made from the source with other settings, shown as stale;
    * ``source``: the take or output it runs on; ``problem``: why it cannot run now
      ("connect a shot first", "generate SHOT-010 first", an image into Video restoration);
    * ``pipelines``: the installed pipelines of the node's task (its Pipeline field's choices)."""
    shown = state.current or (state.outputs[-1] if state.outputs else None)
    thumbnail = make_thumbnail(project.path, shown) if shown else None
    return {
        "outputs": [output.name for output in state.fresh],
        "active_output": state.current.name if state.current else None,
        "thumbnail_url": link(thumbnail) if thumbnail else None,
        "source": state.source.name if state.source else None,
        "stale": state.stale and bool(state.outputs),
        "problem": _on_the_node(state),
        "pipelines": pipelines,
    }


def _on_the_node(state: PostState) -> str | None:
    """The problem as the node itself shows it: without its own name in front."""
    problem = state.problem
    if problem is None or not state.label:
        return problem
    short = problem.removeprefix(f"{state.label} ")
    return short[:1].upper() + short[1:]


def with_shot_views(
    status: NodeStatus,
    project: Project,
    graph: Graph,
    *,
    link: MediaLink,
    node_ids: Iterable[str] | None = None,
) -> NodeStatus:
    """``status`` with the folder view of every Shot and post node (or of ``node_ids`` and
    the post nodes after them, whose source they are) merged in: the folder wins over what
    events said about takes and outputs."""
    wanted = None if node_ids is None else set(node_ids)
    merged = dict(status)
    installed: dict[str, Pipeline] | None = None
    memo: dict[str, PostState] = {}
    for node in graph.nodes:
        if node.type == SHOT and (wanted is None or node.id in wanted):
            merged[node.id] = {**status.get(node.id, {}), **shot_view(project, node, link=link)}
    if not any(node.type in POST_TYPES for node in graph.nodes):
        return merged
    snapshot = graph.to_json()
    posts = None if wanted is None else wanted | downstream_posts(snapshot, wanted)
    for node in graph.nodes:
        if node.type in POST_TYPES and (posts is None or node.id in posts):
            installed = installed if installed is not None else discover()
            state = post_state(project, snapshot, node.id, installed=installed, _memo=memo)
            task = POST_TASKS[node.type]
            of_task = sorted(p.id for p in installed.values() if p.manifest.task == task)
            view = post_view(state, project, link=link, pipelines=of_task)
            merged[node.id] = {**status.get(node.id, {}), **view}
    return merged


def settings_view(project: Project) -> dict[str, Any]:
    """The project's editable settings as a client shows them, with the choices it offers."""
    from studio.graph.builtin_types import FRAME_RATE_CHOICES
    from studio.project.manifest import ASPECT_RATIO_CHOICES
    from studio.quality import QUALITIES

    manifest = project.manifest
    settings = manifest.project_settings
    return {
        "name": project.name,
        "title": manifest.title,
        "description": manifest.description,
        "quality": settings.quality,
        "aspect_ratio": settings.aspect_ratio,
        "frame_rate": settings.frame_rate,
        "version": manifest.version,
        "choices": {
            "quality": list(QUALITIES),
            "aspect_ratio": list(ASPECT_RATIO_CHOICES),
            "frame_rate": list(FRAME_RATE_CHOICES),
        },
    }


def durable_status(project: Project) -> NodeStatus:
    """Each node's status replayed from the project's job log (the truth about its jobs)."""
    return job_log.node_status(job_log.read(project.path))  # copies: the snapshot is shared


def restored(current: NodeStatus, durable: NodeStatus) -> NodeStatus:
    """Pure: ``current`` with the job log's word on every job, keeping the folder's takes."""
    return {
        node_id: {
            **current.get(node_id, {}),
            **durable.get(node_id, {}),
            **{k: v for k, v in current.get(node_id, {}).items() if k in FOLDER_KEYS},
        }
        for node_id in {*durable, *current}
    }
