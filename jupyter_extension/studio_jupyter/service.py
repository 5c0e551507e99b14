"""What the REST routes do, as plain blocking functions over the studio core (the handlers run
them on the state's thread pool). No Tornado here: these functions take validated inputs and
return response models, or raise the core's errors. Client events (the WebSocket) and
generation go to the studio service (:mod:`studio.service`), the canvas widget's handlers."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from studio.__about__ import __version__
from studio.documents import read_json
from studio.engine import settle
from studio.errors import InvalidInput, ManifestError, StudioError
from studio.graph.builtin_types import SHOT
from studio.graph.graph import Graph
from studio.project import repo
from studio.project.layout import EDLS_DIR, EXPORTS_DIR, RENDERS_DIR
from studio.project.notebook import CANVAS_SOURCE, canvas_cell_is_generated, ensure_canvas_notebook
from studio.project.project import Project
from studio.project.thumbnails import THUMBNAIL_DIR, make_thumbnail
from studio.service.views import settings_view
from studio_jupyter import schemas
from studio_jupyter.errors import HTTPProblem
from studio_jupyter.state import StudioState

MEDIA_ROOTS = (RENDERS_DIR, THUMBNAIL_DIR, EXPORTS_DIR, EDLS_DIR)
"""The only folders of a project the media route serves from: takes and their thumbnails,
the rendered films and the EDLs (with their .otio and FCP XML) they were cut from."""


# --- projects --------------------------------------------------------------------------------


def _graph_version(project: Project) -> int | None:
    try:
        content = read_json(project.canvas_path)
    except ManifestError:
        return None
    version = content.get("version") if isinstance(content, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def summary(state: StudioState, project: Project) -> schemas.ProjectSummary:
    manifest = project.manifest
    return schemas.ProjectSummary(
        id=project.name,
        name=manifest.title,
        description=manifest.description,
        quality=manifest.project_settings.quality,
        aspect_ratio=manifest.project_settings.aspect_ratio,
        version=_graph_version(project),
        path=state.relative_to_root(project.path),
    )


def list_projects(state: StudioState) -> schemas.ProjectList:
    workspace = state.existing_workspace()
    if workspace is None:  # not a workspace (yet): nothing to list, nothing created
        return schemas.ProjectList([])
    projects, broken = workspace.scan_projects()
    entries: list[schemas.ProjectSummary | schemas.BrokenProject] = [
        summary(state, p) for p in projects
    ]
    entries += [
        schemas.BrokenProject(id=b.name, path=state.relative_to_root(b.path), error=b.error)
        for b in broken
    ]
    return schemas.ProjectList(entries)


def create_project(state: StudioState, *, body: schemas.ProjectCreate) -> schemas.ProjectSummary:
    project = state.create_workspace().create_project(
        body.name,
        description=body.description,
        quality=body.quality,
        aspect_ratio=body.aspect_ratio,
    )
    return summary(state, project)


def fresh_graph(state: StudioState, project_id: str) -> Graph:
    """The project's shared graph, re-read from disk: a kernel's canvas may have saved it
    since (the file, under its version lock, is the truth between processes)."""
    return state.project(project_id).reload_graph()


def get_project(state: StudioState, project_id: str) -> schemas.ProjectDetail:
    with state.lock(project_id):
        project = state.project(project_id)
        graph = fresh_graph(state, project_id).to_json()
        base = summary(state, project).model_dump()
        base["version"] = graph["version"]
        return schemas.ProjectDetail(
            **base, manifest=project.manifest.model_dump(mode="json"), graph=graph
        )


def save_graph(
    state: StudioState, project_id: str, *, body: schemas.GraphSave
) -> schemas.SaveResult:
    """Save a whole graph under the optimistic lock: ``VersionConflict`` (409) and nothing
    written when the file is no longer at ``body.version``."""
    with state.lock(project_id):
        project = state.project(project_id)
        try:
            graph = Graph.from_json(
                {**body.graph, "version": body.version}, path=project.canvas_path
            )
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            # Shapes the loader does not expect (a list where an id belongs...): the client's
            # graph is malformed, not the server.
            raise HTTPProblem(422, f"graph: malformed canvas content ({exc})") from None
        version = graph.save()
        project.reload_graph()
    return schemas.SaveResult(version=version)


def project_settings(state: StudioState, project_id: str) -> schemas.ProjectSettings:
    return schemas.ProjectSettings(**settings_view(state.project(project_id)))


def update_settings(
    state: StudioState, project_id: str, *, body: schemas.SettingsUpdate
) -> schemas.ProjectSettings:
    """Change the settings through the project's studio service (``Project.update_settings``
    under the manifest's lock; its clients are told): ``VersionConflict`` (409) and nothing
    written when project.json is no longer at ``body.version``."""
    changes = body.model_dump(exclude_none=True, exclude={"version"})
    with state.lock(project_id):
        view = state.project_service(project_id).update_settings(
            **changes, expected_version=body.version
        )
    return schemas.ProjectSettings(**view)


def full_sync(state: StudioState, project_id: str) -> dict[str, Any]:
    """``server:full_sync``'s payload, as the studio service builds it for every client."""
    return state.project_service(project_id).sync_payload()


