"""The canvas sends each graph change as a numbered patch, sized by the change; the whole graph
only with the widget's state and a full sync (no browser: the comm's messages are recorded)."""

import json
import random
from typing import Any

import pytest

from studio import Project
from studio.events import GraphPatch
from studio.graph.graph import Graph
from studio.graph.patches import apply_patch
from studio.widgets.canvas import Canvas
from tests.widgets.test_canvas_model import make, send


def wire(canvas: Canvas) -> list[dict[str, Any]]:
    """Every comm message the canvas sends from now on (trait updates and custom messages)."""
    sent: list[dict[str, Any]] = []

    def record(msg_type: str, data: Any = None, *args: Any, **kwargs: Any) -> None:
        sent.append(data)

    canvas.comm.publish_msg = record
    return sent


def patches(canvas: Canvas) -> list[GraphPatch]:
    return [GraphPatch(**m["payload"]) for m in canvas.sent if m["event"] == "server:graph_patch"]


def big_graph(nodes: int) -> tuple[Graph, str]:
    """``nodes`` Shots and assemblers, 1.2 edges a node, as the benchmark builds them."""
    rng = random.Random(7)
    graph = Graph()
    assemblers = max(1, nodes // 5)
    shots = [graph.add_node("Shot", prompt=f"shot {i}").id for i in range(nodes - assemblers)]
    cuts = [graph.add_node("VSEAssembler").id for _ in range(assemblers)]
    pairs = {(shot, cuts[i % assemblers]) for i, shot in enumerate(shots)}
    while len(pairs) < nodes * 1.2:
        pairs.add((rng.choice(shots), rng.choice(cuts)))
    for source, target in sorted(pairs):
        graph.connect(source, "output", target, "clips")
    return graph, shots[0]


@pytest.mark.parametrize("nodes", [50, 2000])
def test_a_one_field_update_sends_one_small_patch_whatever_the_graph(nodes: int) -> None:
    graph, shot = big_graph(nodes)
    canvas = Canvas(graph, autosave_delay=-1)
    on_wire = wire(canvas)
    graph.update_node(shot, prompt="one field")
    [patch] = patches(canvas)
    assert [n["id"] for n in patch.nodes] == [shot]
    assert patch.nodes[0]["data"]["prompt"] == "one field"
    assert not (patch.removed_nodes or patch.edges or patch.removed_edges)
    assert (patch.seq, patch.base_version, patch.version) == (1, 1, 1)
    # everything the comm carried: the patch, plus the save status turning "unsaved"
    assert len(json.dumps(on_wire)) < 1000
    assert all("graph" not in m.get("state", {}) for m in on_wire)


def test_the_patches_rebuild_the_graph_from_the_widget_state(project: Project) -> None:
    canvas = make(project)
    copy = canvas.get_state()["graph"]
    assert canvas.get_state("title") == {"title": "Test Film"}  # a piece of the state: no graph
    send(canvas, "client:add_node", type="Shot", id="shot-1", position={"x": 5, "y": 6})
    send(canvas, "client:add_node", type="Pipeline", id="pipe-1", position={"x": 0, "y": 0})
    send(canvas, "client:connect", id="e1", source="pipe-1", source_handle="pipeline",
         target="shot-1", target_handle="pipeline")  # fmt: skip
    send(canvas, "client:update_node_data", node_id="shot-1", data={"prompt": "rain"})
    send(canvas, "client:move_nodes", positions={"shot-1": {"x": 50, "y": 60}})
    send(canvas, "client:save")
    send(canvas, "client:remove_elements", node_ids=["pipe-1"])
    send(canvas, "client:undo")
    project.graph.update_node("shot-1", prompt="from python")
    send(canvas, "client:redo")  # nothing to redo after a new edit
    project.reload_graph()  # the file's version: before the unsaved edits
    sent = patches(canvas)
    assert [p.seq for p in sent] == list(range(1, len(sent) + 1))
    for patch in sent:
        copy = apply_patch(copy, patch)
    assert copy == canvas.graph == project.graph.to_json()


def test_a_full_sync_says_which_patch_it_is_at(project: Project) -> None:
    canvas = make(project)
    project.graph.add_node("Shot", id="a")
    project.graph.update_node("a", prompt="x")
    on_wire = wire(canvas)
    send(canvas, "client:sync_request")
    seq_update, full_sync = on_wire[-2:]
    assert seq_update["state"] == {"graph_seq": 2}  # on the comm just before the full sync
    assert full_sync["content"]["event"] == "server:full_sync"
    assert full_sync["content"]["payload"]["graph"] == project.graph.to_json()
    project.graph.update_node("a", prompt="y")
    assert patches(canvas)[-1].seq == canvas.graph_seq + 1


def test_a_refused_edit_resyncs_at_the_current_patch(project: Project) -> None:
    canvas = make(project)
    project.graph.add_node("Shot", id="a")
    send(canvas, "client:connect", source="a", source_handle="output", target="a",
         target_handle="prompt")  # fmt: skip
    assert canvas.sent[-1]["event"] == "server:full_sync"
    assert canvas.graph_seq == patches(canvas)[-1].seq == 1
