"""``project.sweep(...)``: one shot generated over axes of values, every cell an ordinary job.

>>> sweep = project.sweep(shot, prompt=["dawn", "dusk"], seed=range(4), params={"width": [512]})
>>> sweep                     # in a notebook: a progress bar (done / running / queued / failed)
>>> sweep.wait().results()    # a DataFrame, one row per cell: its axes, take, status, seconds
>>> project.sweeps()          # after a kernel restart too: read from 04_Project_Files/Sweeps/
>>> sweep.gallery()           # the takes in a grid labelled by the axes, filling in live
>>> sweep.contact_sheet()     # that grid as one labelled PNG in 06_Exports/

Each cell is submitted through :meth:`studio.engine.Engine.generate` with its values as
overrides (the graph is not edited): the same dispatch, VRAM resources, retries and durable
job log as a Generate click, and each take's provenance names the sweep and its cell. What a
sweep knows of its jobs it reads from the job log, so it needs no engine after a restart.
"""

from __future__ import annotations

import html
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from PIL import Image

from studio.atomic import atomic_write_bytes
from studio.engine import jobs as job_log
from studio.engine.engine import JobRequest
from studio.engine.inputs import Overrides, resolve_shot
from studio.engine.settling import settle
from studio.pipelines import Manifest, get_pipeline
from studio.project.layout import EXPORTS_DIR
from studio.project.project import upper_layers
from studio.project.provenance import SweepMark
from studio.project.takes import Take
from studio.project.thumbnails import make_thumbnail
from studio.quality import Quality
from studio.sweeps import grid, sheet, store
from studio.sweeps.cells import (
    QUALITY,
    Cell,
    Mode,
    check_axes,
    expand,
    qualities,
    sweep_axes,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import pandas as pd

    from studio.engine.engine import Engine
    from studio.graph.graph import Node
    from studio.project.project import Project
    from studio.widgets.gallery import Gallery

POLL_S: Final = 0.2
"""How often :meth:`Sweep.wait` reads the job log."""
SETTLE_EVERY_S: Final = 5.0
"""How often :meth:`Sweep.wait` settles lost jobs (a cluster gone with a kernel)."""
NOT_SUBMITTED: Final = "not submitted"
"""A cell's status when its job was never submitted (the sweep's start was cut short)."""
STATUSES: Final = ("done", "running", "queued", "failed", "canceled")
SHOWN_AS: Final = {"success": "done", "generating": "running", "queued": "queued",
                   "failed": "failed", "canceled": "canceled"}  # fmt: skip
"""A job's state as a gallery cell shows it."""
_COUNTED_AS: Final = {"success": "done", "generating": "running", "queued": "queued",
                      "failed": "failed", "canceled": "canceled"}  # fmt: skip


@dataclass(frozen=True)
class CellView:
    """What the gallery and the contact sheet show of one cell, read now."""

    index: int
    label: str
    """Its axes' values: ``prompt: dawn · seed: 3``."""
    status: str
    """done, running, queued, failed, canceled or "not submitted"."""
    take: Take | None
    error: str | None


@dataclass(frozen=True)
class SweepProgress:
    """How many of a sweep's cells are done, running, queued, failed and canceled."""

    done: int
    running: int
    queued: int
    failed: int
    canceled: int

    @property
    def total(self) -> int:
        return self.done + self.running + self.queued + self.failed + self.canceled

    @property
    def finished(self) -> bool:
        """No cell is queued or running any more."""
        return self.running == 0 and self.queued == 0

    def __str__(self) -> str:
        counts = ", ".join(f"{getattr(self, name)} {name}" for name in STATUSES)
        return f"{self.done}/{self.total} ({counts})"


class Sweep:
    """A sweep of one shot: its axes and cells (from its file) and its jobs (from the job
    log). Cheap to make; every method reads the log afresh."""

    def __init__(self, project: Project, record: store.SweepRecord) -> None:
        self.project = project
        self.record = record

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def node_id(self) -> str:
        return self.record.node_id

    @property
    def mode(self) -> Mode:
        return self.record.mode

    @property
    def axes(self) -> dict[str, list[Any]]:
        """Axis name -> its values, in the sweep's order."""
        return {axis.name: list(axis.values) for axis in self.record.axes}

    @property
    def cells(self) -> list[Cell]:
        return [self.record.cell(i) for i in range(len(self.record.cells))]

    @property
    def job_ids(self) -> list[str | None]:
        """Each cell's job id (None: never submitted)."""
        return [cell.job_id for cell in self.record.cells]

    def _states(self) -> list[job_log.JobState | None]:
        jobs = job_log.snapshot(self.project.path).jobs
        return [jobs.get(job_id) if job_id else None for job_id in self.job_ids]

    def _progress(self, states: Iterable[job_log.JobState | None]) -> SweepProgress:
        counts: Counter[str] = Counter()
        for state in states:
            counts[_COUNTED_AS.get(state.state, "failed") if state else "failed"] += 1
        return SweepProgress(**{name: counts[name] for name in STATUSES})

    def progress(self) -> SweepProgress:
        """Count the cells by their jobs' state in the job log (lost jobs settled first, so
        a job whose cluster went away counts as failed, not as running for ever)."""
        settle(self.project)
        return self._progress(self._states())

    def wait(self, timeout: float | None = None) -> Sweep:
        """Return (this sweep) once no cell is queued or running; ``TimeoutError`` when
        ``timeout`` seconds pass first. Works from any kernel: it reads the job log."""
        deadline = None if timeout is None else time.monotonic() + timeout
        settled = time.monotonic()
        settle(self.project)
        while not self._progress(self._states()).finished:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise TimeoutError(f"sweep {self.id}: {self._progress(self._states())}")
            if now - settled >= SETTLE_EVERY_S:
                settle(self.project)
                settled = now
            time.sleep(POLL_S)
        return self

    def takes(self) -> list[Take | None]:
        """Each cell's take (None: not made, or failed)."""
        return self.takes_of(self._states())

    def layout(self) -> grid.GridLayout:
        """Where each cell goes in the gallery and the contact sheet (rows x columns, facets
        beyond two axes, one strip for a zip sweep)."""
        return grid.grid_layout(self.record.axis_list(), self.mode)

    @property
    def title(self) -> str:
        shape = " x ".join(f"{len(v)} {name}" for name, v in self.axes.items())
        return f"SHOT-{self.record.shot:03d} · sweep {self.id} · {shape} ({self.mode})"

    def cell_views(self) -> list[CellView]:
        """Each cell's label, status, take and error, from one read of the job log and of
        the shot's folder."""
        states = self._states()
        takes = self.takes_of(states)
        axes = self.record.axis_list()
        views = []
        for cell, state, take in zip(self.cells, states, takes, strict=True):
            status = SHOWN_AS.get(state.state, "failed") if state else NOT_SUBMITTED
            error = state.error if state else None
            if status == "done" and take is None:  # a take the folder does not hold (any more)
                status, error = "failed", f"{state.take if state else 'its take'} is missing"
            views.append(CellView(cell.index, grid.cell_label(axes, cell.index, self.mode),
                                  status, take, error))  # fmt: skip
        return views

    def takes_of(self, states: list[job_log.JobState | None]) -> list[Take | None]:
        found: dict[str, Take] = {
            take.name: take
            for take in self.project.takes(scene=self.record.scene, shot=self.record.shot)
        }
        return [found.get(state.take) if state and state.take else None
                for state in states]  # fmt: skip

    def gallery(self) -> Gallery:
        """The sweep's takes as a widget: a grid labelled by the axes that fills in live; click
        a take to enlarge it, pick two to compare, make one the shot's active take."""
        if upper_layers.gallery is None:  # only without `import studio`
            raise RuntimeError("Sweep.gallery() needs `import studio` (it installs the widgets)")
        return upper_layers.gallery(self)

    def contact_sheet(self, path: str | Path | None = None) -> Path:
        """Write the sweep's grid as one labelled PNG (axis values as row and column headers,
        a title naming the shot and the sweep; a cell without a take as a labelled blank)
        to ``path`` or ``06_Exports/SHOT-xxx_sweep_<id>.png`` (git-ignored, like the other
        exports), atomically; returns its path. Takes still running are blanks: call it
        after :meth:`wait` for the whole sweep."""
        views = self.cell_views()
        pictures: dict[int, Any] = {}
        for view in views:
            if view.take is None:
                pictures[view.index] = sheet.Blank(view.status, view.error or "")
                continue
            thumbnail = make_thumbnail(self.project.path, view.take)
            if thumbnail is None:
                pictures[view.index] = sheet.Blank("no picture", view.take.name)
                continue
            with Image.open(thumbnail) as image:
                pictures[view.index] = image.convert("RGB")
        plan = sheet.sheet_plan(self.layout(), title=self.title)
        image = sheet.draw_sheet(plan, pictures, fonts=sheet_fonts())
        if path is None:
            target = (
                self.project.path / EXPORTS_DIR / f"SHOT-{self.record.shot:03d}_sweep_{self.id}.png"
            )
        else:
            target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, sheet.png_bytes(image))
        return target

    def results(self) -> pd.DataFrame:
        """One row per cell: ``cell``, each axis, ``take`` (its file name), ``status``
        (queued, generating, success, failed, canceled, or "not submitted"), ``seconds``
        (the pipeline's run time, from the take's provenance), ``error`` and ``job_id``."""
        import pandas as pd

        states = self._states()
        takes = self.takes()
        rows = []
        for cell, state, take in zip(self.cells, states, takes, strict=True):
            provenance = take.provenance if take is not None else None
            seconds = (provenance.model_extra or {}).get("duration_s") if provenance else None
            rows.append({
                "cell": cell.index,
                **cell.values,
                "take": take.name if take is not None else None,
                "status": state.state if state else NOT_SUBMITTED,
                "seconds": seconds,
                "error": state.error if state else None,
                "job_id": state.job_id if state else None,
            })  # fmt: skip
        columns = ["cell", *self.axes, "take", "status", "seconds", "error", "job_id"]
        return pd.DataFrame(rows, columns=columns).set_index("cell")

    def cancel(self) -> list[str]:
        """Ask every cell's job that has not finished to stop (a queued one is skipped, a
        running one's pipeline stopped, as a job's Cancel); returns their ids."""
        asked = []
        for state in self._states():
            if state is not None and not state.finished:
                job_log.request_cancel(self.project.path, state.job_id)
                asked.append(state.job_id)
        return asked

    def __repr__(self) -> str:
        shape = " x ".join(f"{len(v)} {name}" for name, v in self.axes.items())
        return f"Sweep({self.id!r}, SHOT-{self.record.shot:03d}, {shape}, {self.mode})"

    def _repr_html_(self) -> str:
        """A progress bar and the counts (done / running / queued / failed / canceled)."""
        progress = self.progress()
        axes = ", ".join(f"{html.escape(name)} ({len(v)})" for name, v in self.axes.items())
        counts = " · ".join(f"{getattr(progress, name)} {name}" for name in STATUSES)
        return (
            f"<b>Sweep</b> <code>{html.escape(self.id)}</code> · SHOT-{self.record.shot:03d}"
            f" · {axes} · {html.escape(self.mode)}<br>"
            f'<progress max="{progress.total}" value="{progress.done}"></progress> '
            f"{progress.done}/{progress.total} · {counts}"
        )


