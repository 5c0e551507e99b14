"""Finding 3 of issue 11: non-finite numbers never reach the canvas file. NaN, Infinity and
1e999 sent by the canvas widget's comm, over the WebSocket or in ``PUT projects/{id}`` are
refused with a clear error; the file stays standard JSON (what the browser's JSON.parse reads).

Then the property: any sequence of graph edits and saves through the widget, the WebSocket and
REST, with any numbers, leaves a canvas file that a strict reader accepts and that reloads to
the graph the last successful save reported. Real Jupyter Server (pytest-jupyter), real
WebSocket, a real canvas widget model in this process, editing the same file."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from studio import Project
from studio.graph.graph import Graph, GraphError
from studio.widgets.canvas import Canvas
from tests.jupyter_extension.test_ws import receive, send
from tests.reliability.faults import strict_json

T = TypeVar("T")
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]


def canvas_of(project: Project) -> Canvas:
    return Canvas(project.graph, project=project, autosave_delay=-1)


def with_number(template: dict[str, Any], literal: str) -> str:
    """``template`` as JSON text with the string ``"@"`` replaced by a raw number ``literal``
    (``NaN``, ``1e999``: what a hostile or buggy client can put on the wire)."""
    return json.dumps(template).replace('"@"', literal)


def python_number(literal: str) -> float:
    """What Python's own JSON reading makes of ``literal`` (ipykernel's comm parses so)."""
    return float(literal.replace("Infinity", "inf"))


@pytest.fixture
def shot_film(film: Project) -> Project:
    film.graph.add_node("Shot", id="shot-1", prompt="lanterns", scene=1, shot=10)
    film.graph.save()
    return film


@pytest.mark.parametrize("literal", NON_FINITE)
async def test_the_websocket_refuses_non_finite_positions(
    connect, shot_film: Project, literal: str
):
    before = shot_film.canvas_path.read_text()
    ws = await connect()
    move = {"event": "client:move_nodes", "payload": {"positions": {"shot-1": {"x": "@", "y": 0}}}}
    await ws.write_message(with_number(move, literal))
    error = await receive(ws)
    assert error["event"] == "server:notification" and error["payload"]["level"] == "error"
    assert "JSON" in error["payload"]["message"]
    await send(ws, "client:sync_request")  # the socket is kept
    assert (await receive(ws))["event"] == "server:full_sync"
    assert shot_film.canvas_path.read_text() == before
    strict_json(shot_film.canvas_path)


@pytest.mark.parametrize("literal", NON_FINITE)
async def test_rest_refuses_non_finite_numbers_in_a_saved_graph(
    api, shot_film: Project, literal: str
):
    before = shot_film.canvas_path.read_text()
    _, loaded = await api("GET", "projects", "Night_Market")
    loaded["graph"]["nodes"][0]["position"]["x"] = "@"
    body = with_number({"graph": loaded["graph"], "version": loaded["version"]}, literal)
    status, reply = await api("PUT", "projects", "Night_Market", raw=body.encode())
    assert status == 400 and "JSON" in reply["message"]
    assert shot_film.canvas_path.read_text() == before  # nothing written, version unchanged
    strict_json(shot_film.canvas_path)


@pytest.mark.parametrize("literal", NON_FINITE)
def test_the_widget_refuses_non_finite_positions_and_fields(project: Project, literal: str):
    canvas = canvas_of(project)
    value = python_number(literal)
    for content in (
        {"event": "client:add_node", "payload": {"type": "Shot", "position": {"x": value, "y": 0}}},
        {"event": "client:add_node", "payload": {"type": "SuperResolution", "id": "up",
                                                 "position": {"x": 0, "y": 0},
                                                 "data": {"scale": value}}},
    ):  # fmt: skip
        canvas._on_message(None, content, [])
        notice = [m for m in canvas.sent if m["event"] == "server:notification"][-1]
        assert "finite" in notice["payload"]["message"]
    assert project.graph.nodes == []
    canvas._on_message(None, {"event": "client:save", "payload": {}}, [])
    strict_json(project.canvas_path)


# --- integers a browser would round (past 2^53 - 1) ------------------------------------------

BIG = 2**53 + 1  # 9007199254740993: JavaScript reads 9007199254740992


async def test_the_websocket_refuses_integers_a_browser_would_round(connect, shot_film: Project):
    before = shot_film.canvas_path.read_text()
    ws = await connect()
    update = {"event": "client:update_node_data",
              "payload": {"node_id": "shot-1", "data": {"seed": BIG}}}  # fmt: skip
    await ws.write_message(json.dumps(update))
    error = await receive(ws)
    assert error["event"] == "server:notification" and error["payload"]["level"] == "error"
    assert f"the integer {BIG} is beyond" in error["payload"]["message"]
    assert "payload.data.seed" in error["payload"]["message"]  # where it is
    assert shot_film.canvas_path.read_text() == before


async def test_rest_refuses_integers_a_browser_would_round(api, shot_film: Project):
    before = shot_film.canvas_path.read_text()
    _, loaded = await api("GET", "projects", "Night_Market")
    loaded["graph"]["nodes"][0]["data"]["note_id"] = BIG  # a key no type declares: kept as is
    body = json.dumps({"graph": loaded["graph"], "version": loaded["version"]})
    status, reply = await api("PUT", "projects", "Night_Market", raw=body.encode())
    assert status == 400 and "browser would silently round" in reply["message"]
    assert 'graph.nodes[0].data.note_id in the object with id "shot-1"' in reply["message"]
    assert shot_film.canvas_path.read_text() == before


def test_the_widget_refuses_integers_a_browser_would_round(project: Project):
    canvas = canvas_of(project)
    content = {"event": "client:add_node", "payload": {"type": "Shot", "position": {"x": 0, "y": 0},
                                                       "data": {"seed": BIG}}}  # fmt: skip
    canvas._on_message(None, content, [])  # as ipykernel's comm parses: an exact Python int
    notice = [m for m in canvas.sent if m["event"] == "server:notification"][-1]
    assert "browser would silently round" in notice["payload"]["message"]
    assert project.graph.nodes == []


def test_the_graph_refuses_non_finite_numbers_from_python(project: Project):
    graph = project.graph
    node = graph.add_node("Shot", position=(1, 2))
    for bad in (math.nan, math.inf, 10**400):
        with pytest.raises(GraphError, match="finite"):
            graph.move_nodes({node.id: {"x": bad, "y": 0}})
        with pytest.raises(GraphError, match="finite"):
            graph.update_node(node.id, position=(0, bad))
    assert graph.node(node.id).position == {"x": 1.0, "y": 2.0}
    graph.save()
    assert strict_json(project.canvas_path)["nodes"][0]["position"] == {"x": 1.0, "y": 2.0}


# --- the property ---------------------------------------------------------------------------

NODE_TYPES = ["Shot", "Pipeline", "SuperResolution"]
numbers = st.one_of(
    st.sampled_from([*NON_FINITE, str(10**400)]),  # 10**400: an integer no float can hold
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.floats(min_value=1, max_value=8).map(repr),  # also inside SuperResolution.scale's range
)
transports = st.sampled_from(["widget", "ws", "rest"])


class Sessions:
    """The three ways to edit one project's canvas, driven from the hypothesis thread: the
    widget model directly, the WebSocket and REST through the server's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ws: Any, api: Any, film: Project) -> None:
        self.loop, self.ws, self.api, self.film = loop, ws, api, film
        self.canvas = canvas_of(film)
        self.pings = 0

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    # each returns the graph the transport says it saved, or None when it saved nothing

    def widget(self, message: str) -> dict[str, Any] | None:
        self.film.reload_graph()  # as the canvas shows another client's save (full_sync)
        content = json.loads(message)  # Python's reading, as ipykernel's: NaN -> nan
        self.canvas._on_message(None, content, [])
        self.canvas._on_message(None, {"event": "client:save", "payload": {}}, [])
        saved: dict[str, Any] = self.canvas.graph
        return saved if self.canvas.save_status == "saved" else None

    def websocket(self, message: str) -> dict[str, Any] | None:
        return self.call(self._ws(message))

    async def _ws(self, message: str) -> dict[str, Any] | None:
        self.pings += 1
        marker = f"ping-{self.pings}"  # answered by exactly one notification naming it
        await self.ws.write_message(message)
        await send(self.ws, "client:cancel_generation", node_id=marker)
        synced: dict[str, Any] | None = None
        while True:
            reply = await receive(self.ws)
            if reply["payload"].get("node_id") == marker:
                return synced
            if reply["event"] == "server:full_sync":
                synced = reply["payload"]["graph"]

    def rest_move(self, node_index: int, literal: str) -> dict[str, Any] | None:
        return self.call(self._rest_move(node_index, literal))

    async def _rest_move(self, node_index: int, literal: str) -> dict[str, Any] | None:
        _, loaded = await self.api("GET", "projects", "Night_Market")
        nodes = loaded["graph"]["nodes"]
        if nodes:
            nodes[node_index % len(nodes)]["position"]["x"] = "@"
        body = with_number({"graph": loaded["graph"], "version": loaded["version"]}, literal)
        status, reply = await self.api("PUT", "projects", "Night_Market", raw=body.encode())
        if status != 200:
            return None
        # The save is pushed to the WebSocket after the reply: take it off the socket now, so
        # the next WebSocket step reads only its own answers.
        while (await receive(self.ws))["payload"].get("graph", {}).get("version") != reply[
            "version"
        ]:
            pass
        graph: dict[str, Any] = (await self.api("GET", "projects", "Night_Market"))[1]["graph"]
        return graph


