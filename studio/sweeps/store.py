"""A sweep on disk: ``04_Project_Files/Sweeps/<id>.json`` (its axes, cells and job ids),
written atomically and committed like the project's other files, so a new kernel (or a
teammate's clone) finds the sweep, and its jobs in the job log."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from studio.documents import load_model, write_model
from studio.errors import InvalidInput
from studio.project import repo
from studio.quality import Quality
from studio.sweeps.cells import Axis, Cell, Mode

SWEEPS_DIR: Final = "04_Project_Files/Sweeps"
ID_PATTERN: Final = r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$"
Value = str | int | float | bool
"""An axis value: a prompt, a seed, a quality, a scalar pipeline input."""


class AxisRecord(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    name: str
    values: list[Value]


class CellRecord(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    index: int = Field(ge=0)
    values: dict[str, Value]
    job_id: str | None = None
    """None until the cell's job is submitted (the record is written once before)."""


class SweepRecord(BaseModel):
    """What ``<id>.json`` holds. Unknown keys are kept (a newer studio's)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    format: Literal[1] = 1
    id: str = Field(pattern=ID_PATTERN)
    node_id: str
    scene: int
    shot: int
    mode: Mode
    axes: list[AxisRecord]
    cells: list[CellRecord]
    seed: int | None = None
    """Every cell's seed when seed is not an axis (drawn once: cells differ by their axes)."""
    quality: Quality
    """The quality of cells without a quality axis (the project's when the sweep began)."""
    created_at: datetime

    def cell(self, index: int) -> Cell:
        return Cell(index, dict(self.cells[index].values))

    def axis_list(self) -> list[Axis]:
        return [Axis(axis.name, tuple(axis.values)) for axis in self.axes]


def new_sweep_id(now: datetime | None = None) -> str:
    """``YYYYMMDD-HHMMSS-xxxxxx`` (UTC, then random): sorts by creation, never collides."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def sweeps_dir(project_root: Path) -> Path:
    return project_root / SWEEPS_DIR


def sweep_path(project_root: Path, sweep_id: str) -> Path:
    return sweeps_dir(project_root) / f"{sweep_id}.json"


def save(project_root: Path, record: SweepRecord) -> Path:
    """Write the record atomically (temp file + rename); returns its path."""
    path = sweep_path(project_root, record.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_model(path, record)
    return path


def commit(project_root: Path, record: SweepRecord) -> str:
    """Commit the record's file (only it); returns the commit id."""
    path = sweep_path(project_root, record.id)
    submitted = sum(cell.job_id is not None for cell in record.cells)
    shape = " x ".join(f"{len(axis.values)} {axis.name}" for axis in record.axes)
    return repo.commit_paths(
        project_root,
        [path],
        message=f"Sweep {record.id}: SHOT-{record.shot:03d}, {shape} ({record.mode}), "
        f"{submitted} of {len(record.cells)} cells submitted",
    )


def load(project_root: Path, sweep_id: str) -> SweepRecord:
    """The sweep's record; ``InvalidInput`` naming the sweeps there when there is none (a
    file that does not read raises ``ManifestError`` naming the file and the field)."""
    path = sweep_path(project_root, sweep_id)
    if not path.is_file():
        known = ", ".join(sweep_ids(project_root)) or "none yet"
        raise InvalidInput(f"no sweep {sweep_id!r} in {SWEEPS_DIR} (sweeps: {known})")
    return load_model(path, SweepRecord)


def sweep_ids(project_root: Path) -> list[str]:
    """The ids of the sweeps saved in the project, oldest first."""
    folder = sweeps_dir(project_root)
    if not folder.is_dir():
        return []
    return sorted(path.stem for path in folder.glob("*.json") if not path.name.startswith("."))
