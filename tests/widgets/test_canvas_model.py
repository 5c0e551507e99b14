"""The canvas widget's model, driven by the messages the browser sends (no browser)."""

import json
import time
from collections.abc import Callable
from typing import Any

from studio import Project
from studio.graph.registry import NodeType, NodeUI, registry
from studio.widgets.canvas import NO_ENGINE, Canvas


def send(canvas: Canvas, event: str, **payload: Any) -> None:
    canvas._handle_custom_msg({"event": event, "payload": payload}, [])


def last(canvas: Canvas, event: str) -> dict[str, Any]:
    return next(m["payload"] for m in reversed(canvas.sent) if m["event"] == event)


def make(project: Project, **kwargs: Any) -> Canvas:
    return Canvas(project.graph, project=project, autosave_delay=-1, **kwargs)


def test_initial_state(project: Project) -> None:
    canvas = make(project)
    assert canvas.graph == {"version": 1, "nodes": [], "edges": []}
    names = {t["name"] for t in canvas.node_types["node_types"]}
    assert {"Shot", "Pipeline", "SceneGroup", "VSEAssembler"} <= names
    assert "Image" in canvas.node_types["compatibility"]["Mask"]
    assert canvas.title == "Test Film"


def test_browser_edits_go_through_the_graph(project: Project) -> None:
    canvas = make(project)
    send(canvas, "client:add_node", type="Shot", id="shot-1", position={"x": 5, "y": 6})
    send(canvas, "client:add_node", type="Pipeline", id="pipe-1", position={"x": 0, "y": 0})
    send(canvas, "client:connect", id="e1", source="pipe-1", source_handle="pipeline",
         target="shot-1", target_handle="pipeline")  # fmt: skip
    send(canvas, "client:update_node_data", node_id="shot-1", data={"prompt": "rain"})
    send(canvas, "client:move_nodes", positions={"shot-1": {"x": 50, "y": 60}})
    node = project.graph.node("shot-1")
    assert node.data["prompt"] == "rain" and node.position == {"x": 50.0, "y": 60.0}
    assert canvas.graph["edges"][0]["id"] == "e1"
    assert canvas.save_status == "unsaved"
    send(canvas, "client:save")
    assert canvas.save_status == "saved"
    assert json.loads(project.canvas_path.read_text())["nodes"][0]["data"]["prompt"] == "rain"
    send(canvas, "client:remove_elements", node_ids=["pipe-1"])
    assert canvas.graph["edges"] == []
    send(canvas, "client:undo")
    assert len(canvas.graph["edges"]) == 1 and canvas.history["can_redo"]
    send(canvas, "client:redo")
    assert canvas.graph["edges"] == []


def test_refused_edit_tells_the_user_and_resyncs(project: Project) -> None:
    canvas = make(project)
    send(canvas, "client:add_node", type="Shot", id="a", position={"x": 0, "y": 0})
    send(canvas, "client:add_node", type="Shot", id="b", position={"x": 0, "y": 0})
    before = project.graph.to_json()
    send(canvas, "client:connect", source="a", source_handle="output", target="b",
         target_handle="prompt")  # fmt: skip
    assert "cannot connect Shot.output" in last(canvas, "server:notification")["message"]
    assert last(canvas, "server:full_sync")["graph"] == before
    assert project.graph.to_json() == before
    send(canvas, "client:update_node_data", node_id="a", data={"seed": "lots"})
    assert "Shot.seed" in last(canvas, "server:notification")["message"]
    canvas._handle_custom_msg({"event": "client:teleport"}, [])
    assert "unknown event" in last(canvas, "server:notification")["message"]
    canvas._handle_custom_msg("garbage", [])
    assert last(canvas, "server:notification")["level"] == "error"


def test_python_edits_reach_the_widget(project: Project) -> None:
    canvas = make(project)
    node = project.graph.add_node("Shot", prompt="from python")
    assert canvas.graph["nodes"][0]["id"] == node.id
    project.graph.update_node(node.id, prompt="changed")
    assert canvas.graph["nodes"][0]["data"]["prompt"] == "changed"


def test_runtime_node_types_reach_the_palette(project: Project) -> None:
    canvas = make(project)
    custom = NodeType(name="pipeline.test-x", label="X", pipeline_id="test-x",
                      ui=NodeUI(category="Pipelines"))  # fmt: skip
    registry.register(custom, replace=True)
    try:
        assert "pipeline.test-x" in {t["name"] for t in canvas.node_types["node_types"]}
        assert "test-x" in canvas.pipelines
    finally:
        registry.unregister("pipeline.test-x")
    assert "pipeline.test-x" not in {t["name"] for t in canvas.node_types["node_types"]}


