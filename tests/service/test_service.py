"""The studio service: every client event handled once, for both front ends (the kernel's live
graph and the server's saved-per-edit graph), without a browser, a server or a cluster."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from studio import Project
from studio.engine import jobs as job_log
from studio.service import (
    NO_ASSEMBLER,
    NO_ENGINE,
    LiveGraph,
    SavedGraph,
    StudioService,
    inline_link,
    kernel_link,
    project_link,
)

Message = dict[str, Any]


class Clients:
    """A front end's transport as the service sees it: what it answered the caller, and what
    it published to every client."""

    def __init__(self) -> None:
        self.replies: list[Message] = []
        self.published: list[Message] = []
        self.status: dict[str, Any] = {}

    def events(self, name: str) -> list[dict[str, Any]]:
        return [m["payload"] for m in self.replies + self.published if m["event"] == name]


def live_service(project: Project, clients: Clients) -> StudioService:
    return StudioService(
        project,
        # as the canvas saves: only when there are unsaved changes
        editor=LiveGraph(project.graph, save=lambda: project.graph.dirty and project.graph.save()),
        link=kernel_link(project),  # as the kernel's canvas links
        publish=clients.published.append,
        on_status=lambda status: setattr(clients, "status", status),
    )


def saved_service(project: Project, clients: Clients) -> StudioService:
    return StudioService(
        project,
        editor=SavedGraph(project, lock=threading.RLock()),
        link=project_link(root=project.path, url_of=lambda relative: f"/media/{relative}"),
        publish=clients.published.append,
    )


FRONT_ENDS: dict[str, Callable[[Project, Clients], StudioService]] = {
    "kernel": live_service,
    "server": saved_service,
}


@pytest.fixture(params=list(FRONT_ENDS))
def front_end(request: pytest.FixtureRequest, project: Project) -> tuple[StudioService, Clients]:
    clients = Clients()
    return FRONT_ENDS[request.param](project, clients), clients


def handle(service: StudioService, clients: Clients, event: str, **payload: Any) -> None:
    service.handle({"event": event, "payload": payload}, reply=clients.replies.append)


def on_disk(project: Project) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(project.canvas_path.read_text())
    return content


def test_edits_go_through_the_graph_on_both_front_ends(front_end, project: Project):
    service, clients = front_end
    handle(service, clients, "client:add_node", type="Shot", id="shot-1",
           position={"x": 1, "y": 2}, data={"scene": 1, "shot": 10})  # fmt: skip
    handle(service, clients, "client:add_node", type="Pipeline", id="pipe-1",
           position={"x": 0, "y": 0}, data={"pipeline_id": "t2i-draft"})  # fmt: skip
    handle(service, clients, "client:connect", source="pipe-1", source_handle="pipeline",
           target="shot-1", target_handle="pipeline")  # fmt: skip
    handle(service, clients, "client:update_node_data", node_id="shot-1", data={"prompt": "rain"})
    handle(service, clients, "client:save")
    assert not clients.events("server:notification")
    saved = on_disk(project)
    assert [n["data"].get("prompt") for n in saved["nodes"] if n["id"] == "shot-1"] == ["rain"]
    assert [(e["source"], e["target"]) for e in saved["edges"]] == [("pipe-1", "shot-1")]
    handle(service, clients, "client:sync_request")
    sync = clients.events("server:full_sync")[-1]
    assert {n["id"] for n in sync["graph"]["nodes"]} == {"shot-1", "pipe-1"}
    assert sync["node_status"]["shot-1"] == {
        "takes": [], "active_take": None, "take_pinned": False, "thumbnail_url": None,
        "video_url": None,
    }  # fmt: skip


def test_a_server_edit_is_saved_at_once_and_sent_to_every_client(project: Project):
    clients = Clients()
    service = saved_service(project, clients)
    handle(service, clients, "client:add_node", type="Shot", id="shot-1", position={"x": 0, "y": 0})
    assert on_disk(project)["version"] == 2
    [sync] = clients.events("server:full_sync")  # published to all, not only the sender
    assert clients.published[-1]["event"] == "server:full_sync" and not clients.replies
    assert [n["id"] for n in sync["graph"]["nodes"]] == ["shot-1"]


def test_a_kernel_edit_is_left_to_the_canvas_autosave(project: Project):
    clients = Clients()
    service = live_service(project, clients)
    handle(service, clients, "client:add_node", type="Shot", id="shot-1", position={"x": 0, "y": 0})
    assert project.graph.dirty and not clients.published  # the graph announces its change
    handle(service, clients, "client:undo")
    assert project.graph.nodes == []


def test_refused_edits_say_why_and_send_the_true_graph(front_end, project: Project):
    service, clients = front_end
    handle(service, clients, "client:add_node", type="Shot", id="a", position={"x": 0, "y": 0})
    clients.replies.clear()
    handle(service, clients, "client:update_node_data", node_id="a", data={"seed": "lots"})
    first, second = clients.replies
    assert first["event"] == "server:notification" and "Shot.seed" in first["payload"]["message"]
    assert first["payload"]["node_id"] == "a"
    assert second["event"] == "server:full_sync"
    assert second["payload"]["graph"]["nodes"][0]["data"].get("seed") is None


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ("garbage", "an event must be an object"),
        ({"event": "client:teleport"}, "unknown event"),
        ({"event": "server:full_sync", "payload": {"graph": {}}}, "is a server event"),
        ({"event": "client:start_generation", "payload": {}}, "node_id"),
    ],
)
def test_messages_that_are_not_client_events_are_answered(front_end, message: Any, says: str):
    service, clients = front_end
    service.handle(message, reply=clients.replies.append)
    answer, sync = clients.replies  # the true graph undoes whatever the client did first
    assert answer["event"] == "server:notification" and says in answer["payload"]["message"]
    assert answer["payload"]["level"] == "error" and sync["event"] == "server:full_sync"


def test_undo_needs_one_editors_history(project: Project):
    clients = Clients()
    service = saved_service(project, clients)
    handle(service, clients, "client:undo")
    assert "not available" in clients.replies[0]["payload"]["message"]


def test_generate_without_an_engine_fails_on_the_node(front_end, project: Project):
    service, clients = front_end
    handle(service, clients, "client:add_node", type="Shot", id="s", position={"x": 0, "y": 0})
    handle(service, clients, "client:start_generation", node_id="s")
    [failed] = clients.events("server:task_failed")
    assert failed == {"node_id": "s", "error": NO_ENGINE, "code": "NO_ENGINE"}
    if service.editor.live:
        assert clients.status["s"]["state"] == "failed"
    handle(service, clients, "client:start_generation", node_id="ghost")  # no such node:
    assert "ghost" in clients.replies[-2]["payload"]["message"]  # said, not a ghost's status
    assert len(clients.events("server:task_failed")) == 1
    handle(service, clients, "client:add_node", type="VSEAssembler", id="vse",
           position={"x": 0, "y": 0})  # fmt: skip
    handle(service, clients, "client:render_final_sequence", node_id="vse")
    assert clients.events("server:task_failed")[-1]["error"] == NO_ASSEMBLER


def test_a_front_ends_own_handler_takes_the_generation(project: Project):
    clients = Clients()
    service = live_service(project, clients)
    handle(service, clients, "client:add_node", type="Shot", id="s", position={"x": 0, "y": 0})
    asked: list[str] = []
    service.generation_handler = asked.append
    handle(service, clients, "client:start_generation", node_id="s")
    assert asked == ["s"] and not clients.events("server:task_failed")


def _unfinished_job(project: Project, *, job_id: str, node_id: str) -> None:
    """A job another process runs: its scheduler cannot be reached from here, but it was heard
    from just now, so settling leaves it alone (no evidence it is dead)."""
    info = {"scheduler": "tcp://127.0.0.1:9", "pipeline": "t2i-draft"}
    running = {"node_id": node_id, "state": "generating", "task_id": job_id}
    job_log.append(project.path, job_log.record(job_id=job_id, event="server:node_state_updated",
                                                payload=running, info=info))  # fmt: skip


def test_cancel_asks_the_nodes_unfinished_jobs_to_stop_whoever_submitted_them(
    front_end, project: Project
):
    service, clients = front_end
    handle(service, clients, "client:cancel_generation", node_id="s")
    [answer] = clients.replies
    assert answer["payload"]["node_id"] == "s" and "no running" in answer["payload"]["message"]
    done = {"node_id": "s", "task_id": "j0", "result": {"output_url": "x"}}
    job_log.append(project.path, job_log.record(job_id="j0", event="server:task_success",
                                                payload=done))  # fmt: skip
    _unfinished_job(project, job_id="j1", node_id="s")  # e.g. another kernel's
    _unfinished_job(project, job_id="j2", node_id="other")
    clients.replies.clear()
    handle(service, clients, "client:cancel_generation", node_id="s")
    assert not clients.replies
    asked = {j for j in ("j0", "j1", "j2") if job_log.cancel_marker(project.path, j).exists()}
    assert asked == {"j1"}  # not the finished one, not another node's


def test_a_lost_job_is_settled_not_cancelled(front_end, project: Project):
    service, clients = front_end
    job_log.append(project.path, job_log.record(  # no scheduler can hold it: lost
        job_id="gone", event="server:node_state_updated",
        payload={"node_id": "s", "state": "generating", "task_id": "gone"}))  # fmt: skip
    handle(service, clients, "client:cancel_generation", node_id="s")
    assert "no running" in clients.replies[-1]["payload"]["message"]
    assert not job_log.cancel_marker(project.path, "gone").exists()
    assert {s.job_id: s.state for s in job_log.jobs(project.path)} == {"gone": "failed"}


def test_a_take_chosen_from_a_client_is_the_shots_active_take(
    front_end, project: Project, make_png: Callable[..., bytes]
):
    service, clients = front_end
    handle(service, clients, "client:add_node", type="Shot", id="s", position={"x": 0, "y": 0},
           data={"scene": 2, "shot": 30})  # fmt: skip
    takes = []
    for color in ((255, 0, 0), (0, 0, 255)):
        take = project.new_take(scene=2, shot=30, ext="png")
        take.write_bytes(make_png(color=color))
        takes.append(take)
    handle(service, clients, "client:update_node_data", node_id="s",
           data={"active_take": takes[0].name})  # fmt: skip
    assert project.active_take(scene=2, shot=30) == takes[0]
    status = service.sync_payload()["node_status"]["s"]
    assert status["takes"] == [t.name for t in takes] and status["active_take"] == takes[0].name
    link = status["thumbnail_url"]
    assert link.startswith("data:image/jpeg;base64," if service.editor.live else "/media/")
    if not service.editor.live:
        assert link == f"/media/05_Cache/thumbnails/{takes[0].name}.jpg"


def test_a_new_shot_gets_a_number_no_node_and_no_render_folder_has(
    front_end, project: Project, make_png: Callable[..., bytes]
):
    service, clients = front_end
    take = project.new_take(scene=1, shot=10, ext="png")  # a folder no node names any more
    take.write_bytes(make_png())
    for node_id in ("a", "b"):
        handle(service, clients, "client:add_node", type="Shot", id=node_id,
               position={"x": 0, "y": 0})  # fmt: skip
    with service.editor.reading() as graph:
        assert [graph.node(n).data["shot"] for n in ("a", "b")] == [20, 30]
    handle(service, clients, "client:update_node_data", node_id="b", data={"shot": 20})
    [refusal] = clients.events("server:notification")
    assert "Scene 1, Shot 20 is taken by node 'a'" in refusal["message"]
    assert "shot 40 is free" in refusal["message"]
    with service.editor.reading() as graph:
        assert graph.node("b").data["shot"] == 30
    handle(service, clients, "client:update_node_data", node_id="b", data={"shot": 10})
    assert len(clients.events("server:notification")) == 1  # a node may take an old folder
    assert service.sync_payload()["node_status"]["b"]["takes"] == [take.name]


def test_a_client_pins_the_active_take_and_new_takes_leave_it(
    front_end, project: Project, make_png: Callable[..., bytes]
):
    service, clients = front_end
    handle(service, clients, "client:add_node", type="Shot", id="s", position={"x": 0, "y": 0},
           data={"scene": 2, "shot": 30})  # fmt: skip
    handle(service, clients, "client:update_node_data", node_id="s", data={"take_pinned": True})
    [refusal] = clients.events("server:notification")
    assert "no take to pin yet" in refusal["message"] and "'s'" in refusal["message"]

    def new_take(color: tuple[int, int, int]) -> str:
        take = project.new_take(scene=2, shot=30, ext="png")
        take.write_bytes(make_png(color=color))
        project.commit_takes([take])
        return take.name

    first, second = new_take((255, 0, 0)), new_take((0, 0, 255))
    handle(service, clients, "client:update_node_data", node_id="s", data={"active_take": first})
    assert service.sync_payload()["node_status"]["s"]["take_pinned"] is False
    third = new_take((0, 255, 0))  # not pinned: the newest take is shown
    assert project.active_take(scene=2, shot=30).name == third  # type: ignore[union-attr]
    handle(service, clients, "client:update_node_data", node_id="s", data={"take_pinned": True})
    new_take((9, 9, 9))
    service.refresh(["s"])
    status = service.sync_payload()["node_status"]["s"]
    assert (status["active_take"], status["take_pinned"]) == (third, True)
    handle(service, clients, "client:update_node_data", node_id="s", data={"active_take": second})
    status = service.sync_payload()["node_status"]["s"]  # another choice stays pinned
    assert (status["active_take"], status["take_pinned"]) == (second, True)
    handle(service, clients, "client:update_node_data", node_id="s", data={"take_pinned": False})
    assert service.sync_payload()["node_status"]["s"]["take_pinned"] is False


def test_a_video_take_has_a_poster_and_a_streamed_link(
    front_end, project: Project, make_mp4: Callable[..., bytes]
):
    service, clients = front_end
    handle(service, clients, "client:add_node", type="Shot", id="v", position={"x": 0, "y": 0},
           data={"scene": 2, "shot": 20})  # fmt: skip
    take = project.new_take(scene=2, shot=20, ext="mp4")
    take.write_bytes(make_mp4())
    service.refresh(["v"])
    status = service.sync_payload()["node_status"]["v"]
    relative = take.path.relative_to(project.path).as_posix()
    if service.editor.live:  # the kernel: the poster inlined, the video through the lab
        assert status["thumbnail_url"].startswith("data:image/jpeg;base64,")
        assert status["video_url"] == (
            f"studio/api/v1/projects/{project.name}/media/{relative}"
        )  # relative to the lab's base URL (never a data URL: too big)
    else:
        assert status["thumbnail_url"] == f"/media/05_Cache/thumbnails/{take.name}.jpg"
        assert status["video_url"] == f"/media/{relative}"


def test_a_client_changes_the_project_settings(front_end, project: Project):
    service, clients = front_end
    heard: list[dict[str, Any]] = []
    service._on_settings = heard.append
    version = project.manifest.version
    handle(service, clients, "client:update_project_settings", quality="low", aspect_ratio="21:9")
    settings = project.manifest.project_settings
    assert (settings.quality, settings.aspect_ratio) == ("low", "21:9")
    assert project.manifest.version == version + 1  # saved under the optimistic lock
    [told] = clients.events("server:notification")
    assert told["level"] == "info" and "quality low, aspect ratio 21:9" in told["message"]
    assert [(h["quality"], h["aspect_ratio"], h["title"]) for h in heard] == [
        ("low", "21:9", "Test Film")
    ]
    handle(service, clients, "client:update_project_settings", aspect_ratio="wide")
    [refusal] = [n for n in clients.events("server:notification") if n["level"] == "error"]
    assert "aspect_ratio 'wide' is not valid" in refusal["message"]
    assert project.manifest.project_settings.aspect_ratio == "21:9"  # nothing written
    handle(service, clients, "client:update_project_settings", frame_rate="25")
    assert project.manifest.project_settings.frame_rate == "25"
    assert heard[-1]["frame_rate"] == "25" and "24" in heard[-1]["choices"]["frame_rate"]


def test_a_save_and_a_take_choice_are_committed(
    front_end, project: Project, make_png: Callable[..., bytes]
):
    from tests.conftest import git_out

    service, clients = front_end
    commits = int(git_out(project.path, "rev-list", "--count", "HEAD"))
    handle(service, clients, "client:add_node", type="Shot", id="s", position={"x": 0, "y": 0})
    handle(service, clients, "client:save")
    assert git_out(project.path, "log", "-1", "--format=%s").strip() == "Save the canvas"
    canvas = project.canvas_path.relative_to(project.path).as_posix()
    assert git_out(project.path, "status", "--porcelain", "--", canvas) == ""
    assert git_out(project.path, "status", "--porcelain") == ""  # no lock file shows either
    handle(service, clients, "client:save")  # nothing changed: no empty commit
    assert int(git_out(project.path, "rev-list", "--count", "HEAD")) == commits + 1

    takes = []
    for _ in range(2):
        take = project.new_take(scene=1, shot=10, ext="png")
        take.write_bytes(make_png())
        project.commit_takes([take])
        takes.append(take)
    handle(service, clients, "client:update_node_data", node_id="s",
           data={"active_take": takes[0].name})  # fmt: skip
    assert git_out(project.path, "log", "-1", "--format=%s").strip() == (
        f"Choose {takes[0].name} as the active take of scene 1, shot 10"
    )
    handle(service, clients, "client:update_node_data", node_id="s", data={"take_pinned": True})
    assert git_out(project.path, "log", "-1", "--format=%s").startswith(f"Pin {takes[0].name}")
    folder = takes[0].path.parent.relative_to(project.path).as_posix()
    assert git_out(project.path, "status", "--porcelain", "--", folder) == ""


def test_a_success_links_the_thumbnail_the_worker_made(
    front_end, project: Project, make_png: Callable[..., bytes], tmp_path: Path
):
    service, clients = front_end
    handle(service, clients, "client:add_node", type="Shot", id="s", position={"x": 0, "y": 0},
           data={"scene": 1, "shot": 10})  # fmt: skip
    take = project.new_take(scene=1, shot=10, ext="png")
    take.write_bytes(make_png())
    thumbnail = project.path / "05_Cache" / "thumbnails" / f"{take.name}.jpg"
    thumbnail.parent.mkdir(parents=True, exist_ok=True)
    thumbnail.write_bytes(b"\xff\xd8 a cached thumbnail")
    relative = thumbnail.relative_to(project.path).as_posix()
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(b"\xff\xd8 not the project's")
    given_names = (relative, str(outside), "../secret.jpg",
                   "05_Cache/thumbnails/../../project.json", "project.json",
                   "05_Cache/thumbnails/missing.jpg")  # fmt: skip
    for given in given_names:
        service.publish({"event": "server:task_success", "payload": {
            "task_id": "t", "node_id": "s",
            "result": {"output_url": "x", "take": take.name, "thumbnail": given}}})  # fmt: skip
    linked = [m["payload"]["result"].get("thumbnail_url") for m in clients.published[-6:]]
    expected = inline_link(thumbnail) if service.editor.live else f"/media/{relative}"
    assert linked == [expected] + [None] * 5  # only a file of the thumbnail cache
    if service.editor.live:  # the node shows the take its folder now holds
        assert clients.status["s"]["active_take"] == take.name
        assert clients.status["s"]["thumbnail_url"] == expected


def test_a_server_sync_reads_the_job_log(project: Project):
    clients = Clients()
    service = saved_service(project, clients)
    handle(service, clients, "client:add_node", type="Shot", id="s", position={"x": 0, "y": 0})
    failed = {"node_id": "s", "task_id": "j1", "error": "out of memory", "code": "OOM"}
    job_log.append(project.path, job_log.record(job_id="j1", event="server:task_failed",
                                                payload=failed))  # fmt: skip
    status = service.sync_payload()["node_status"]["s"]
    assert (status["state"], status["error"]) == ("failed", "out of memory")


def test_a_kernel_canvas_resumes_from_the_job_log(project: Project):
    from studio.service import KernelEngine

    project.graph.add_node("Shot", id="s", scene=1, shot=10)
    job_log.append(project.path, job_log.record(
        job_id="j1", event="server:task_failed",
        payload={"node_id": "s", "task_id": "j1", "error": "boom"}))  # fmt: skip
    clients = Clients()
    service = live_service(project, clients)
    service.engines = KernelEngine(project)
    service.resume()  # nothing running: no engine is started to look
    assert clients.status["s"]["state"] == "failed" and clients.status["s"]["takes"] == []


class FakeEngine:
    """Stands in for the Dask engine at the service's edge: what it was asked, and a way to
    deliver job events as the engine's listeners get them."""

    def __init__(self) -> None:
        self.listeners: list[Callable[[Message], None]] = []
        self.generated: list[str] = []

    def listen(self, project: Project, listener: Callable[[Message], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def generate(self, project: Project, node_id: str) -> Any:
        self.generated.append(node_id)
        return type("Job", (), {"id": "job-1"})()

    def deliver(self, message: Message) -> None:
        for listener in list(self.listeners):
            listener(message)


class Engines:
    def __init__(self, engine: FakeEngine, *, started: bool) -> None:
        self.engine, self.started, self.asked = engine, started, 0

    def get(self) -> Any:
        self.asked += 1
        self.started = True
        return self.engine


def test_the_first_generation_starts_the_engine_and_follows_it_once(front_end, project: Project):
    service, clients = front_end
    engine = FakeEngine()
    service.engines = engines = Engines(engine, started=False)
    handle(service, clients, "client:add_node", type="Shot", id="s", position={"x": 0, "y": 0})
    handle(service, clients, "client:start_generation", node_id="s")
    handle(service, clients, "client:start_generation", node_id="s")
    assert engine.generated == ["s", "s"] and engines.asked == 2
    starting = [m for m in clients.events("server:notification") if "first use" in m["message"]]
    assert len(starting) == 1  # said once, when the engine was not started yet
    assert len(engine.listeners) == 1  # followed once: every event reaches a client once
    before = len(clients.published)
    generating = {"node_id": "s", "state": "generating", "task_id": "job-1"}
    engine.deliver({"event": "server:node_state_updated", "payload": generating})
    assert len(clients.published) == before + 1
    if service.editor.live:
        assert clients.status["s"]["state"] == "generating"
    service.close()
    assert engine.listeners == []


def test_a_refused_generation_on_the_server_is_told_to_who_clicked(project: Project):
    clients = Clients()
    service = saved_service(project, clients)
    handle(service, clients, "client:add_node", type="Pipeline", id="p", position={"x": 0, "y": 0})
    clients.published.clear()
    handle(service, clients, "client:start_generation", node_id="p")
    [failed] = clients.replies
    assert failed["event"] == "server:task_failed" and failed["payload"]["node_id"] == "p"
    assert not clients.published  # not every client's toast


def test_opening_a_canvas_never_starts_an_engine_just_to_look(project: Project):
    project.graph.add_node("Shot", id="s", scene=1, shot=10)
    _unfinished_job(project, job_id="j1", node_id="s")  # running elsewhere, still heard from
    clients = Clients()
    service = live_service(project, clients)
    service.engines = engines = Engines(FakeEngine(), started=False)
    service.resume()  # no scheduler configured: following would start a local cluster
    assert engines.asked == 0
    assert clients.status["s"]["state"] == "generating"  # shown from the job log
    engines.started = True  # once this kernel's engine runs, following it costs nothing
    service.resume()
    assert engines.asked == 1
