"""The sweep gallery in the kernel: its state fills in as a real sweep's takes arrive (the
engine on a real LocalCluster, the built-in t2i-draft through the ProcessRunner), Make active
goes through the studio service and a canvas of the project follows, and a sweep reopened
by another Project object (a new kernel) shows the same gallery."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from studio import Project
from studio.engine import Engine
from studio.widgets.canvas import project_canvas
from studio.widgets.gallery import NOT_MINE, Gallery
from tests.conftest import git_out
from tests.sweeps.made import made_sweep
from tests.sweeps.test_sweep_dask import TIMEOUT, add_shot, client, engine

__all__ = ["client", "engine"]  # the sweeps' cluster fixtures, used here


def wait_until(condition: Any, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_the_gallery_fills_in_as_the_takes_arrive(engine: Engine, project: Project):
    node_id = add_shot(project)
    sweep = project.sweep(node_id, prompt=["dawn market", "night market"],
                          params={"width": [64, 128]})  # fmt: skip
    gallery = sweep.gallery()
    assert isinstance(gallery, Gallery) and gallery.live and gallery.polling
    seen: list[list[str]] = [[c["status"] for c in gallery.cells]]
    gallery.observe(lambda change: seen.append([c["status"] for c in change["new"]]), "cells")
    assert seen[0].count("done") < 4  # just submitted: the pipelines have not run yet

    (facet,) = gallery.layout["facets"]
    assert (facet["row_axis"], facet["column_axis"]) == ("prompt", "width")
    assert facet["row_labels"] == ["dawn market", "night market"]
    assert facet["column_labels"] == ["64", "128"] and facet["cells"] == [[0, 1], [2, 3]]

    wait_until(lambda: not gallery.polling)
    assert not gallery.live
    assert gallery.progress == {"done": 4, "running": 0, "queued": 0, "failed": 0,
                                "canceled": 0, "total": 4, "finished": True}  # fmt: skip
    done_counts = [statuses.count("done") for statuses in seen]
    assert done_counts == sorted(done_counts) and done_counts[-1] == 4  # filled in, never back
    assert len(seen) >= 2  # it changed while the sweep ran, not just at the end
    takes = sweep.takes()
    for cell, take in zip(gallery.cells, takes, strict=True):
        assert take is not None and cell["take"] == take.name
        assert cell["thumbnail"].startswith("data:image/jpeg;base64,")  # the cached thumbnail
        assert cell["image"].endswith(take.path.relative_to(project.path).as_posix())
    assert gallery.cells[1]["label"] == "prompt: dawn market · width: 128"

    # Make active: through the studio service; a canvas of the project follows.
    canvas = project_canvas(project, engine=False)
    chosen = takes[1]
    assert chosen is not None and gallery.active_take != chosen.name
    assert gallery.make_active(chosen.name)
    assert project.active_take(scene=1, shot=10).name == chosen.name
    assert canvas.node_status[node_id]["active_take"] == chosen.name
    assert project.graph.node(node_id).data["active_take"] == chosen.name
    folder = project.shot_path(scene=1, shot=10)
    assert json.loads((folder / "active_take.json").read_text())["take"] == chosen.name
    assert "active_take.json" in git_out(project.path, "show", "--name-only", "HEAD")
    assert gallery.notice["level"] == "info" and chosen.name in gallery.notice["message"]
    # A refusal is told, and nothing changes.
    assert not gallery.make_active("SHOT-010_v09_take09.png")
    assert gallery.notice["level"] == "error" and "SHOT-010_v09_take09.png" in gallery.notice["message"]
    assert gallery.active_take == chosen.name
    gallery._on_message(gallery, {"event": "client:add_node", "payload": {}}, [])
    assert gallery.notice["message"] == NOT_MINE
    canvas.close()
    gallery.close()

    # A new kernel: the sweep reopened from its file shows the same cells, finished at once.
    [reopened] = Project(project.path).sweeps()
    again = reopened.gallery()
    assert not again.polling and not again.live
    assert [c["take"] for c in again.cells] == [c["take"] for c in gallery.cells]
    assert again.active_take == chosen.name
    again.close()


def test_a_gallery_shows_failed_and_queued_cells_and_stops_on_close(project: Project):
    sweep = made_sweep(project, {"seed": [1, 2, 3]}, failed={1}, queued={2})
    gallery = sweep.gallery()
    statuses = [(c["status"], c["error"]) for c in gallery.cells]
    assert statuses == [("done", None), ("failed", "cell 1: out of VRAM"), ("queued", None)]
    assert gallery.cells[1]["thumbnail"] is None and gallery.cells[2]["take"] is None
    assert gallery.polling  # a cell is still queued
    gallery.close()
    wait_until(lambda: not gallery.polling, timeout=5)
