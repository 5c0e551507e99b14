"""The post nodes' source, settings and current output (studio.post) on a real project:
what they run on, what they refuse, and when an output is current or stale."""

from __future__ import annotations

import pytest

from studio import Project
from studio.errors import InvalidInput
from studio.post import downstream_posts, post_state, resolve_post
from studio.project.outputs import PostOutput, reserve_output
from tests.project.media import image_take, video_take


def chain(project: Project, *, scene: int = 1, shot: int = 10) -> tuple[str, str, str]:
    """Shot -> Video restoration -> Super resolution."""
    graph = project.graph
    s = graph.add_node("Shot", scene=scene, shot=shot).id
    vr = graph.add_node("VideoRestoration").id
    sr = graph.add_node("SuperResolution").id
    graph.connect(s, "output", vr, "input")
    graph.connect(vr, "output", sr, "input")
    return s, vr, sr


def made(project: Project, node_id: str) -> PostOutput:
    """What a run of the node on its current source would store (filled with its source)."""
    state = post_state(project, project.graph.to_json(), node_id)
    assert state.run is not None, state.problem
    run = state.run
    output = reserve_output(project.path, source=run.source, kind=run.post.kind, ext="mp4",
                            pipeline=run.pipeline.id, inputs=run.recorded,
                            recorded=run.provenance())  # fmt: skip
    output.write_from(run.source.path)
    project.commit_takes([output])
    return output


def test_the_chain_is_read_to_its_shot(project: Project):
    s, vr, sr = chain(project, scene=2, shot=30)
    post = resolve_post(project.graph.to_json(), sr)
    assert (post.upstream_id, post.upstream_is_shot, post.shot_id) == (vr, False, s)
    assert (post.scene, post.shot, post.kind, post.pipeline_id) == (2, 30, "sr", "sr-lanczos")
    assert downstream_posts(project.graph.to_json(), {s}) == {vr, sr}


def test_nothing_upstream_says_connect_a_shot_first(project: Project):
    sr = project.graph.add_node("SuperResolution").id
    with pytest.raises(InvalidInput, match="has nothing upstream: connect a shot first"):
        resolve_post(project.graph.to_json(), sr)
    problem = post_state(project, project.graph.to_json(), sr).problem
    assert "connect a shot first" in (problem or "")


def test_an_asset_upstream_is_refused_by_name(project: Project):
    graph = project.graph
    asset = graph.add_node("Asset", name="Hero")
    sr = graph.add_node("SuperResolution")
    snapshot = graph.to_json()
    snapshot["edges"].append({"id": "e", "source": asset.id, "sourceHandle": "asset",
                              "target": sr.id, "targetHandle": "input"})  # fmt: skip
    with pytest.raises(InvalidInput, match=f"fed by the Asset node '{asset.id}'"):
        resolve_post(snapshot, sr.id)


def test_a_shot_without_numbers_says_so(project: Project):
    _, vr, _ = chain(project)
    shot = resolve_post(project.graph.to_json(), vr).shot_id
    project.graph.update_node(shot, shot=None)
    with pytest.raises(InvalidInput, match="needs a scene and a shot number"):
        resolve_post(project.graph.to_json(), vr)


def test_an_ungenerated_shot_says_generate_it_first(project: Project):
    _, vr, sr = chain(project)
    snapshot = project.graph.to_json()
    problem = post_state(project, snapshot, vr).problem
    assert "has no take yet: generate SHOT-010 first" in (problem or "")
    assert "generate SHOT-010 first" in (post_state(project, snapshot, sr).problem or "")


def test_an_image_into_video_restoration_is_refused(project: Project):
    image_take(project)
    _, vr, _ = chain(project)
    problem = post_state(project, project.graph.to_json(), vr).problem or ""
    assert "takes a video, but Shot SHOT-010" in problem and "gives an image" in problem
    assert "Super resolution" in problem  # what to use for a still


def test_a_still_can_be_upscaled(project: Project):
    take = image_take(project)
    s = project.graph.add_node("Shot", scene=1, shot=10).id
    sr = project.graph.add_node("SuperResolution").id
    project.graph.connect(s, "output", sr, "input")
    state = post_state(project, project.graph.to_json(), sr)
    assert state.problem is None and state.run is not None
    assert state.run.recorded == {"media": take.name, "scale": 2.0}


def test_the_current_output_follows_the_source_and_the_settings(project: Project):
    first_take = video_take(project)
    _, vr, sr = chain(project)
    assert post_state(project, project.graph.to_json(), vr).stale  # its source is there
    restored = made(project, vr)
    assert restored.name == "SHOT-010_v01_take01.restore_v01_take01.mp4"
    state = post_state(project, project.graph.to_json(), sr)
    assert state.source == restored and state.current is None  # SR has not run
    upscaled = made(project, sr)
    snapshot = project.graph.to_json()
    assert post_state(project, snapshot, vr).current == restored
    assert post_state(project, snapshot, sr).current == upscaled
    provenance = upscaled.provenance
    assert provenance is not None
    extra = provenance.model_extra or {}
    assert (extra["source"], extra["post_node"], extra["node_type"]) == (
        restored.name, sr, "SuperResolution")  # fmt: skip
    assert extra["settings"] == {"scale": 2.0} and provenance.pipeline == "sr-lanczos"

    # a setting changes: SR is stale (its output stays, shown as the old one)
    project.graph.update_node(sr, scale=4.0)
    state = post_state(project, project.graph.to_json(), sr)
    assert state.current is None and state.stale and state.outputs == [upscaled]
    project.graph.update_node(sr, scale=2)  # back (2 and 2.0 are one setting): current again
    assert post_state(project, project.graph.to_json(), sr).current == upscaled

    # a new active take upstream: both post nodes are stale
    second = video_take(project, prompt="another clip")
    assert project.active_take(scene=1, shot=10) == second
    snapshot = project.graph.to_json()
    assert post_state(project, snapshot, vr).current is None
    problem = post_state(project, snapshot, sr).problem
    assert "no current output: generate it first" in (problem or "")
    project.set_active_take(first_take)  # the old take again: the old outputs are current
    snapshot = project.graph.to_json()
    assert post_state(project, snapshot, sr).current == upscaled


def test_the_picked_output_wins_among_current_ones(project: Project):
    video_take(project)
    _, vr, _ = chain(project)
    one, two = made(project, vr), made(project, vr)
    assert post_state(project, project.graph.to_json(), vr).current == two  # the newest
    project.graph.update_node(vr, active_output=one.name)
    assert post_state(project, project.graph.to_json(), vr).current == one
