"""A post node's status on both front ends: its outputs, current output, source, thumbnail
and what stands in its way, read from the render folder; a refused Generate says why on the
node. No browser, server or cluster: real takes and outputs in a real project."""

from __future__ import annotations

import pytest

from studio import Project
from studio.post import post_state
from studio.project.outputs import PostOutput, reserve_output
from studio.service import StudioService
from tests.project.media import image_take, video_take
from tests.service.test_service import (
    FRONT_ENDS,
    Clients,
    handle,
    live_service,
    saved_service,
)


@pytest.fixture(params=list(FRONT_ENDS))
def front_end(request: pytest.FixtureRequest, project: Project) -> tuple[StudioService, Clients]:
    clients = Clients()
    return FRONT_ENDS[request.param](project, clients), clients


def add(service, clients: Clients, node_type: str, node_id: str, **data) -> None:
    handle(service, clients, "client:add_node", type=node_type, id=node_id,
           position={"x": 0, "y": 0}, data=data)  # fmt: skip


def connect(service, clients: Clients, source: str, target: str) -> None:
    handle(service, clients, "client:connect", source=source, source_handle="output",
           target=target, target_handle="input", id=f"{source}-{target}")  # fmt: skip


def made(project: Project, service, node_id: str) -> PostOutput:
    with service.editor.reading() as graph:  # the kernel's live graph, or the saved file
        state = post_state(project, graph.to_json(), node_id)
    assert state.run is not None, state.problem
    run = state.run
    output = reserve_output(project.path, source=run.source, kind=run.post.kind, ext="mp4",
                            pipeline=run.pipeline.id, inputs=run.recorded)  # fmt: skip
    output.write_from(run.source.path)
    project.commit_takes([output])
    return output


def test_a_post_nodes_view_follows_its_source_and_outputs(front_end, project: Project):
    service, clients = front_end
    add(service, clients, "VideoRestoration", "vr")
    status = service.sync_payload()["node_status"]["vr"]
    assert "connect a shot first" in status["problem"] and status["outputs"] == []
    assert status["pipelines"] == ["restore-ffmpeg"]  # the installed pipelines of its task
    add(service, clients, "Shot", "s", scene=1, shot=10)
    connect(service, clients, "s", "vr")
    status = service.sync_payload()["node_status"]["vr"]
    assert "generate SHOT-010 first" in status["problem"]
    take = video_take(project)
    service.refresh(["s"])  # a live canvas re-reads a shot's folder (its Generate's success)
    status = service.sync_payload()["node_status"]["vr"]
    assert (status["source"], status["problem"], status["active_output"]) == (take.name, None, None)
    output = made(project, service, "vr")
    service.refresh(["vr"])
    status = service.sync_payload()["node_status"]["vr"]
    assert status["outputs"] == [output.name] and status["active_output"] == output.name
    assert status["stale"] is False
    link = status["thumbnail_url"]  # the video's first frame
    assert link.startswith("data:image/jpeg;base64," if service.editor.live else "/media/")
    # a setting changes: no current output, the old one shown as stale
    handle(service, clients, "client:update_node_data", node_id="vr", data={"strength": 0.9})
    status = service.sync_payload()["node_status"]["vr"]
    assert status["active_output"] is None and status["outputs"] == []
    assert status["stale"] is True and status["thumbnail_url"] == link


def test_an_image_into_video_restoration_is_refused_on_the_node(project: Project):
    clients = Clients()
    service = live_service(project, clients)
    image_take(project)
    add(service, clients, "Shot", "s", scene=1, shot=10)
    add(service, clients, "VideoRestoration", "vr")
    connect(service, clients, "s", "vr")
    problem = clients.status["vr"]["problem"]  # shown before any click
    assert problem.startswith("Takes a video, but Shot SHOT-010")
    handle(service, clients, "client:start_generation", node_id="vr")
    [failed] = clients.events("server:task_failed")
    assert failed["node_id"] == "vr" and "gives an image" in failed["error"]
    assert clients.status["vr"]["state"] == "failed"


def test_a_server_tells_who_clicked_why_a_post_node_cannot_run(project: Project):
    clients = Clients()
    service = saved_service(project, clients)
    add(service, clients, "SuperResolution", "sr")
    handle(service, clients, "client:start_generation", node_id="sr")
    [failed] = [m["payload"] for m in clients.replies if m["event"] == "server:task_failed"]
    assert "connect a shot first" in failed["error"]
