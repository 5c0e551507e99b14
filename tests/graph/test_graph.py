"""The Graph: edits, validation, undo/redo, notifications, files (no I/O but the last part)."""

import json
from pathlib import Path

import pytest

from studio import Project, VersionConflict
from studio.graph.graph import Graph, GraphChange, GraphError, GraphFileError


def shot_and_pipeline(graph: Graph) -> tuple[str, str]:
    shot = graph.add_node("Shot", prompt="a cat", position=(0, 0))
    pipeline = graph.add_node("Pipeline", pipeline_id="t2i-draft")
    return shot.id, pipeline.id


def test_add_update_connect_remove() -> None:
    graph = Graph()
    shot, pipeline = shot_and_pipeline(graph)
    assert graph.node(shot).data["prompt"] == "a cat"
    assert graph.node(shot).data["scene"] == 1  # default
    graph.update_node(shot, prompt="a dog", seed=7, position=(10, 20))
    assert graph.node(shot).data["seed"] == 7
    assert graph.node(shot).position == {"x": 10.0, "y": 20.0}
    edge = graph.connect(pipeline, "pipeline", shot, "pipeline")
    assert [e.id for e in graph.incoming(shot)] == [edge.id]
    graph.disconnect(edge.id)
    assert graph.edges == []
    graph.connect(pipeline, "pipeline", shot, "pipeline")
    graph.remove_node(pipeline)
    assert [n.id for n in graph.nodes] == [shot]
    assert graph.edges == []  # edges of a removed node go with it


