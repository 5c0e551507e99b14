"""``Project``: one project folder, its manifest, its takes and its git history."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import ValidationError

from studio.errors import InvalidInput, ManifestError, ProjectNotFound, StudioError, TakeError
from studio.graph.builtin_types import FRAME_RATE_CHOICES, VSE_ASSEMBLER
from studio.project import active_take, repo
from studio.project import takes as take_store
from studio.project.layout import MANIFEST_FILE
from studio.project.manifest import ProjectManifest, load_manifest, save_manifest
from studio.project.migrate import GITIGNORE, upgrade_gitignore
from studio.project.takes import Take
from studio.quality import Quality

if TYPE_CHECKING:
    from studio.assembly.export import EDLExport
    from studio.assembly.model import Sequence
    from studio.engine import Job, JobState
    from studio.engine.queue import Queue
    from studio.engine.rendering import RenderJob
    from studio.graph.graph import Graph, Node
    from studio.sweeps import Sweep
    from studio.widgets.canvas import Canvas
    from studio.widgets.gallery import Gallery


@dataclass
class UpperLayers:
    """What ``Project.canvas()``, ``generate()``, ``jobs()``, ``sequence()``,
    ``export_edl()`` and ``render()`` delegate to. They belong to the widget, engine and
    assembly layers above this one, which install them (``import studio`` does,
    :func:`install_upper_layers`), so the project layer never imports upward."""

    canvas: Callable[[Project, int, bool], Canvas] | None = None
    generate: Callable[[Project, str | Node, Quality | None], Job] | None = None
    jobs: Callable[[Project], list[JobState]] | None = None
    sequence: Callable[[Project, str | None], Sequence] | None = None
    export_edl: Callable[[Project, str | None], EDLExport] | None = None
    render: Callable[[Project, Quality | None, str | None], RenderJob] | None = None
    sweep: Callable[..., Sweep] | None = None
    """``(project, shot, *, prompt, seed, params, mode, quality)``."""
    sweeps: Callable[[Project], list[Sweep]] | None = None
    gallery: Callable[[Sweep], Gallery] | None = None
    """``sweep.gallery()``: the widget layer's, above the sweeps."""
    queue: Callable[[Project], Queue] | None = None


upper_layers = UpperLayers()
_log = logging.getLogger(__name__)


def install_upper_layers(
    *,
    canvas: Callable[[Project, int, bool], Canvas],
    generate: Callable[[Project, str | Node, Quality | None], Job],
    jobs: Callable[[Project], list[JobState]],
    sequence: Callable[[Project, str | None], Sequence],
    export_edl: Callable[[Project, str | None], EDLExport],
    render: Callable[[Project, Quality | None, str | None], RenderJob],
    sweep: Callable[..., Sweep],
    sweeps: Callable[[Project], list[Sweep]],
    gallery: Callable[[Sweep], Gallery],
    queue: Callable[[Project], Queue],
) -> None:
    upper_layers.canvas, upper_layers.generate, upper_layers.jobs = canvas, generate, jobs
    upper_layers.sequence, upper_layers.export_edl = sequence, export_edl
    upper_layers.render, upper_layers.sweep, upper_layers.sweeps = render, sweep, sweeps
    upper_layers.gallery, upper_layers.queue = gallery, queue


_Hook = TypeVar("_Hook")


def _installed(hook: _Hook | None, method: str) -> _Hook:
    if hook is None:  # only when studio/__init__.py did not run, which Python never allows
        raise RuntimeError(f"Project.{method}() needs `import studio` (it installs the engine)")
    return hook


def _node_id(node: str | Node | None) -> str | None:
    return node if node is None or isinstance(node, str) else node.id


@dataclass(frozen=True)
class ShotTakes:
    """A shot's takes and its active take, from one scan of its render folder."""

    takes: list[Take]
    active: Take | None
    """The chosen take; without a usable choice, the newest ready take; None without one."""
    active_problem: str | None = None
    """Why ``active_take.json`` was not used (it names a take that is not there, or does
    not read): the listing says so rather than silently showing another take."""
    pinned: bool = False
    """The user pinned ``active``: new takes do not replace it (:meth:`Project.commit_takes`)."""


