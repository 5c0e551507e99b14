"""A sweep's file: written atomically, committed, read back, listed; a bad one says so."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from studio import Project
from studio.errors import InvalidInput, ManifestError
from studio.sweeps import store
from studio.sweeps.cells import expand, sweep_axes
from tests.conftest import git_out


def record(sweep_id: str | None = None) -> store.SweepRecord:
    axes = sweep_axes(prompt=["a", "b"], params={"width": [64, 128], "flag": [True]})
    cells = expand(axes, "product")
    return store.SweepRecord(
        id=sweep_id or store.new_sweep_id(), node_id="shot-1", scene=1, shot=10,
        mode="product", axes=[store.AxisRecord(name=a.name, values=list(a.values)) for a in axes],
        cells=[store.CellRecord(index=c.index, values=dict(c.values)) for c in cells],
        seed=7, quality="low", created_at=datetime.now(UTC),
    )  # fmt: skip


def test_ids_sort_by_creation_and_do_not_collide():
    early = store.new_sweep_id(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert re.fullmatch(store.ID_PATTERN, early) and early.startswith("20260102-030405-")
    assert early < store.new_sweep_id()
    assert len({store.new_sweep_id() for _ in range(50)}) == 50


def test_saved_committed_and_read_back_with_its_values_types(project: Project):
    saved = record()
    saved.cells[0].job_id = "abc123"
    path = store.save(project.path, saved)
    assert path == project.path / "04_Project_Files/Sweeps" / f"{saved.id}.json"
    assert not [p for p in path.parent.iterdir() if p.name != path.name]  # no temp file left
    commit = store.commit(project.path, saved)
    assert git_out(project.path, "status", "--porcelain") == ""
    message = git_out(project.path, "log", "-1", "--format=%s", commit)
    assert message.strip() == (
        f"Sweep {saved.id}: SHOT-010, 2 prompt x 2 width x 1 flag (product), 1 of 4 cells submitted"
    )
    loaded = store.load(project.path, saved.id)
    assert loaded == saved
    assert loaded.cells[3].values == {"prompt": "b", "width": 128, "flag": True}
    assert type(loaded.cells[0].values["flag"]) is bool  # not read back as 1
    assert loaded.axis_list()[1].values == (64, 128)


def test_listed_oldest_first(project: Project):
    assert store.sweep_ids(project.path) == []
    ids = ["20260101-000000-aaaaaa", "20250101-000000-bbbbbb"]
    for sweep_id in ids:
        store.save(project.path, record(sweep_id))
    assert store.sweep_ids(project.path) == sorted(ids)


def test_a_missing_sweep_names_the_ones_there(project: Project):
    store.save(project.path, record("20260101-000000-aaaaaa"))
    with pytest.raises(InvalidInput, match=r"no sweep 'nope'.*sweeps: 20260101-000000-aaaaaa"):
        store.load(project.path, "nope")


def test_a_damaged_file_names_the_file_and_field(project: Project):
    saved = record()
    path = store.save(project.path, saved)
    data = json.loads(path.read_text())
    data["mode"] = "grid"
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="mode"):
        store.load(project.path, saved.id)


def test_non_finite_values_are_refused():
    with pytest.raises(ValueError, match="finite"):
        store.AxisRecord(name="cfg", values=[float("nan")])