@pytest.mark.parametrize(
    ("edit", "code", "message"),
    [
        (lambda g, s, p: g.add_node("NoSuchType"), None, "unknown node type 'NoSuchType'"),
        (lambda g, s, p: g.update_node(s, colour="red"), "invalid_field", "no field 'colour'"),
        (lambda g, s, p: g.update_node(s, seed=-1), "invalid_field", "at least 0"),
        (lambda g, s, p: g.update_node("ghost", seed=1), "unknown_node", "no node 'ghost'"),
        (lambda g, s, p: g.connect(p, "nope", s, "pipeline"), "unknown_socket", "no output 'nope'"),
        (lambda g, s, p: g.connect(p, "pipeline", s, "nope"), "unknown_socket", "no input 'nope'"),
        (
            lambda g, s, p: g.connect(p, "pipeline", s, "prompt"),
            "type_mismatch",
            "PipelineReference",
        ),
        (lambda g, s, p: g.connect(s, "output", s, "image"), "cycle", "cycle"),
        (lambda g, s, p: g.disconnect("nope"), "unknown_edge", "no edge"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(edit, code, message) -> None:
    graph = Graph()
    shot, pipeline = shot_and_pipeline(graph)
    before = graph.to_json()
    with pytest.raises(Exception, match=message) as raised:
        edit(graph, shot, pipeline)
    if code:
        assert isinstance(raised.value, GraphError)
        assert raised.value.code == code
    assert graph.to_json() == before


def test_two_shots_never_share_a_scene_and_shot() -> None:
    graph = Graph()
    first = graph.add_node("Shot")
    assert (first.data["scene"], first.data["shot"]) == (1, 10)  # the default, free
    assert graph.add_node("Shot").data["shot"] == 20  # the next free number of the scene
    assert graph.add_node("Shot", scene=2).data["shot"] == 10  # another scene: its default
    graph.add_node("Shot", scene=1, shot=70)
    assert graph.add_node("Shot").data["shot"] == 80  # above the highest, in shot order
    with pytest.raises(
        GraphError, match=r"Scene 1, Shot 10 is taken by node '.*'.*90 is free"
    ) as e:
        graph.add_node("Shot", scene=1, shot=10)
    assert e.value.code == "taken"
    second = graph.nodes[1]
    with pytest.raises(GraphError, match=rf"Scene 1, Shot 10 is taken by node '{first.id}'"):
        graph.update_node(second.id, shot=10)
    assert second.data["shot"] == 20  # refused: nothing changed
    graph.update_node(second.id, prompt="rain")  # other fields: no check
    graph.update_node(first.id, shot=10)  # its own numbers
    graph.update_node(first.id, scene=3)  # free in scene 3
    assert graph.next_free("Shot", {"scene": 1}, also_taken=frozenset({10, 100})) == 110


def test_a_canvas_with_shared_shot_numbers_still_loads(tmp_path: Path) -> None:
    graph = Graph()
    a, b = graph.add_node("Shot"), graph.add_node("Shot")
    content = graph.to_json()
    content["nodes"][1]["data"]["shot"] = content["nodes"][0]["data"]["shot"]  # an older canvas
    path = tmp_path / "canvas.json"
    path.write_text(json.dumps(content))
    loaded = Graph.load(path)
    assert loaded.node(a.id).data["shot"] == loaded.node(b.id).data["shot"] == 10
    loaded.update_node(b.id, shot=20)  # the way out: give one another number


def test_a_pipeline_node_feeds_nothing_but_an_older_canvas_keeps_its_edge(
    tmp_path: Path,
) -> None:
    from studio.pipelines import register_node_types

    register_node_types()
    graph = Graph()
    frame = graph.add_node("pipeline.t2i-draft")
    shot = graph.add_node("Shot")
    with pytest.raises(
        GraphError, match=r"does not run on its own.*Pipeline node set to 't2i-draft'"
    ):
        graph.connect(frame.id, "image", shot.id, "image")
    assert graph.edges == []
    content = graph.to_json()
    content["edges"] = [{"id": "e1", "source": frame.id, "sourceHandle": "image",
                         "target": shot.id, "targetHandle": "image"}]  # fmt: skip
    path = tmp_path / "canvas.json"
    path.write_text(json.dumps(content))
    assert [e.id for e in Graph.load(path).edges] == ["e1"]  # loads; the engine says why not


def test_single_valued_inputs_and_multiple_inputs() -> None:
    graph = Graph()
    shot, pipeline = shot_and_pipeline(graph)
    other = graph.add_node("Pipeline").id
    graph.connect(pipeline, "pipeline", shot, "pipeline")
    with pytest.raises(GraphError, match="takes one connection") as raised:
        graph.connect(other, "pipeline", shot, "pipeline")
    assert raised.value.code == "input_occupied"
    with pytest.raises(GraphError, match="already connected"):
        graph.connect(pipeline, "pipeline", shot, "pipeline")
    assembler = graph.add_node("VSEAssembler").id
    second = graph.add_node("Shot").id
    graph.connect(shot, "output", assembler, "clips")
    graph.connect(second, "output", assembler, "clips")  # clips takes many
    assert len(graph.incoming(assembler)) == 2


def test_type_rules_between_nodes() -> None:
    graph = Graph()
    video_only = graph.add_node("VideoRestoration").id
    upscale = graph.add_node("SuperResolution").id
    shot = graph.add_node("Shot").id
    graph.connect(shot, "output", upscale, "input")  # Video|Image into Image|Video
    graph.connect(upscale, "output", video_only, "input")  # shares Video
    motion = graph.add_node("MotionSource").id
    graph.connect(motion, "motion", graph.add_node("Shot").id, "image")  # ControlMap -> Image
    with pytest.raises(GraphError) as raised:
        graph.connect(graph.add_node("Asset").id, "asset", video_only, "input")
    assert raised.value.code == "type_mismatch"


def test_longer_cycles_are_refused() -> None:
    graph = Graph()
    a, b, c = (graph.add_node("SuperResolution").id for _ in range(3))
    graph.connect(a, "output", b, "input")
    graph.connect(b, "output", c, "input")
    with pytest.raises(GraphError) as raised:
        graph.connect(c, "output", a, "input")
    assert raised.value.code == "cycle"


def test_scene_groups_hold_subflows() -> None:
    graph = Graph()
    scene = graph.add_node("SceneGroup", name="Opening", scene=1).id
    shot = graph.add_node("Shot", parent_id=scene).id
    inner = graph.add_node("Pipeline", parent_id=scene).id
    assert graph.node(shot).to_json()["parentId"] == scene
    assert {n.id for n in graph.children(scene)} == {shot, inner}
    with pytest.raises(GraphError, match="not a group"):
        graph.add_node("Shot", parent_id=shot)
    with pytest.raises(GraphError, match="inside itself"):
        graph.update_node(scene, parent_id=scene)
    graph.remove_node(scene)  # as in Svelte Flow, the children go too
    assert graph.nodes == []


def test_undo_redo_and_notifications() -> None:
    graph = Graph()
    changes: list[GraphChange] = []
    unsubscribe = graph.subscribe(changes.append)
    shot = graph.add_node("Shot").id
    graph.update_node(shot, prompt="x")
    assert [c.kind for c in changes] == ["node_added", "node_updated"]
    assert graph.undo() and graph.node(shot).data["prompt"] == ""
    assert graph.undo() and graph.nodes == []
    assert not graph.undo()
    assert graph.redo() and graph.redo()
    assert graph.node(shot).data["prompt"] == "x"
    assert not graph.can_redo
    graph.move_nodes({shot: {"x": 5, "y": 6}})
    assert changes[-1].kind == "nodes_moved"
    unsubscribe()
    graph.update_node(shot, prompt="y")
    assert changes[-1].kind == "nodes_moved"


def test_save_load_round_trip_and_optimistic_lock(project: Project) -> None:
    graph = project.graph
    shot, pipeline = shot_and_pipeline(graph)
    graph.connect(pipeline, "pipeline", shot, "pipeline")
    assert graph.dirty
    assert graph.save() == 2 and not graph.dirty
    on_disk = json.loads(project.canvas_path.read_text())
    assert on_disk["version"] == 2
    assert {n["type"] for n in on_disk["nodes"]} == {"Shot", "Pipeline"}
    assert on_disk["edges"][0]["sourceHandle"] == "pipeline"
    loaded = Graph.load(project.canvas_path)
    assert loaded.to_json() == graph.to_json()
    assert not loaded.can_undo

    # another writer saves first: ours is refused and nothing is written
    loaded.update_node(shot, prompt="theirs")
    loaded.save()
    graph.update_node(shot, prompt="ours")
    before = project.canvas_path.read_bytes()
    with pytest.raises(VersionConflict):
        graph.save()
    assert project.canvas_path.read_bytes() == before
    assert project.reload_graph().node(shot).data["prompt"] == "theirs"
    assert project.graph is graph  # the same object, now reloaded


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("{not json", "line 1, column 2"),
        ('{"nodes": {}}', "field 'nodes'"),
        ('{"version": 0, "nodes": []}', "field 'version'"),
        ('{"nodes": [{"type": "Shot"}]}', "field 'nodes[0]'"),
        ('{"nodes": [{"id": "a", "type": "Nope"}]}', "field 'nodes[0].type'"),
        ('{"nodes": [{"id": "a", "type": "Shot", "position": {"x": "1"}}]}', "nodes[0].position"),
        ('{"nodes": [{"id": "a", "type": "Shot", "data": {"seed": -5}}]}', "at least 0"),
        (
            '{"nodes": [{"id": "a", "type": "Shot"}], "edges": [{"source": "a", '
            '"sourceHandle": "output", "target": "zz", "targetHandle": "image"}]}',
            "field 'edges[0]'",
        ),
    ],
)
def test_broken_files_say_what_and_where(tmp_path: Path, content: str, where: str) -> None:
    path = tmp_path / "canvas.json"
    path.write_text(content)
    with pytest.raises(GraphFileError) as raised:
        Graph.load(path)
    assert str(path) in str(raised.value)
    assert where in str(raised.value)


def test_unknown_data_keys_survive_a_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "canvas.json"
    path.write_text(
        json.dumps(
            {
                "version": 3,
                "nodes": [
                    {"id": "g", "type": "SceneGroup", "position": {"x": 0, "y": 0}, "width": 900},
                    {
                        "id": "a",
                        "type": "Shot",
                        "position": {"x": 1, "y": 2},
                        "parentId": "g",
                        "data": {"prompt": "p", "note": "mine"},
                    },
                ],
                "edges": [],
            }
        )
    )
    graph = Graph.load(path)
    assert graph.node("a").data["note"] == "mine"
    assert graph.node("g").width == 900
    graph.save()
    assert json.loads(path.read_text())["nodes"][1]["data"]["note"] == "mine"


def test_a_projects_new_shot_skips_numbers_with_render_folders(project: Project, make_png) -> None:
    take = project.new_take(scene=1, shot=10, ext="png")  # a take made from Python, no node
    take.write_bytes(make_png())
    shot = project.graph.add_node("Shot")
    assert (shot.data["scene"], shot.data["shot"]) == (1, 20)  # not the folder of that take
    assert project.graph.add_node("Shot", scene=2).data["shot"] == 10  # scene 2 has none
    assert project.graph.add_node("Shot", shot=10).data["shot"] == 10  # asked for: adopts it
    assert project.reload_graph().add_node("Shot").data["shot"] == 20  # the file has none yet