def edit_machine(sessions: Sessions) -> type[RuleBasedStateMachine]:
    film = sessions.film

    class CanvasEdits(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            graph = film.reload_graph()  # every example starts from the same three nodes
            graph.remove_elements(node_ids=[n.id for n in graph.nodes])
            for kind in NODE_TYPES:
                graph.add_node(kind, id=f"{kind.lower()}-1", position=(0, 0))
            graph.save()
            self.saved: dict[str, Any] | None = graph.to_json()

        def nodes(self) -> list[dict[str, Any]]:
            found = strict_json(film.canvas_path)["nodes"]
            return found or [{"id": "missing", "type": "Shot"}]

        def deliver(self, transport: str, message: str) -> None:
            deliver: Callable[[str], dict[str, Any] | None] = (
                sessions.widget if transport == "widget" else sessions.websocket
            )
            if (graph := deliver(message)) is not None:
                self.saved = graph

        @rule(transport=transports, kind=st.sampled_from(NODE_TYPES), x=numbers, y=numbers)
        def add_node(self, transport: str, kind: str, x: str, y: str) -> None:
            payload = {"type": kind, "position": {"x": "@x", "y": "@y"}}
            text = json.dumps({"event": "client:add_node", "payload": payload})
            self.deliver(transport, text.replace('"@x"', x).replace('"@y"', y))

        @rule(transport=transports, which=st.integers(0, 20), x=numbers)
        def move(self, transport: str, which: int, x: str) -> None:
            nodes = self.nodes()
            move = {"positions": {nodes[which % len(nodes)]["id"]: {"x": "@", "y": 1}}}
            self.deliver(transport, with_number({"event": "client:move_nodes", "payload": move},
                                                x))  # fmt: skip

        @rule(transport=transports, which=st.integers(0, 20), scale=numbers,
              prompt=st.text(max_size=20))  # fmt: skip
        def update(self, transport: str, which: int, scale: str, prompt: str) -> None:
            nodes = self.nodes()
            node = nodes[which % len(nodes)]
            data = {"scale": "@"} if node["type"] == "SuperResolution" else {"prompt": prompt}
            if node["type"] == "Pipeline":
                data = {"version": prompt}
            payload = {"node_id": node["id"], "data": data}
            self.deliver(transport, with_number({"event": "client:update_node_data",
                                                 "payload": payload}, scale))  # fmt: skip

        @rule(transport=transports, which=st.integers(0, 20))
        def remove(self, transport: str, which: int) -> None:
            nodes = self.nodes()
            payload = {"node_ids": [nodes[which % len(nodes)]["id"]]}
            self.deliver(transport, json.dumps({"event": "client:remove_elements",
                                                "payload": payload}))  # fmt: skip

        @rule(which=st.integers(0, 20), x=numbers)
        def rest_save(self, which: int, x: str) -> None:
            if (graph := sessions.rest_move(which, x)) is not None:
                self.saved = graph

        @invariant()
        def the_file_is_standard_json_and_reloads_to_the_saved_graph(self) -> None:
            content = strict_json(film.canvas_path)
            reloaded = Graph.load(film.canvas_path).to_json()
            assert reloaded == content
            if self.saved is not None:
                assert content == self.saved

    return CanvasEdits


@pytest.mark.slow
async def test_any_edits_and_saves_leave_a_valid_canvas_file(
    connect, api, shot_film: Project, jp_serverapp: Any
):
    sessions = Sessions(asyncio.get_running_loop(), await connect(), api, shot_film)
    machine = edit_machine(sessions)
    options = settings(
        max_examples=20,
        stateful_step_count=10,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    # Hypothesis is synchronous: it runs on a thread, so this loop keeps serving the server.
    await asyncio.get_running_loop().run_in_executor(
        None, lambda: run_state_machine_as_test(machine, settings=options)
    )
    strict_json(shot_film.canvas_path)
