"""Graph patches: built from the change alone (size follows the change, not the graph), and a
copy that applies them in order stays the graph, through edits, undo, redo and reloads."""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio import Project
from studio.events import GraphPatch
from studio.graph.graph import Graph, GraphChange, GraphError
from studio.graph.patches import PatchMismatch, apply_patch, build_patch


class Follower:
    """A copy of a graph kept up to date by its patches, as the canvas front end keeps one."""

    def __init__(self, graph: Graph) -> None:
        self.graph, self.copy, self.patches = graph, graph.to_json(), list[GraphPatch]()
        graph.subscribe(self.follow)

    def follow(self, change: GraphChange) -> None:
        patch = build_patch(
            self.graph, change, seq=len(self.patches) + 1, base_version=self.copy["version"]
        )
        self.patches.append(patch)
        self.copy = apply_patch(self.copy, patch)


def by_id(graph_json: dict[str, Any]) -> dict[str, Any]:
    """The graph's content, whatever the order of its nodes and edges."""
    return {
        "version": graph_json["version"],
        "nodes": {n["id"]: n for n in graph_json["nodes"]},
        "edges": {e["id"]: e for e in graph_json["edges"]},
    }


def test_each_edit_patches_just_what_it_changed() -> None:
    graph = Graph()
    follower = Follower(graph)
    pipe = graph.add_node("Pipeline", id="pipe").id
    shot = graph.add_node("Shot", id="shot").id
    edge = graph.connect(pipe, "pipeline", shot, "pipeline", id="e1").id
    graph.update_node(shot, prompt="rain")
    graph.move_nodes({pipe: {"x": 1, "y": 2}})
    graph.remove_node(pipe)
    added, _, connected, updated, moved, removed = follower.patches
    assert [n["id"] for n in added.nodes] == ["pipe"] and not added.removed_nodes
    assert [e["id"] for e in connected.edges] == [edge] and not connected.nodes
    assert updated.nodes == [graph.node(shot).to_json()] and not updated.edges
    assert moved.nodes[0]["position"] == {"x": 1.0, "y": 2.0}
    assert (removed.nodes, removed.removed_nodes, removed.removed_edges) == ([], [pipe], [edge])
    assert [p.seq for p in follower.patches] == [1, 2, 3, 4, 5, 6]
    assert follower.copy == graph.to_json()


def test_a_save_patches_only_the_version(project: Project) -> None:
    graph = project.graph
    graph.add_node("Shot")
    follower = Follower(graph)
    graph.save()
    [saved] = follower.patches
    assert (saved.base_version, saved.version) == (1, 2)
    assert not (saved.nodes or saved.removed_nodes or saved.edges or saved.removed_edges)


def test_a_one_field_update_is_the_same_small_patch_on_any_graph() -> None:
    sizes = []
    for count in (10, 2000):
        graph = Graph()
        ids = [graph.add_node("Shot", position=(i, 0)).id for i in range(count)]
        follower = Follower(graph)
        graph.update_node(ids[0], prompt="one field")
        sizes.append(len(json.dumps(follower.patches[-1].model_dump())))
    assert sizes[0] == sizes[1] < 1000


def test_undo_redo_and_reload_patch_what_they_change(project: Project) -> None:
    graph = project.graph
    keep = graph.add_node("Shot", id="keep").id
    graph.save()
    follower = Follower(graph)
    graph.update_node(keep, prompt="x")
    graph.undo()
    undone = follower.patches[-1]
    assert [n["id"] for n in undone.nodes] == [keep] and undone.nodes[0]["data"]["prompt"] == ""
    graph.redo()
    assert follower.patches[-1].nodes[0]["data"]["prompt"] == "x"
    other = Graph.load(project.canvas_path)
    other.add_node("Shot", id="theirs")
    graph.replace_with(other)
    reload = follower.patches[-1]
    assert {n["id"] for n in reload.nodes} == {keep, "theirs"}
    assert reload.nodes[0]["data"]["prompt"] == ""  # the file's, not the unsaved edit
    assert follower.copy == graph.to_json()


def test_undo_puts_removed_elements_back_in_place_and_keeps_only_what_an_edit_touched() -> None:
    graph = Graph()
    a, b = (graph.add_node("Shot", id=name).id for name in "ab")
    c = graph.add_node("VSEAssembler", id="c").id
    graph.connect(a, "output", b, "image", id="ab")
    graph.connect(b, "output", c, "clips", id="bc")
    graph.connect(a, "output", c, "clips", id="ac")
    whole = graph.to_json()
    graph.remove_node(b)
    assert graph.undo() and graph.to_json() == whole  # b between a and c, its edges in place
    assert graph.redo() and [n.id for n in graph.nodes] == [a, c]
    assert graph.undo() and graph.to_json() == whole
    graph.update_node(a, seed=3)
    assert [list(saved.nodes) for saved in graph._undo[-1:]] == [[a]]  # not the whole graph


def test_a_patch_for_another_version_is_refused() -> None:
    graph = Graph(version=3)
    patch = GraphPatch(seq=1, base_version=2, version=2)
    with pytest.raises(PatchMismatch, match="version 2, the graph is at 3"):
        apply_patch(graph.to_json(), patch)


edits = st.lists(
    st.tuples(
        st.sampled_from(["add", "update", "move", "connect", "remove", "cut", "undo", "redo"]),
        st.integers(0, 30),
        st.integers(0, 30),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(edits)
def test_patches_keep_a_copy_equal_and_undo_redo_restore_exactly(steps: list[Any]) -> None:
    graph = Graph()
    follower = Follower(graph)
    past: list[dict[str, Any]] = []  # the graph before each edit undo can revert
    future: list[dict[str, Any]] = []  # the graph before each undo redo can replay
    for action, a, b in steps:
        before = graph.to_json()
        nodes, edges = [n.id for n in graph.nodes], [e.id for e in graph.edges]
        try:
            if action == "add":
                graph.add_node("SuperResolution", position=(a, b))
            elif action == "update" and nodes:
                graph.update_node(nodes[a % len(nodes)], scale=1 + b % 4)
            elif action == "move" and nodes:
                graph.move_nodes({nodes[a % len(nodes)]: {"x": a, "y": b}})
            elif action == "connect" and nodes:
                graph.connect(nodes[a % len(nodes)], "output", nodes[b % len(nodes)], "input")
            elif action == "remove" and nodes:
                graph.remove_elements(node_ids=[nodes[a % len(nodes)]])
            elif action == "cut" and edges:
                graph.remove_elements(edge_ids=[edges[a % len(edges)]])
            elif action == "undo" and graph.undo():
                assert graph.to_json() == past.pop()  # exactly, order included
                future.append(before)
            elif action == "redo" and graph.redo():
                assert graph.to_json() == future.pop()
                past.append(before)
            else:
                continue
            if action not in ("undo", "redo"):
                past.append(before)
                future.clear()
        except GraphError:
            assert graph.to_json() == before
        # the copy holds what the graph holds (a node put back by undo may sit elsewhere in it)
        assert by_id(follower.copy) == by_id(graph.to_json())
