"""The WebSocket speaks PRD Table 6 (studio.events): sync, node edits broadcast to every
client of the project, and bad messages answered without dropping the connection."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from studio import Project
from studio.events import parse_event

TIMEOUT = 10


async def receive(ws, *, timeout: float = TIMEOUT) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.read_message(), timeout)
    assert raw is not None, "the server closed the connection"
    message: dict[str, Any] = json.loads(raw)
    parse_event(message)  # every message is valid Table 6
    return message


async def send(ws, event: str, **payload: Any) -> None:
    await ws.write_message(json.dumps({"event": event, "payload": payload}))


@pytest.fixture
def shot_film(film: Project) -> Project:
    film.graph.add_node("Shot", id="shot-1", prompt="lanterns", scene=1, shot=10)
    film.graph.save()
    return film


async def test_sync_request_gets_the_full_graph(connect, shot_film: Project):
    ws = await connect()
    await send(ws, "client:sync_request")
    message = await receive(ws)
    assert message["event"] == "server:full_sync"
    graph = message["payload"]["graph"]
    assert graph["version"] == 2 and [n["id"] for n in graph["nodes"]] == ["shot-1"]
    status = message["payload"]["node_status"]["shot-1"]
    assert status == {
        "takes": [],
        "active_take": None,
        "take_pinned": False,
        "thumbnail_url": None,
        "video_url": None,
    }


async def test_node_updates_are_saved_and_reach_every_client(connect, shot_film: Project):
    first, second = await connect(), await connect()
    await send(first, "client:update_node_data", node_id="shot-1", data={"prompt": "rain"})
    for ws in (first, second):
        message = await receive(ws)
        assert message["event"] == "server:full_sync"
        node = message["payload"]["graph"]["nodes"][0]
        assert node["data"]["prompt"] == "rain"
        assert message["payload"]["graph"]["version"] == 3
    on_disk = json.loads(shot_film.canvas_path.read_text())
    assert on_disk["version"] == 3 and on_disk["nodes"][0]["data"]["prompt"] == "rain"


async def test_structural_edits_are_applied_through_the_graph(connect, shot_film: Project):
    ws = await connect()
    await send(ws, "client:add_node", type="Pipeline", id="pipe-1", position={"x": 5, "y": 5},
               data={"pipeline_id": "t2i-draft"})  # fmt: skip
    assert (await receive(ws))["payload"]["graph"]["version"] == 3
    await send(ws, "client:connect", source="pipe-1", source_handle="pipeline",
               target="shot-1", target_handle="pipeline")  # fmt: skip
    graph = (await receive(ws))["payload"]["graph"]
    assert [(e["source"], e["target"]) for e in graph["edges"]] == [("pipe-1", "shot-1")]
    await send(ws, "client:move_nodes", positions={"pipe-1": {"x": 50, "y": 60}})
    graph = (await receive(ws))["payload"]["graph"]
    assert graph["nodes"][1]["position"] == {"x": 50, "y": 60}
    await send(ws, "client:remove_elements", node_ids=["pipe-1"])
    graph = (await receive(ws))["payload"]["graph"]
    assert [n["id"] for n in graph["nodes"]] == ["shot-1"] and graph["edges"] == []
    assert json.loads(shot_film.canvas_path.read_text())["version"] == 6


async def test_refused_edits_get_an_error_and_the_true_graph(connect, shot_film: Project):
    ws = await connect()
    await send(ws, "client:update_node_data", node_id="shot-1", data={"scene": "one"})
    error = await receive(ws)
    assert error["event"] == "server:notification"
    assert error["payload"]["level"] == "error" and "scene" in error["payload"]["message"]
    sync = await receive(ws)
    assert sync["event"] == "server:full_sync"
    assert sync["payload"]["graph"]["nodes"][0]["data"]["scene"] == 1
    await send(ws, "client:update_node_data", node_id="nope", data={"prompt": "x"})
    error = await receive(ws)
    assert "nope" in error["payload"]["message"]
    assert (await receive(ws))["event"] == "server:full_sync"
    assert json.loads(shot_film.canvas_path.read_text())["version"] == 2


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("{not json", "JSON"),
        (json.dumps([1, 2]), "an event must be an object"),
        (json.dumps({"event": "client:dance", "payload": {}}), "unknown event"),
        (json.dumps({"event": "client:start_generation", "payload": {}}), "node_id"),
        (json.dumps({"event": "client:sync_request", "payload": {"x": 1}}), "x"),
        (json.dumps({"event": "server:full_sync", "payload": {"graph": {}}}), "server event"),
        (json.dumps({"event": "client:undo", "payload": {}}), "not available"),
    ],
)
async def test_bad_messages_get_an_error_and_keep_the_connection(
    connect, shot_film: Project, raw: str, says: str
):
    ws = await connect()
    await ws.write_message(raw)
    error = await receive(ws)
    assert error["event"] == "server:notification"
    assert error["payload"]["level"] == "error" and says in error["payload"]["message"]
    await send(ws, "client:sync_request")  # still connected and answering
    assert (await receive(ws))["event"] == "server:full_sync"


async def test_clients_of_other_projects_hear_nothing(connect, shot_film: Project, ws_root):
    ws_root.create_project("Other")
    here, elsewhere = await connect(), await connect("Other")
    await send(here, "client:update_node_data", node_id="shot-1", data={"prompt": "rain"})
    assert (await receive(here))["event"] == "server:full_sync"
    with pytest.raises(asyncio.TimeoutError):
        await receive(elsewhere, timeout=0.5)


async def test_a_rest_save_is_pushed_to_connected_clients(connect, api, shot_film: Project):
    ws = await connect()
    _, loaded = await api("GET", "projects", "Night_Market")
    loaded["graph"]["nodes"][0]["data"]["prompt"] = "from REST"
    body = {"graph": loaded["graph"], "version": loaded["version"]}
    status, _ = await api("PUT", "projects", "Night_Market", body=body)
    assert status == 200
    message = await receive(ws)
    assert message["payload"]["graph"]["nodes"][0]["data"]["prompt"] == "from REST"


async def test_cancel_without_a_running_job_says_so(connect, shot_film: Project):
    ws = await connect()
    await send(ws, "client:cancel_generation", node_id="shot-1")
    error = await receive(ws)
    assert error["payload"]["node_id"] == "shot-1" and "no running" in error["payload"]["message"]


async def test_choosing_a_take_sticks(connect, shot_film: Project, make_png):
    """The widget's take picker over the WebSocket: the shot's active take changes in its
    folder (as in the canvas widget), so the next sync and ``project.active_take`` agree."""
    takes = []
    for color in ((255, 0, 0), (0, 0, 255)):
        take = shot_film.new_take(scene=1, shot=10, ext="png", prompt="x")
        take.write_bytes(make_png(color=color))
        takes.append(take)
    assert shot_film.active_take(scene=1, shot=10) == takes[1]  # the newest, by default
    ws = await connect()
    await send(ws, "client:update_node_data", node_id="shot-1",
               data={"active_take": takes[0].name})  # fmt: skip
    message = await receive(ws)
    assert message["event"] == "server:full_sync"
    assert message["payload"]["node_status"]["shot-1"]["active_take"] == takes[0].name
    assert shot_film.active_take(scene=1, shot=10) == takes[0]
    late = await connect()
    await send(late, "client:sync_request")
    status = (await receive(late))["payload"]["node_status"]["shot-1"]
    assert status["active_take"] == takes[0].name
    # A name that is not a ready take of the shot: refused, nothing changes.
    await send(ws, "client:update_node_data", node_id="shot-1",
               data={"active_take": "SHOT-010_v09_take09.png"})  # fmt: skip
    refused = await receive(ws)
    assert (
        refused["event"] == "server:notification" and "not a take" in refused["payload"]["message"]
    )
    assert shot_film.active_take(scene=1, shot=10) == takes[0]


async def test_a_failed_sync_after_a_rest_save_does_not_break_the_reply(
    api, shot_film: Project, monkeypatch, caplog
):
    from studio_jupyter import service

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk gone")

    _, loaded = await api("GET", "projects", "Night_Market")
    monkeypatch.setattr(service, "full_sync", broken)
    body = {"graph": loaded["graph"], "version": loaded["version"]}
    status, reply = await api("PUT", "projects", "Night_Market", body=body)
    assert (status, reply["status"]) == (200, "success")
    for _ in range(100):  # the sync runs after the reply was sent
        if "syncing Night_Market after a save failed" in caplog.text:
            break
        await asyncio.sleep(0.05)
    assert "syncing Night_Market after a save failed" in caplog.text
    assert "Cannot send error response after headers written" not in caplog.text


async def test_an_engine_that_cannot_listen_is_a_warning_not_a_dead_socket(
    connect, jp_serverapp, shot_film: Project
):
    class Unreachable:
        def listen(self, project: Any, listener: Any) -> Any:
            raise OSError("Timed out trying to connect to tcp://127.0.0.1:9")

    state = jp_serverapp.web_app.settings["studio"]
    state._engine = Unreachable()
    try:
        ws = await connect()
        warning = await receive(ws)
        assert warning["event"] == "server:notification"
        assert warning["payload"]["level"] == "warning"
        assert "tcp://127.0.0.1:9" in warning["payload"]["message"]
        assert state.hub("Night_Market").unlisten is None  # tried again by the next client
        await send(ws, "client:sync_request")
        assert (await receive(ws))["event"] == "server:full_sync"
    finally:
        state._engine = None
