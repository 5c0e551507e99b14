"""Python-side graph changes reach the canvas in a real JupyterLab + Chromium as patches; a
patch lost or out of order on the way makes the canvas ask for, and show, the whole graph.
The kernel's WebSocket goes through the test, which counts (and drops or swaps) its frames."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from studio import Workspace
from tests.browser.jupyter import Lab, open_and_run, run_in_kernel, wait_idle, write_notebook

pytestmark = pytest.mark.slow
PATCH, FULL_SYNC, SYNC_REQUEST = b"server:graph_patch", b"server:full_sync", b"client:sync_request"


class KernelSocket:
    """The kernel WebSocket of the page, relayed: what went each way, and a hook to tamper with
    the next graph patch from the kernel."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.sent: list[bytes] = []
        self.tamper: Callable[[Any, Any], bool] | None = None
        """Given a patch frame and the page's end, returns True once it dealt with the frame."""

    def route(self, page: Any) -> None:
        page.route_web_socket(re.compile(r"/api/kernels/[^/]+/channels"), self._relay)

    def _relay(self, page_end: Any) -> None:
        kernel = page_end.connect_to_server()

        def to_kernel(message: str | bytes) -> None:
            self.sent.append(as_bytes(message))
            kernel.send(message)

        def to_page(message: str | bytes) -> None:
            frame = as_bytes(message)
            if PATCH in frame and self.tamper is not None and self.tamper(message, page_end):
                return
            self.received.append(frame)
            page_end.send(message)

        page_end.on_message(to_kernel)
        kernel.on_message(to_page)

    def count(self, what: bytes, since: int = 0, *, sent: bool = False) -> int:
        return sum(what in frame for frame in (self.sent if sent else self.received)[since:])


def as_bytes(message: str | bytes) -> bytes:
    return message.encode() if isinstance(message, str) else message


def prompt(page: Any, node_id: str) -> Any:
    return page.locator(f".svelte-flow__node[data-id='{node_id}'] textarea[data-field='prompt']")


def wait_for_prompt(page: Any, node_id: str, text: str) -> None:
    page.wait_for_function(
        "([id, text]) => document.querySelector("
        "`.svelte-flow__node[data-id='${id}'] textarea[data-field='prompt']`)?.value === text",
        arg=[node_id, text],
        timeout=15_000,
    )


def open_canvas(lab: Lab, page: Any, name: str) -> KernelSocket:
    """A project with shots a, b, c (a and b feeding c's assembler), its canvas on screen."""
    workspace = Workspace(lab.root / "workspace")
    project = workspace.create_project(name)
    graph = project.graph
    for index, shot in enumerate("abc"):
        graph.add_node("Shot", id=shot, prompt=f"shot {shot}", position=(index * 420, 0))
    graph.add_node("VSEAssembler", id="cut", position=(420, 500))
    graph.connect("a", "output", "cut", "clips", id="e-a")
    graph.connect("b", "output", "cut", "clips", id="e-b")
    graph.save()
    notebook = f"{project.name}.ipynb"
    write_notebook(
        lab.root / notebook,
        f"import json, studio\nproject = studio.Workspace({str(workspace.path)!r})"
        f".open_project({project.name!r})\ngraph = project.graph\n"
        "canvas = project.canvas(engine=False)\ncanvas",
    )
    socket = KernelSocket()
    socket.route(page)
    open_and_run(page, lab, notebook)
    page.wait_for_function("document.querySelectorAll('.svelte-flow__node').length === 4")
    wait_idle(page)
    page.wait_for_timeout(500)  # the fit view after the first paint
    return socket


def shown_graph(page: Any) -> dict[str, Any]:
    """What the canvas shows: each node's prompt (Shots) and the edges' ends."""
    return dict(
        page.evaluate("""() => {
          const nodes = {};
          for (const el of document.querySelectorAll('.svelte-flow__node')) {
            nodes[el.dataset.id] = el.querySelector("textarea[data-field='prompt']")?.value ?? null;
          }
          const edges = [...document.querySelectorAll('.svelte-flow__edge')]
            .map((el) => el.getAttribute('data-id')).sort();
          return { nodes, edges };
        }""")
    )


def kernel_graph(page: Any) -> dict[str, Any]:
    """The Python Graph, as :func:`shown_graph` puts it."""
    graph = json.loads(run_in_kernel(page, "print(json.dumps(graph.to_json()))"))
    return {
        "nodes": {n["id"]: n["data"].get("prompt") for n in graph["nodes"]},
        "edges": sorted(e["id"] for e in graph["edges"]),
    }


def test_python_changes_arrive_as_patches_and_leave_a_drag_alone(lab: Lab, page: Any) -> None:
    socket = open_canvas(lab, page, "Patched")
    frames, asked = len(socket.received), len(socket.sent)
    run_in_kernel(page, "graph.update_node('a', prompt='via a patch')")
    wait_for_prompt(page, "a", "via a patch")
    assert socket.count(PATCH, frames) == 1
    assert socket.count(FULL_SYNC, frames) == 0
    assert socket.count(SYNC_REQUEST, asked, sent=True) == 0

    # Python changes b while the user drags c: c stays under the pointer
    header = page.locator(".svelte-flow__node[data-id='c'] header")
    box = header.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 10)
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(box["x"] + 20 + step * 20, box["y"] + 10 + step * 12)
    dragged = header.bounding_box()
    run_in_kernel(page, "graph.update_node('b', prompt='during the drag')")
    wait_for_prompt(page, "b", "during the drag")
    assert header.bounding_box() == dragged
    page.mouse.up()
    page.wait_for_timeout(500)
    moved = json.loads(run_in_kernel(page, "print(json.dumps(graph.node('c').position))"))
    assert moved["x"] > 420 and moved["y"] > 0
    assert shown_graph(page) == kernel_graph(page)


def drop_one(_message: Any, _page_end: Any) -> bool:
    return True


class SwapTwo:
    """Hold the first patch back and deliver it after the second."""

    def __init__(self) -> None:
        self.held: Any = None

    def __call__(self, message: Any, page_end: Any) -> bool:
        if self.held is None:
            self.held = message
            return True
        page_end.send(message)
        page_end.send(self.held)
        return True


@pytest.mark.parametrize("mishap", ["lost", "out of order"])
def test_a_patch_that_does_not_follow_brings_the_whole_graph(
    lab: Lab, page: Any, mishap: str
) -> None:
    socket = open_canvas(lab, page, f"Mishap {mishap}")
    socket.tamper = drop_one if mishap == "lost" else SwapTwo()
    frames, asked = len(socket.received), len(socket.sent)
    run_in_kernel(page, "graph.update_node('a', prompt='first')")
    run_in_kernel(page, "graph.disconnect('e-b'); graph.update_node('c', prompt='second')")
    socket.tamper = None
    wait_for_prompt(page, "c", "second")
    wait_for_prompt(page, "a", "first")  # not in any patch the canvas took: the full sync's
    assert socket.count(SYNC_REQUEST, asked, sent=True) == 1
    assert socket.count(FULL_SYNC, frames) == 1
    page.wait_for_function("document.querySelectorAll('.svelte-flow__edge').length === 1")
    assert shown_graph(page) == kernel_graph(page)

    # patches continue from the full sync
    frames = len(socket.received)
    run_in_kernel(page, "graph.update_node('b', prompt='after the sync')")
    wait_for_prompt(page, "b", "after the sync")
    assert socket.count(FULL_SYNC, frames) == 0
    assert shown_graph(page) == kernel_graph(page)
