"""Rendering through the server: ``client:render_final_sequence`` over the WebSocket runs the
studio engine's render job on a REAL local Dask cluster (the studio's own, whose worker
declares the CPU slot renders ask for) with the real renderer; every client sees its events,
and the film and EDL come back as media-route URLs the browser can load (and seek in)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import LocalCluster

from studio import Project
from studio.engine.cluster import local_cluster
from tests.engine.films import probe, two_shot_edit
from tests.jupyter_extension.test_ws import receive, send

pytestmark = pytest.mark.slow
TIMEOUT = 180


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with local_cluster(n_workers=1, vram_gb=[], processes=False, dashboard=False) as local:
        yield local


@pytest.fixture
def engine_env(cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_SCHEDULER", cluster.scheduler_address)


async def until_done(ws, node_id: str) -> list[dict[str, Any]]:
    events = []
    while True:
        message = await receive(ws, timeout=TIMEOUT)
        if message["payload"].get("node_id") != node_id:
            continue
        events.append(message)
        if message["event"] in ("server:task_success", "server:task_failed"):
            return events


async def test_the_render_event_over_the_websocket(
    engine_env, connect, jp_fetch, jp_base_url, film: Project, tmp_path: Path
) -> None:
    two_shot_edit(film, tmp_path / "media")
    first, second = await connect(), await connect()
    await send(first, "client:render_final_sequence", node_id="asm")
    events = await until_done(second, "asm")
    assert events == await until_done(first, "asm")  # every client, the same events
    names = [m["event"] for m in events]
    assert names[-1] == "server:task_success", events[-1]
    assert events[0]["payload"]["state"] == "queued" and "server:task_progress" in names
    result = events[-1]["payload"]["result"]
    assert result["output_url"] == "06_Exports/Night_Market_v001.mp4"
    assert result["video_url"].endswith("/media/06_Exports/Night_Market_v001.mp4")
    assert result["edl_url"].endswith("/media/04_Project_Files/EDLs/Night_Market_v001.edl")

    # The browser's player loads it from the media route, in ranges.
    route = result["video_url"].removeprefix(jp_base_url)
    response = await jp_fetch(route, headers={"Range": "bytes=0-99"})
    assert response.code == 206 and response.headers["Content-Type"] == "video/mp4"
    whole = await jp_fetch(route)
    served = tmp_path / "served.mp4"
    served.write_bytes(whole.body)
    assert probe(served)["frames"] == 90 == result["frames"]

    # A client that connects later gets the same links from the job log.
    late = await connect()
    await send(late, "client:sync_request")
    sync = await receive(late)
    status = sync["payload"]["node_status"]["asm"]
    assert (status["state"], status["video_url"]) == ("success", result["video_url"])


async def test_a_refused_render_is_told_on_the_assembler(engine_env, connect, film: Project):
    graph = film.graph
    graph.add_node("Shot", id="s10", scene=1, shot=10)
    graph.add_node("VSEAssembler", id="asm")
    graph.connect("s10", "output", "asm", "clips")
    graph.save()
    ws = await connect()
    await send(ws, "client:render_final_sequence", node_id="asm")
    failed = await receive(ws, timeout=TIMEOUT)
    while failed["event"] != "server:task_failed":  # (the engine's start notice first)
        failed = await receive(ws, timeout=TIMEOUT)
    assert (
        failed["payload"]["node_id"] == "asm" and "generate it first" in failed["payload"]["error"]
    )
    notice = await receive(ws, timeout=TIMEOUT)
    assert notice["event"] == "server:notification" and notice["payload"]["node_id"] == "s10"
