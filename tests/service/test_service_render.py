"""``client:render_final_sequence`` handled by the studio service on both front ends: the
engine's render job by default (a real Dask cluster, the real renderer), its events on the
Assembler node, the film and EDL linked where the front end can serve them; refusals
answered on the Assembler with the message and hint, naming the node to fix."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client

from studio import Project
from studio.engine import Engine
from studio.service import GivenEngine, LiveGraph, SavedGraph, StudioService, inline_link
from studio.service.service import RENDERING_ALREADY, project_link
from tests.engine.films import cpu_cluster, two_shot_edit

pytestmark = pytest.mark.slow
TIMEOUT = 180
Message = dict[str, Any]


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with cpu_cluster() as c:
        yield c


class Clients:
    def __init__(self) -> None:
        self.replies: list[Message] = []
        self.published: list[Message] = []
        self.status: dict[str, Any] = {}
        self.lock = threading.Lock()

    def publish(self, message: Message) -> None:
        with self.lock:
            self.published.append(message)

    def events(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            every = self.replies + self.published
        return [m["payload"] for m in every if m["event"] == name]


def kernel(project: Project, clients: Clients, engine: Engine) -> StudioService:
    return StudioService(
        project,
        editor=LiveGraph(project.graph, save=project.graph.save),
        link=inline_link,
        publish=clients.publish,
        engines=GivenEngine(engine),
        on_status=lambda status: setattr(clients, "status", status),
    )


def server(project: Project, clients: Clients, engine: Engine) -> StudioService:
    link = project_link(root=project.path, url_of=lambda relative: f"/media/{relative}")
    return StudioService(
        project,
        editor=SavedGraph(project, lock=threading.RLock()),
        link=link,
        publish=clients.publish,
        engines=GivenEngine(engine),
        file_link=link,
    )


def render_event(service: StudioService, clients: Clients, node_id: str) -> None:
    service.handle(
        {"event": "client:render_final_sequence", "payload": {"node_id": node_id}},
        reply=clients.replies.append,
    )


def wait_for(clients: Clients, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if found := clients.events(name):
            return found[-1]
        if failed := clients.events("server:task_failed"):
            pytest.fail(f"the render failed: {failed}")
        time.sleep(0.05)
    pytest.fail(f"no {name} within {TIMEOUT} s: {clients.published}")


@pytest.mark.parametrize("front_end", ["kernel", "server"])
def test_the_render_event_runs_the_render_job(
    front_end: str, project: Project, client: Client, tmp_path: Path
) -> None:
    two_shot_edit(project, tmp_path / "media")
    clients = Clients()
    make = kernel if front_end == "kernel" else server
    service = make(project, clients, Engine(client=client))
    render_event(service, clients, "asm")
    render_event(service, clients, "asm")  # a second click before the first render ends
    [again] = [n for n in clients.events("server:notification") if n.get("node_id") == "asm"]
    assert again["message"] == RENDERING_ALREADY and again["level"] == "warning"
    success = wait_for(clients, "server:task_success")
    assert success["node_id"] == "asm"
    assert len(project.jobs()) == 1  # one render, one film
    result = success["result"]
    assert result["output_url"] == "06_Exports/Test_Film_v001.mp4"
    assert (project.path / result["output_url"]).is_file()
    assert result["edl"] == "04_Project_Files/EDLs/Test_Film_v001.edl"
    steps = [p["step"] for p in clients.events("server:task_progress") if p["node_id"] == "asm"]
    assert any(step.startswith("rendering frame") for step in steps)
    if front_end == "kernel":
        # A kernel's canvas cannot serve a film (only small inlined files): no video_url.
        assert "video_url" not in result and "edl_url" not in result
        deadline = time.monotonic() + 5
        while clients.status.get("asm", {}).get("state") != "success":
            assert time.monotonic() < deadline, clients.status.get("asm")
            time.sleep(0.05)
        assert clients.status["asm"]["output_url"] == result["output_url"]
    else:
        assert result["video_url"] == "/media/06_Exports/Test_Film_v001.mp4"
        assert result["edl_url"] == "/media/04_Project_Files/EDLs/Test_Film_v001.edl"
        assert result["fcp_xml_url"] == "/media/04_Project_Files/EDLs/Test_Film_v001.xml"
        synced = service.sync_payload()["node_status"]["asm"]  # a reopened canvas: from the log
        assert (synced["state"], synced["video_url"]) == ("success", result["video_url"])
    service.close()


@pytest.mark.parametrize("front_end", ["kernel", "server"])
def test_a_refused_render_is_answered_on_the_assembler(
    front_end: str, project: Project, client: Client
) -> None:
    graph = project.graph
    graph.add_node("Shot", id="s10", scene=1, shot=10)
    graph.add_node("VSEAssembler", id="asm")
    graph.connect("s10", "output", "asm", "clips")
    graph.save()
    clients = Clients()
    make = kernel if front_end == "kernel" else server
    service = make(project, clients, Engine(client=client))
    render_event(service, clients, "asm")
    [failed] = clients.events("server:task_failed")
    assert failed["node_id"] == "asm" and failed["code"] == "SequenceError"
    assert "generate it first" in failed["error"] and "hint:" in failed["error"]
    [notice] = [n for n in clients.events("server:notification") if n.get("node_id") == "s10"]
    assert "generate it first" in notice["message"]  # shown on the node to fix, too
    if front_end == "kernel":
        assert clients.status["asm"]["state"] == "failed"
    assert not list((project.path / "04_Project_Files/EDLs").glob("*.edl"))  # nothing written
    assert project.jobs() == []
    service.close()