def test_project_canvas_lists_the_installed_pipelines(project: Project) -> None:
    canvas = project.canvas()
    assert {"t2i-draft", "i2v-draft"} <= set(canvas.pipelines)
    assert "pipeline.t2i-draft" in {t["name"] for t in canvas.node_types["node_types"]}


def test_generate_without_engine_says_so_then_with_one(project: Project) -> None:
    canvas = make(project)
    shot = project.graph.add_node("Shot").id
    send(canvas, "client:start_generation", node_id=shot)
    assert canvas.node_status[shot]["state"] == "failed"
    assert canvas.node_status[shot]["error"] == NO_ENGINE
    asked: list[str] = []
    canvas.on_generate(asked.append)
    send(canvas, "client:start_generation", node_id=shot)
    assert asked == [shot]
    canvas.emit("server:node_state_updated", node_id=shot, state="generating", task_id="t1")
    canvas.emit("server:task_progress", node_id=shot, task_id="t1", progress=25, step="Sampling")
    status = canvas.node_status[shot]
    assert (status["state"], status["progress"], status["step"]) == ("generating", 25, "Sampling")
    send(canvas, "client:render_final_sequence", node_id=project.graph.add_node("VSEAssembler").id)
    assert "No assembler configured" in last(canvas, "server:task_failed")["error"]


def test_shot_nodes_show_the_takes_of_their_folder(
    project: Project, make_png: Callable[..., bytes]
) -> None:
    shot = project.graph.add_node("Shot", scene=2, shot=30).id
    first = project.new_take(scene=2, shot=30, ext="png")
    first.write_bytes(make_png())
    canvas = make(project)
    assert canvas.node_status[shot]["takes"] == [first.name]
    assert canvas.node_status[shot]["thumbnail_url"].startswith("data:image/jpeg;base64,")
    assert len(canvas.node_status[shot]["thumbnail_url"]) < 20_000  # small, never the media
    second = project.new_take(scene=2, shot=30, ext="png")
    second.write_bytes(make_png(color=(0, 0, 255)))
    canvas.emit("server:task_success", node_id=shot, task_id="t",
                result={"output_url": str(second.path), "take": second.name})  # fmt: skip
    assert canvas.node_status[shot]["takes"] == [first.name, second.name]
    assert canvas.node_status[shot]["active_take"] == second.name
    send(canvas, "client:update_node_data", node_id=shot, data={"active_take": first.name})
    assert project.active_take(scene=2, shot=30) == first  # persisted in the shot folder
    assert canvas.node_status[shot]["active_take"] == first.name


def test_autosave_and_conflicts(project: Project) -> None:
    canvas = Canvas(project.graph, project=project, autosave_delay=0.05)
    project.graph.add_node("Shot", prompt="autosaved")
    deadline = time.monotonic() + 5
    while canvas.save_status != "saved" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert json.loads(project.canvas_path.read_text())["nodes"][0]["data"]["prompt"] == "autosaved"
    data = json.loads(project.canvas_path.read_text())
    data["version"] += 5  # someone else saved meanwhile
    project.canvas_path.write_text(json.dumps(data))
    canvas._autosave_delay = -1
    project.graph.add_node("Shot")
    send(canvas, "client:save")
    assert canvas.save_status == "conflict"
    assert "changed since you loaded it" in last(canvas, "server:notification")["message"]
    canvas.close()


def test_a_canvas_on_screen_follows_a_take_started_from_python(project: Project) -> None:
    from studio.events import make_event
    from studio.widgets.canvas import follow_engine, project_canvas
    from tests.service.test_service import FakeEngine

    project.graph.add_node("Shot", id="s")
    canvas = project_canvas(project)  # the kernel's engine, not started just to look
    other = project_canvas(project, engine=False)  # nothing generates here: not followed
    engine = FakeEngine()
    follow_engine(project, engine)  # type: ignore[arg-type]  # as project.generate does
    assert len(engine.listeners) == 1
    engine.deliver(make_event("server:node_state_updated", node_id="s", state="generating",
                              task_id="t1"))  # fmt: skip
    assert canvas.node_status["s"]["state"] == "generating"
    assert last(canvas, "server:node_state_updated")["task_id"] == "t1"
    assert "state" not in other.node_status.get("s", {})
    follow_engine(project, engine)  # type: ignore[arg-type]  # the same engine: once
    assert len(engine.listeners) == 1
    canvas.close()
    other.close()
