"""The kernel canvas' Render button (``client:render_final_sequence``): the studio engine's
render job by default, shown on the Assembler node; ``canvas.on_render(handler)`` still
replaces it. A real Dask cluster and the real renderer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client

from studio import Project
from studio.engine import Engine
from studio.service import GivenEngine
from studio.widgets.canvas import Canvas
from tests.engine.films import cpu_cluster, two_shot_edit

pytestmark = pytest.mark.slow
TIMEOUT = 180


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with cpu_cluster() as c:
        yield c


def send(canvas: Canvas, event: str, **payload: Any) -> None:
    canvas._handle_custom_msg({"event": event, "payload": payload}, [])  # the comm's path


def test_render_runs_on_the_canvas_engine_and_a_handler_replaces_it(
    project: Project, client: Client, tmp_path: Path
) -> None:
    two_shot_edit(project, tmp_path / "media")
    canvas = Canvas(project.graph, project=project, autosave_delay=-1,
                    engines=GivenEngine(Engine(client=client)))  # fmt: skip
    try:
        send(canvas, "client:render_final_sequence", node_id="asm")
        deadline = time.monotonic() + TIMEOUT
        while canvas.node_status.get("asm", {}).get("state") not in ("success", "failed"):
            assert time.monotonic() < deadline, canvas.node_status.get("asm")
            time.sleep(0.05)
        status = canvas.node_status["asm"]
        assert status["state"] == "success", status
        assert status["output_url"] == "06_Exports/Test_Film_v001.mp4"
        assert status["edl"] == "04_Project_Files/EDLs/Test_Film_v001.edl"
        steps = [m["payload"].get("step", "") for m in canvas.sent
                 if m["event"] == "server:task_progress"]  # fmt: skip
        assert any(step.startswith("rendering frame") for step in steps)

        asked: list[str] = []
        canvas.on_render(asked.append)  # a notebook's own renderer, as before
        send(canvas, "client:render_final_sequence", node_id="asm")
        assert asked == ["asm"]
        assert len(list((project.path / "06_Exports").glob("*.mp4"))) == 1
    finally:
        canvas.close()