def sheet_fonts() -> sheet.Fonts:
    """DejaVu Sans, bold and regular (the render's title font; says how to install it)."""
    from studio.assembly.render import FONT_FILES, font_file

    bold, regular = FONT_FILES
    found = font_file()  # raises, naming the package, when neither is there
    return sheet.Fonts(regular=regular if regular.is_file() else found,
                       bold=bold if bold.is_file() else found)  # fmt: skip


# --- starting a sweep ------------------------------------------------------------------------


def _manifests(
    engine: Engine, project: Project, node_id: str, wanted: list[Quality]
) -> dict[Quality, Manifest]:
    """The manifest of the pipeline the dispatcher picks at each quality (raises its
    ``NoWorkerFits`` / ``NoPipeline`` here, before anything is submitted)."""
    manifests = {}
    for quality in wanted:
        decision = engine.decide(project, node_id, quality=quality)
        manifests[quality] = get_pipeline(decision.pipeline).manifest
    return manifests


def start_sweep(
    project: Project,
    shot: str | Node,
    *,
    engine: Engine,
    prompt: str | Iterable[str] | None = None,
    seed: int | Iterable[int] | None = None,
    params: Mapping[str, Any] | None = None,
    mode: Mode = "product",
    quality: Quality | Iterable[Quality] | None = None,
) -> Sweep:
    """Check the axes, save the sweep, submit every cell as a job of ``engine`` at once,
    save the job ids and commit the sweep's file. Raises ``SweepError`` (every problem
    with the axes) or the engine's refusal before anything is submitted."""
    node_id = shot if isinstance(shot, str) else shot.id
    target = resolve_shot(project.graph.to_json(), node_id)  # says why when it is not a shot
    axes = sweep_axes(prompt=prompt, seed=seed, quality=quality, params=params)
    cells = expand(axes, mode)
    check_axes([axis for axis in axes if axis.name == QUALITY], {})  # before deciding on them
    default = project.manifest.project_settings.quality
    check_axes(axes, _manifests(engine, project, node_id, qualities(cells, default)))
    fixed_seed = None
    if "seed" not in (axis.name for axis in axes):
        fixed_seed = target.seed if target.seed is not None else secrets.randbelow(2**31)
    record = store.SweepRecord(
        id=store.new_sweep_id(), node_id=node_id, scene=target.scene, shot=target.shot,
        mode=mode, axes=[store.AxisRecord(name=a.name, values=list(a.values)) for a in axes],
        cells=[store.CellRecord(index=c.index, values=dict(c.values)) for c in cells],
        seed=fixed_seed, quality=default, created_at=datetime.now(UTC),
    )  # fmt: skip
    store.save(project.path, record)  # first: a start cut short still leaves its record
    requests = [
        JobRequest(quality=cell.quality, overrides=_overrides(cell, fixed_seed),
                   sweep=SweepMark(id=record.id, cell=cell.index, values=dict(cell.values)))
        for cell in cells
    ]  # fmt: skip
    try:
        # One submission for every cell: one job-log write, one dispatch decision a quality.
        # All or nothing: a refused cell submits none, and a submission cut short cancels
        # the cells it reached and fails the others (in the job log): no sweep to keep.
        jobs = engine.generate_many(project, node_id, requests)
    except BaseException:
        store.sweep_path(project.path, record.id).unlink(missing_ok=True)
        raise
    for cell_record, job in zip(record.cells, jobs, strict=True):
        cell_record.job_id = job.id
    store.save(project.path, record)
    store.commit(project.path, record)
    return Sweep(project, record)


def _overrides(cell: Cell, fixed_seed: int | None) -> Overrides:
    return Overrides(prompt=cell.prompt,
                     seed=cell.seed if cell.seed is not None else fixed_seed,
                     inputs=cell.inputs)  # fmt: skip


# --- finding sweeps ----------------------------------------------------------------------------


def open_sweep(project: Project, sweep_id: str) -> Sweep:
    """The sweep saved as ``04_Project_Files/Sweeps/<sweep_id>.json``."""
    return Sweep(project, store.load(project.path, sweep_id))


def project_sweeps(project: Project) -> list[Sweep]:
    """Every sweep saved in the project, oldest first (``project.sweeps()``)."""
    return [open_sweep(project, sweep_id) for sweep_id in store.sweep_ids(project.path)]