def _url(state: StudioState, project: Project, path: Path) -> str:
    return state.media_url(project.name, path.relative_to(project.path).as_posix())


# --- tasks -----------------------------------------------------------------------------------


def generate_shot(
    state: StudioState, project_id: str, *, node_id: str, node_data: dict[str, Any] | None
) -> str:
    """Submit one take of a Shot node through the studio service (the engine started on
    first use); returns the task id at once. Connected clients see every event."""
    job = state.project_service(project_id).generate(node_id, node_data=node_data)
    if job is None:  # a server's service has no handler of its own: never
        raise StudioError("the generation was handed to another handler")
    return job.id


# --- shots, takes and media ------------------------------------------------------------------


def _number(value: str, *, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, not {value!r}") from None


def list_shots(state: StudioState, project_id: str) -> schemas.ShotList:
    with state.lock(project_id):
        project = state.project(project_id)
        graph = fresh_graph(state, project_id)
    nodes: dict[tuple[int, int], str] = {}
    for node in graph.nodes:
        scene, shot = node.data.get("scene"), node.data.get("shot")
        if node.type == SHOT and isinstance(scene, int) and isinstance(shot, int):
            nodes.setdefault((scene, shot), node.id)
    shots = []
    for scene, shot in sorted({*project.shots(), *nodes}):
        try:
            all_takes, active = project.shot_takes(scene=scene, shot=shot)
            takes = [t for t in all_takes if t.ready]
        except StudioError:  # a node with an out-of-range number: no folder can exist
            takes, active = [], None
        shots.append(
            schemas.ShotSummary(
                scene=scene,
                shot=shot,
                node_id=nodes.get((scene, shot)),
                takes=len(takes),
                active=active.name if active else None,
            )
        )
    return schemas.ShotList(shots)


def list_takes(state: StudioState, project_id: str, *, scene: str, shot: str) -> schemas.TakeList:
    project = state.project(project_id)
    scene_no, shot_no = _number(scene, name="scene"), _number(shot, name="shot")
    settle(project)  # a lost job's complete take is committed (or its leftovers removed) first
    view = project.shot_view(scene=scene_no, shot=shot_no)
    active = view.active
    infos = []
    for take in view.takes:
        provenance, error = take.read_provenance()
        thumbnail = make_thumbnail(project.path, take) if take.ready else None
        infos.append(
            schemas.TakeInfo(
                name=take.name,
                version=take.version,
                take=take.number,
                ext=take.ext,
                ready=take.ready,
                active=active is not None and take.name == active.name,
                url=_url(state, project, take.path),
                thumbnail_url=_url(state, project, thumbnail) if thumbnail else None,
                pipeline=provenance.pipeline if provenance else None,
                seed=provenance.seed if provenance else None,
                prompt=provenance.prompt if provenance else None,
                error=error,
            )
        )
    return schemas.TakeList(
        takes=infos, active=active.name if active else None, active_problem=view.active_problem
    )


def media_file(state: StudioState, project_id: str, relative: str) -> Path:
    """The file ``relative`` names inside the project's renders or thumbnails, checked: no
    ``..``, not absolute, no symlink leading out (404 for what is not there, 403 for what is
    outside what this route serves)."""
    project = state.project(project_id)
    pure = PurePosixPath(relative)
    if (
        not relative
        or "\\" in relative
        or "\0" in relative
        or pure.is_absolute()
        or any(part in ("..", ".", "") for part in relative.split("/"))
    ):
        raise HTTPProblem(403, f"media path {relative!r} is not a plain path inside the project")
    if any(part.startswith(".") for part in pure.parts):
        # A render's staging folder (its partial film), a temporary file: never media yet.
        raise HTTPProblem(403, f"media path {relative!r} names a hidden file, which is not media")
    missing = HTTPProblem(404, f"no media file {relative!r} in project {project_id!r}")
    try:
        base = project.path.resolve()
        # A media folder that is itself a symlink out of the project (a cloned project with
        # ``03_Renders -> /home/user``) serves nothing.
        roots = [
            root
            for root in ((base / name).resolve() for name in MEDIA_ROOTS)
            if root.is_relative_to(base) and root != base
        ]
        candidate = (base / pure).resolve()
        if not any(candidate.is_relative_to(root) and candidate != root for root in roots):
            raise HTTPProblem(
                403,
                f"media path {relative!r} is outside {', '.join(MEDIA_ROOTS)} of the project",
            )
        if not candidate.is_file():
            raise missing
    except OSError:  # a name the OS refuses (too long, ...): there is no such file
        raise missing from None
    return candidate


# --- notebook and status ---------------------------------------------------------------------


def canvas_notebook(state: StudioState, *, project_id: str) -> schemas.NotebookPath:
    project = state.project(project_id)
    if state.relative_to_root(project.path) is None:
        raise HTTPProblem(
            409,
            f"the workspace {state.workspace_path} is outside Jupyter's root folder "
            f"{state.root_dir}, so JupyterLab cannot open a notebook in it",
            hint="start Jupyter with --ServerApp.root_dir at or above the workspace, or unset "
            "STUDIO_WORKSPACE",
        )
    path = ensure_canvas_notebook(project_root=project.path, title=project.title)
    relative = state.relative_to_root(path)
    if relative is None:  # the notebook is a symlink out of root_dir
        raise HTTPProblem(409, f"{path} is outside Jupyter's root folder")
    return schemas.NotebookPath(
        path=relative, trusted_cell=canvas_cell_is_generated(path), canvas_source=CANVAS_SOURCE
    )


def status(state: StudioState) -> schemas.Status:
    """PRD §3.2's startup check for the lab: git and git-lfs, with install advice."""
    git, lfs = repo.probe_tools()
    git_check = schemas.ToolCheck(
        ok=git.found,
        version=git.version,
        message=None if git.found else f"git is not installed.\n{repo.install_hint('git')}",
    )
    lfs_message = (
        "git-lfs is not installed: the studio stores renders through Git LFS and will not "
        f"write into a project without it.\n{repo.install_hint('git-lfs')}"
    )
    lfs_check = schemas.ToolCheck(
        ok=lfs.found, version=lfs.version, message=None if lfs.found else lfs_message
    )
    return schemas.Status(
        version=__version__, workspace=str(state.workspace_path), git=git_check, git_lfs=lfs_check
    )


# --- the queue -------------------------------------------------------------------------------


def queue_view(state: StudioState, project_id: str) -> schemas.QueueView:
    return schemas.QueueView.model_validate(state.project_service(project_id).queue_view())


def queue_pause(state: StudioState, project_id: str, *, paused: bool) -> schemas.QueueView:
    view = state.project_service(project_id).queue_pause(paused=paused)
    return schemas.QueueView.model_validate(view)


def queue_cancel(
    state: StudioState, project_id: str, *, body: schemas.QueueCancel
) -> schemas.QueueView:
    if (body.job_id is None) == (body.sweep_id is None):
        raise InvalidInput("name exactly one of job_id (a job) or sweep_id (a sweep's jobs)")
    view = state.project_service(project_id).queue_cancel(
        job_id=body.job_id, sweep_id=body.sweep_id
    )
    return schemas.QueueView.model_validate(view)


def queue_move_to_front(state: StudioState, project_id: str, *, job_id: str) -> schemas.QueueView:
    view = state.project_service(project_id).queue_move_to_front(job_id)
    return schemas.QueueView.model_validate(view)