def _replaces_choice(view: ShotTakes, arriving: list[Take]) -> bool:
    """Pure: whether ``arriving`` (new takes of the shot of ``view``) replace its active-take
    choice: one was made (the view's active take is not just the newest), is usable, not
    pinned, and is none of the arriving takes."""
    chosen = view.active
    if chosen is None or view.pinned or view.active_problem:
        return False
    if any(take.name == chosen.name for take in arriving):
        return False
    return (chosen.path.parent / active_take.ACTIVE_FILE).exists()


class Project:
    """A studio project (PRD §2): a folder with the Table 1 layout that is its own git repo.

    >>> project = workspace.create_project("Night Market", quality="low")
    >>> take = project.new_take(scene=1, shot=10, ext="png", prompt="lanterns at dusk")
    >>> take.write_bytes(png_bytes)
    >>> project.commit_takes([take])
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        if not (self.path / MANIFEST_FILE).is_file():
            raise ProjectNotFound(
                f"{self.path} is not a studio project: it has no {MANIFEST_FILE}",
                hint="create one with Workspace.create_project(...) or `studio new TITLE`",
            )
        self.manifest  # noqa: B018 - validate now, so a broken project fails on open
        self._graph: Graph | None = None
        self._upgrade()

    def _upgrade(self) -> None:
        """Bring a project made by an older studio up to date (:mod:`studio.project.migrate`).
        A project that cannot be written (a read-only copy) still opens: the reason is
        logged."""
        try:
            upgrade_gitignore(self.path)
        except (StudioError, OSError, ValueError) as exc:
            _log.warning("%s: could not update its %s: %s", self.path, GITIGNORE, exc)

    # --- identity and manifest ------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST_FILE

    @property
    def manifest(self) -> ProjectManifest:
        """project.json as it is on disk now, validated."""
        return load_manifest(self.manifest_path)

    @property
    def uuid(self) -> uuid.UUID:
        return self.manifest.uuid

    @property
    def title(self) -> str:
        return self.manifest.title

    @property
    def name(self) -> str:
        """The folder name (unique within the workspace)."""
        return self.path.name

    @property
    def canvas_path(self) -> Path:
        return self.path / self.manifest.canvas_path

    def save_manifest(
        self, manifest: ProjectManifest, *, expected_version: int | None = None
    ) -> ProjectManifest:
        """Save under the optimistic lock: the file must still be at ``expected_version``
        (default ``manifest.version``); it becomes version + 1, or ``VersionConflict``."""
        repo.require_git_and_lfs()
        expected = manifest.version if expected_version is None else expected_version
        return save_manifest(self.manifest_path, manifest, expected_version=expected)

    # --- the canvas --------------------------------------------------------------------------

    def update_settings(
        self,
        *,
        title: str | None = None,
        description: str | None = None,
        quality: str | None = None,
        aspect_ratio: str | None = None,
        frame_rate: str | None = None,
        expected_version: int | None = None,
    ) -> ProjectManifest:
        """Change the title, description, quality, aspect ratio or frame rate (``None``: as it
        is), saved under the manifest's optimistic lock; the next takes (and the next
        Assembler) follow them. A bad value raises :class:`InvalidInput` naming the setting;
        with ``expected_version`` (the manifest version the editor loaded) a manifest saved
        since raises :class:`VersionConflict`. Nothing is written then."""
        manifest = self.manifest
        try:
            settings = manifest.project_settings.model_copy()
            if quality is not None:
                settings.quality = quality  # type: ignore[assignment]  # (validated)
            if aspect_ratio is not None:
                settings.aspect_ratio = aspect_ratio
            if frame_rate is not None:
                settings.frame_rate = frame_rate
            changed = manifest.model_copy()
            if title is not None:
                changed.title = title
            if description is not None:
                changed.description = description
            changed.project_settings = settings
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "settings"
            given = first.get("input")
            raise InvalidInput(
                f"project {self.name}: {where} {given!r} is not valid ({first['msg']})",
                hint="quality: low, standard or high; aspect ratio: W:H such as 16:9 or 21:9; "
                f"frame rate: one of {', '.join(FRAME_RATE_CHOICES)}",
            ) from None
        expected = manifest.version if expected_version is None else expected_version
        return self.save_manifest(changed, expected_version=expected)

    @property
    def graph(self) -> Graph:
        """The Production Canvas graph, loaded from ``canvas_path`` on first use and then
        shared (the canvas widget and your code edit the same object)."""
        if self._graph is None:
            from studio.graph.graph import Graph

            self._graph = Graph.load(self.canvas_path)
            self._graph.taken_outside = self._shots_with_folders
            self._graph.defaults_outside = self.node_defaults
        return self._graph

    def reload_graph(self) -> Graph:
        """Re-read the canvas file, dropping unsaved edits of the shared graph."""
        from studio.graph.graph import Graph

        fresh = Graph.load(self.canvas_path)
        if self._graph is None:
            self._graph = fresh
            fresh.taken_outside = self._shots_with_folders
            fresh.defaults_outside = self.node_defaults
        else:
            self._graph.replace_with(fresh)
        return self._graph

    def _shots_with_folders(self, type_name: str, data: dict[str, Any]) -> frozenset[Any]:
        """The shot numbers of ``data``'s scene that have a render folder (a new Shot node
        takes none of them: it would show and write another shot's takes)."""
        from studio.graph.builtin_types import SHOT

        if type_name != SHOT:
            return frozenset()
        return frozenset(shot for scene, shot in self.shots() if scene == data.get("scene"))

    def node_defaults(self, type_name: str) -> dict[str, Any]:
        """The project's field defaults for a new node of ``type_name``, over the registry's:
        a new Assembler takes the project's frame rate (an Assembler keeps its own after)."""
        if type_name != VSE_ASSEMBLER:
            return {}
        return {"frame_rate": self.manifest.project_settings.frame_rate}

    def canvas(self, *, height: int = 640, engine: bool = True) -> Canvas:
        """The canvas widget for this project's graph (display it in a notebook). The
        installed pipelines are registered first, so each appears in the palette. With
        ``engine`` (default) its Generate buttons run on the studio engine, started on the
        first click; node status is restored from the project's job log."""
        return _installed(upper_layers.canvas, "canvas")(self, height, engine)

    # --- generation (the Generative Engine) -------------------------------------------------

    def generate(self, node: str | Node, quality: Quality | None = None) -> Job:
        """Generate one take of a Shot node on the Dask cluster (``STUDIO_SCHEDULER`` or a
        local one), or one output of a post node (Video restoration, Super resolution) from
        its upstream take or output. Returns the Job at once; ``job.result()`` is the Take
        (for a post node its output, :class:`studio.project.outputs.PostOutput`)."""
        return _installed(upper_layers.generate, "generate")(self, node, quality)

    def jobs(self) -> list[JobState]:
        """Every generation job of this project with its latest state (the durable job log)."""
        return _installed(upper_layers.jobs, "jobs")(self)

    def sweep(
        self,
        shot: str | Node,
        *,
        prompt: str | Iterable[str] | None = None,
        seed: int | Iterable[int] | None = None,
        params: Mapping[str, Any] | None = None,
        mode: Literal["product", "zip"] = "product",
        quality: Quality | Iterable[Quality] | None = None,
    ) -> Sweep:
        """Generate a Shot over axes of values: ``prompt``, ``seed``, ``quality`` and pipeline
        inputs (``params={"steps": [4, 8]}``); None leaves the shot's own value. ``mode``:
        every combination (``product``) or the axes side by side (``zip``). Every cell is a
        job on the cluster, submitted at once with its values as overrides (the graph is not
        changed); each take's provenance records the sweep and its cell. The sweep is saved
        in ``04_Project_Files/Sweeps/<id>.json`` (committed). Bad axes raise ``SweepError``
        naming each problem, before anything is submitted.

        >>> sweep = project.sweep(shot, prompt=["dawn", "dusk"], seed=range(4))
        >>> sweep.wait().results()     # one row per cell: axes, take, status, seconds
        """
        return _installed(upper_layers.sweep, "sweep")(
            self, shot, prompt=prompt, seed=seed, params=params, mode=mode, quality=quality
        )

    def sweeps(self) -> list[Sweep]:
        """Every sweep saved in this project, oldest first (found again after a restart)."""
        return _installed(upper_layers.sweeps, "sweeps")(self)

    def queue(self) -> Queue:
        """The project's job queue: queued, running and recently finished jobs (canvas
        Generates, renders, sweeps, batch runs), read from the durable job log, with Cancel,
        Cancel sweep, Pause / Resume (held across restarts) and Move to front."""
        return _installed(upper_layers.queue, "queue")(self)

    # --- assembly ---------------------------------------------------------------------------

    def sequence(self, assembler: str | Node | None = None) -> Sequence:
        """The edit the Assembler (the canvas's only one, or ``assembler``) compiles to: its
        clips' active takes in order with trims, transitions, overlays and audio, at its frame
        rate. Shown as a table in a notebook; refusals (``SequenceError``) name the node to
        fix. Nothing is written."""
        return _installed(upper_layers.sequence, "sequence")(self, _node_id(assembler))

    def export_edl(self, assembler: str | Node | None = None) -> EDLExport:
        """Write the sequence as the next version of ``04_Project_Files/EDLs/<title>_v###``
        ``.edl`` (CMX 3600), ``.otio`` and ``.xml`` (FCP 7) and commit them; ``.paths`` are
        the three files."""
        return _installed(upper_layers.export_edl, "export_edl")(self, _node_id(assembler))

    def render(
        self, quality: Quality | None = None, assembler: str | Node | None = None
    ) -> RenderJob:
        """Render the final video: the sequence exported first as a new EDL version
        (:meth:`export_edl`), then ``render_final_video`` renders that EDL on a CPU worker of
        the Dask cluster into ``06_Exports/<title>_v###.mp4`` (versioned, never overwritten).
        Returns the job at once; ``job.result()`` is the FinalVideo. Refusals (a shot with
        no take, a post node with nothing upstream, no CPU worker) raise here, before
        anything is written; post nodes whose output is not made yet run first.
        ``quality`` (default the project's) picks the encoder's settings: low a quick
        draft, standard the default, high a master."""
        return _installed(upper_layers.render, "render")(self, quality, _node_id(assembler))

    # --- takes ----------------------------------------------------------------------------

    def new_take(
        self,
        *,
        scene: int,
        shot: int,
        ext: str,
        pipeline: str | None = None,
        prompt: str | None = None,
        inputs: dict[str, Any] | None = None,
        seed: int | None = None,
        quality: Quality | None = None,
        version: int | None = None,
        job_id: str | None = None,
        lease_s: float | None = None,
    ) -> Take:
        """Reserve the shot's next take file atomically (see :mod:`studio.project.takes`);
        ``lease_s``: past this many seconds still empty, the reservation may be reclaimed."""
        repo.require_git_and_lfs()
        return take_store.reserve_take(
            self.path,
            scene=scene,
            shot=shot,
            ext=ext,
            pipeline=pipeline,
            prompt=prompt,
            inputs=inputs,
            seed=seed,
            quality=quality,
            version=version,
            job_id=job_id,
            lease_s=lease_s,
        )

    def takes(self, *, scene: int, shot: int) -> list[Take]:
        """The shot's takes: a scan of its render folder, sorted by version then take."""
        return take_store.list_takes(self.path, scene=scene, shot=shot)

    def shots(self) -> list[tuple[int, int]]:
        """(scene, shot) of every shot folder under 03_Renders, sorted."""
        return take_store.list_shots(self.path)

    def shot_path(self, *, scene: int, shot: int) -> Path:
        return self.path / take_store.shot_folder(scene=scene, shot=shot)

    def active_take(self, *, scene: int, shot: int) -> Take | None:
        """The take chosen with :meth:`set_active_take`; without a choice, the newest ready
        take; None when the shot has no ready take."""
        return self.shot_takes(scene=scene, shot=shot)[1]

    def shot_takes(self, *, scene: int, shot: int) -> tuple[list[Take], Take | None]:
        """The shot's takes and its active take, from one scan of its render folder."""
        view = self.shot_view(scene=scene, shot=shot)
        return view.takes, view.active

    def shot_view(self, *, scene: int, shot: int) -> ShotTakes:
        """:meth:`shot_takes` plus why the persisted choice was not used, if it was not."""
        shot_takes = self.takes(scene=scene, shot=shot)
        ready = [take for take in shot_takes if take.ready]
        problem: str | None
        choice = None
        try:
            choice = active_take.read_choice(self.shot_path(scene=scene, shot=shot))
        except ManifestError as exc:
            problem = exc.message
        else:
            chosen = choice.take if choice else None
            problem = active_take.dangling_reason(chosen, [take.name for take in ready])
        for take in ready:
            if choice is not None and take.name == choice.take:
                return ShotTakes(shot_takes, take, pinned=choice.pinned)
        return ShotTakes(shot_takes, ready[-1] if ready else None, problem)

    def set_active_take(self, take: Take, *, pinned: bool = False) -> None:
        """Make ``take`` its shot's active take (persisted in the shot folder). ``pinned``:
        it stays active when new takes arrive; otherwise the next new take replaces it."""
        self.check_active_take(take)
        active_take.write_active(take.path.parent, take.name, pinned=pinned)

    def check_active_take(self, take: Take) -> None:
        """Raise what :meth:`set_active_take` would, without changing anything."""
        repo.require_git_and_lfs()
        self._check_owned(take)
        if not take.ready:
            raise TakeError(
                f"{take.name} has not been written yet; only a ready take can be active"
            )

    def commit_takes(self, takes: list[Take], message: str | None = None) -> str:
        """Commit takes (media through LFS, sidecars, the shots' active-take files); returns
        the commit id. Refuses empty takes and media that .gitattributes would not send to LFS.

        A new take is seen: where the shot has a (valid) choice that is not pinned and names
        none of ``takes``, the last of ``takes`` becomes the active take, committed with it. A
        pinned choice stays; without any choice the newest ready take is active anyway."""
        if not takes:
            raise InvalidInput("no takes to commit")
        for take in takes:
            self._check_owned(take)
            if not take.ready:
                raise TakeError(f"{take.name} is still empty (reserved, never written)")
        media = [take.path for take in takes]
        extra = [take.sidecar_path for take in takes if take.sidecar_path.exists()]
        replaced: list[tuple[Path, str]] = []
        for take in {take.path.parent: take for take in takes}.values():
            # A choice naming a take that is not there is never committed (doctor reports it).
            view = self.shot_view(scene=take.scene, shot=take.shot)
            if _replaces_choice(view, [t for t in takes if t.path.parent == take.path.parent]):
                replaced.append((take.path.parent, view.active.name))  # type: ignore[union-attr]
                active_take.write_active(take.path.parent, take.name)
            if (take.path.parent / active_take.ACTIVE_FILE).exists() and not view.active_problem:
                extra.append(take.path.parent / active_take.ACTIVE_FILE)
        names = ", ".join(take.name for take in takes)
        try:
            return repo.commit_paths(
                self.path,
                [*media, *extra],
                message=message or f"Add takes: {names}",
                lfs_required=media,
            )
        except BaseException:
            for folder, name in replaced:  # the take may go: the choice it replaced comes back
                active_take.write_active(folder, name)
            raise

    def commit_changes(self, paths: list[Path], *, message: str) -> str | None:
        """Commit those of ``paths`` (the canvas file, a shot's ``active_take.json``) that
        changed since HEAD; None when none did (nothing is committed)."""
        changed = repo.changed_paths(self.path, paths)
        return repo.commit_paths(self.path, changed, message=message) if changed else None

    def _check_owned(self, take: Take) -> None:
        if not take.path.is_relative_to(self.path):
            raise InvalidInput(f"{take.path} is not a take of project {self.name}")

    # --- display ----------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"Project({self.title!r}, path={str(self.path)!r})"

    def _repr_html_(self) -> str:
        from studio.project.display import project_html

        return project_html(self)
