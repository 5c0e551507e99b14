"""The graph -> the sequence (pure): order, chains, trims, transitions, overlays, audio and
the refusals that name the node to fix."""

from __future__ import annotations

import copy
from fractions import Fraction

import pytest

from studio.assembly.model import Media, PostStep, SequenceInputs, frame_size
from studio.assembly.sequence import assembler_ids, compile_sequence, needed_inputs
from studio.assembly.timecode import frame_rate
from studio.errors import SequenceError
from studio.graph.graph import Graph
from tests.assembly.builders import Film, sound, still, take_path, video


def names(sequence) -> list[str]:
    return [clip.node_id for clip in sequence.clips]


def test_clips_follow_the_order_the_user_set_not_the_order_of_the_edges() -> None:
    film = Film()
    for node_id, shot in (("a", 10), ("b", 20), ("c", 30)):
        film.shot(node_id, shot=shot)
    assert names(film.compile()) == ["a", "b", "c"]  # no order yet: connection order
    film.set(order=["c", "a", "b"])
    sequence = film.compile()
    assert names(sequence) == ["c", "a", "b"]
    assert [c.record_in for c in sequence.clips] == [0, 96, 192]
    assert sequence.duration == 288 and sequence.warnings == ()
    # a node connected later but not in the order follows; a stale id is ignored, with a warning
    film.shot("d", shot=40)
    film.set(order=["c", "gone", "a", "b"])
    sequence = film.compile()
    assert names(sequence) == ["c", "a", "b", "d"]
    assert sequence.warnings == (
        "the clip order lists 'gone', which is not connected to Clips (ignored)",
    )


def test_a_scene_group_contributes_its_shots_in_scene_and_shot_order() -> None:
    film = Film()
    film.graph.add_node("SceneGroup", id="scene-2", scene=2)
    film.graph.add_node("SceneGroup", id="inner", parent_id="scene-2")  # nested: still its shots
    film.shot("late", scene=2, shot=30, parent="scene-2", connect=False)
    film.shot("early", scene=2, shot=10, parent="inner", connect=False)
    film.shot("mid", scene=2, shot=20, parent="scene-2", connect=False)
    film.post("mid-vr", "VideoRestoration", "mid", connect=False)
    film.graph.update_node("mid-vr", parent_id="scene-2")  # its post chain is in the scene too
    film.graph.connect("scene-2", "shots", film.assembler, "clips")
    film.shot("opening", scene=1, shot=10)
    film.set(order=["opening", "scene-2"])
    sequence = film.compile()
    assert names(sequence) == ["opening", "early", "mid-vr", "late"]
    assert sequence.clips[2].shot_id == "mid"
    assert [p.node_id for p in sequence.clips[2].pending] == ["mid-vr"]


def test_each_clip_is_the_active_take_or_the_last_post_nodes_output() -> None:
    film = Film()
    film.shot("s1", shot=10, connect=False)
    film.post("vr", "VideoRestoration", "s1", connect=False)
    film.post("sr", "SuperResolution", "vr")
    film.shot("s2", shot=20)
    sequence = film.compile()
    first = sequence.clips[0]
    assert (first.node_id, first.shot_id) == ("sr", "s1")
    assert first.media == film.media["s1"]  # neither post node has run: the take, both pending
    assert [(p.node_id, p.node_type) for p in first.pending] == [
        ("vr", "VideoRestoration"),
        ("sr", "SuperResolution"),
    ]
    assert [p.node_id for p in sequence.pending] == ["vr", "sr"]
    # once Video restoration has an output, the clip cuts it and only Super resolution waits
    film.media["vr"] = video("03_Renders/SCENE_01/SHOT_010/SHOT-010_v01_take01.restore01.mp4")
    first = film.compile().clips[0]
    assert first.media == film.media["vr"]
    settings = {"scale": 2.0, "pipeline_id": "sr-lanczos", "active_output": None}
    assert first.pending == (PostStep("sr", "SuperResolution", settings),)
    film.media["sr"] = video("03_Renders/SCENE_01/SHOT_010/SHOT-010_v01_take01.sr01.mp4")
    assert film.compile().clips[0].pending == ()


def test_trims_in_frames_or_timecode_and_handles() -> None:
    film = Film()
    film.shot("a", shot=10)
    film.shot("b", shot=20)
    film.clip("a", trim_in=12, trim_out="00:00:03:00", handles=24)
    film.clip("b", trim_in="00:00:01:00", duration=24, handles=8)
    a, b = film.compile().clips
    assert (a.source_in, a.source_out, a.frames, a.handles) == (12, 72, 60, (12, 24))
    assert (b.source_in, b.source_out, b.record_in, b.handles) == (24, 48, 60, (8, 8))
    film.clip("a", trim_out="00:00:05:00")
    with pytest.raises(SequenceError, match=r"past the end of SHOT-010_v01_take01.mp4") as raised:
        film.compile()
    assert raised.value.node_id == "asm"
    assert raised.value.hint == "trim it to at most 00:00:04:00"
    film.clip("a", trim_in=80, trim_out=80)
    with pytest.raises(SequenceError, match=r"nothing is left"):
        film.compile()
    film.clip("a", trim_out=None, duration=12, trim_in=0)
    film.clip("b", trim_out=30)
    with pytest.raises(SequenceError, match=r"trim_out or duration, not both"):
        film.compile()


def test_media_at_another_rate_is_converted_by_time() -> None:
    film = Film(frame_rate="23.976")
    film.shot("a", media=video(take_path(1, 10), frames=96, fps=24))  # 4 s
    film.shot("b", shot=20, media=video(take_path(1, 20), frames=12, fps=12))  # 1 s
    a, b = film.compile().clips
    assert (a.frames, b.frames) == (95, 23)


def test_a_dissolve_plays_the_outgoing_clips_tail_under_the_next() -> None:
    film = Film()
    film.shot("a", shot=10)
    film.shot("b", shot=20)
    film.shot("c", shot=30)
    film.clip("a", transition={"kind": "dissolve", "frames": 12})
    film.clip("b", transition={"kind": "cut"})
    sequence = film.compile()
    a, b, c = sequence.clips
    # untrimmed, a stops 12 frames before its end: those play under the dissolve
    assert (a.source_out, a.transition_in) == (84, None)
    assert b.transition_in is not None and b.transition_in.frames == 12
    assert (b.record_in, b.source_out, c.transition_in) == (84, 96, None)
    assert sequence.duration == 84 + 96 + 96
    # an explicit out point must leave the tail
    film.clip("a", trim_out=90)
    with pytest.raises(SequenceError, match=r"12-frame dissolve .* has 6") as raised:
        film.compile()
    assert raised.value.hint == "set its out point 6 frames earlier, or shorten the dissolve"
    # a dissolve out of the last clip has nothing to go to: ignored, said
    film.clip("a", trim_out=None)
    film.clip("c", transition={"kind": "dissolve", "frames": 6})
    assert "is the last clip: its dissolve into the next is ignored" in film.compile().warnings[0]


def test_a_dissolve_longer_than_the_next_clip_is_refused() -> None:
    film = Film()
    film.shot("a", shot=10)
    film.shot("b", shot=20)
    film.clip("a", transition={"kind": "dissolve", "frames": 30})
    film.clip("b", duration=20)
    with pytest.raises(SequenceError, match=r"longer than the next clip"):
        film.compile()


def test_a_still_image_is_a_clip_of_a_set_duration() -> None:
    film = Film(frame_rate="25", still_duration=2.5)
    film.shot("card", media=still(take_path(1, 10, ext="png")))
    film.shot("held", shot=20, media=still(take_path(1, 20, ext="png")))
    film.clip("held", duration="00:00:01:00", transition={"kind": "dissolve", "frames": 10})
    film.shot("after", shot=30)
    card, held, after = film.compile().clips
    assert (card.frames, card.media is not None and card.media.is_still) == (62, True)  # 2.5 s
    assert held.frames == 25  # its own duration wins; a still's tail is endless
    assert after.transition_in is not None and after.transition_in.frames == 10


def test_overlays_titles_and_lower_thirds() -> None:
    film = Film()
    film.shot("a", shot=10)
    film.clip("a", overlay={"text": "Night Market"})
    film.shot("b", shot=20)
    film.clip(
        "b",
        overlay={"text": "Ana, 34", "style": "lower_third", "start": 12, "duration": "00:00:02:00"},
    )
    film.shot("c", shot=30)
    film.clip("c", overlay={"text": "The End", "position": "top", "start": 90})
    a, b, c = (clip.overlay for clip in film.compile().clips)
    assert a is not None and (a.style, a.position, a.start, a.frames) == ("title", "center", 0, 96)
    assert b is not None and (b.position, b.start, b.frames) == ("bottom_left", 12, 48)
    assert c is not None and (c.position, c.frames) == ("top", 6)
    film.clip("c", overlay={"text": "The End", "start": 90, "duration": 12})
    with pytest.raises(SequenceError, match=r"overlay .* does not fit"):
        film.compile()
    film.clip("c", overlay={"text": "The End", "colour": "red"})
    with pytest.raises(SequenceError, match=r"clip settings for 'c' do not read .*colour"):
        film.compile()


def test_frame_rate_start_timecode_and_size_come_from_the_assembler_and_project() -> None:
    film = Film(frame_rate="29.97 DF", start_timecode="00:59:58:00", resolution="720p")
    film.shot("a")
    film.aspect_ratio = "9:16"
    sequence = film.compile()
    assert (sequence.frame_rate.label, sequence.width, sequence.height) == ("29.97 DF", 720, 1280)
    assert sequence.timecode(0) == "00:59:58;00"
    assert sequence.title == "Night Market"  # the project's, unless the Assembler has one
    film.set(title="Trailer", start_timecode="99:99")
    with pytest.raises(SequenceError, match=r"start_timecode") as raised:
        film.compile()
    assert raised.value.node_id == "asm"
    assert frame_size("16:9", 1080) == (1920, 1080)
    assert frame_size("4:3", 720) == (960, 720)
    assert frame_size("239:100", 1080) == (2582, 1080)  # even, for yuv420p
    assert frame_size("1:1", 480) == (480, 480)


def test_audio_each_shots_own_sound_and_music_beds_on_a1_a2() -> None:
    film = Film()
    film.shot("a", shot=10, media=video(take_path(1, 10), audio=True))
    film.shot("b", shot=20)
    film.music("score", level_db=-6)
    film.music("voice", media=sound("01_Assets/Source_Media/voice.wav", 2), start="00:00:05:00")
    sequence = film.compile()
    by_track = {(a.track, a.node_id): a for a in sequence.audio}
    sync = by_track[("A1", "a")]
    assert (sync.sync, sync.record_in, sync.frames, sync.reel) == (True, 0, 96, "010V1T1")
    score = by_track[("A2", "score")]  # A2 first: A1 carries the shots' sound
    assert (score.record_in, score.frames, score.level_db) == (0, 192, -6.0)  # to the end
    voice = by_track[("A1", "voice")]  # A2 is taken: A1, after shot a's sound
    assert (voice.record_in, voice.frames) == (120, 48)
    film.set_music("voice", track="A2")
    with pytest.raises(SequenceError, match=r"Audio 'voice' overlaps Audio 'score' on A2") as r:
        film.compile()
    assert r.value.node_id == "voice"
    film.set_music("voice", start=10)
    with pytest.raises(
        SequenceError, match=r"overlaps Audio 'score' on A2 and the shots' own sound on A1"
    ):
        film.compile()


def test_refusals_name_the_node_and_what_to_do() -> None:
    film = Film()
    film.shot("s1", scene=1, shot=10)
    del film.media["s1"]
    film.problems["s1"] = "no written take yet"
    with pytest.raises(SequenceError) as raised:
        film.compile()
    assert raised.value.node_id == "s1"
    assert raised.value.message == (
        "Shot 's1' (scene 1, shot 10) has no active take (no written take yet)"
    )
    assert "generate it first" in (raised.value.hint or "")

    film = Film()
    film.graph.add_node("VideoRestoration", id="vr")
    film.graph.connect("vr", "output", film.assembler, "clips")
    with pytest.raises(SequenceError, match=r"Video restoration 'vr' has nothing upstream") as r:
        film.compile()
    assert r.value.node_id == "vr" and "connect a Shot" in (r.value.hint or "")


def test_mixed_incompatible_inputs_are_refused() -> None:
    film = Film()
    film.shot("a")
    film.graph.add_node("EDL", id="cut", file="04_Project_Files/EDLs/cut.edl")
    film.graph.connect("cut", "edl", film.assembler, "sequence")
    with pytest.raises(SequenceError, match=r"both an EDL on Sequence in and clips") as raised:
        film.compile()
    assert raised.value.node_id == "asm"

    film = Film()  # an image take into a node that takes video
    film.shot("card", media=still(take_path(1, 10, ext="png")), connect=False)
    film.post("vr", "VideoRestoration", "card")
    with pytest.raises(SequenceError, match=r"Video restoration 'vr' takes video, but .* image"):
        film.compile()
    film = Film()  # Super resolution takes both
    film.shot("card", media=still(take_path(1, 10, ext="png")), connect=False)
    film.post("sr", "SuperResolution", "card")
    assert film.compile().clips[0].pending[0].node_id == "sr"

    film = Film()  # a motion source's control map is an image to the graph, never a clip
    film.graph.add_node("MotionSource", id="motion")
    film.graph.connect("motion", "motion", film.assembler, "clips")
    with pytest.raises(SequenceError, match=r"Motion source 'motion' cannot be connected"):
        film.compile()

    film = Film()  # a whole scene into a post node: which shot?
    film.graph.add_node("SceneGroup", id="scene")
    film.shot("s", parent="scene", connect=False)
    film.graph.add_node("VideoRestoration", id="vr")
    film.graph.connect("scene", "shots", "vr", "input")
    film.graph.connect("vr", "output", film.assembler, "clips")
    with pytest.raises(SequenceError, match=r"Scene 'scene' cannot be connected into Video"):
        film.compile()


def test_a_cycle_in_a_hand_edited_canvas_is_refused() -> None:
    film = Film()
    film.shot("s", connect=False)
    film.post("a", "VideoRestoration", "s", connect=False)
    film.post("b", "VideoRestoration", "a")
    graph = film.graph.to_json()  # the Graph refuses cycles: a canvas file edited by hand
    for edge in graph["edges"]:
        if edge["target"] == "a":
            edge["source"] = "b"
    with pytest.raises(SequenceError, match=r"cycle") as raised:
        compile_sequence(graph, film.inputs())
    assert raised.value.node_id in {"a", "b"}


def test_the_assembler_is_found_or_named() -> None:
    graph = Graph()
    with pytest.raises(SequenceError, match=r"no Assembler"):
        compile_sequence(graph.to_json(), SequenceInputs())
    graph.add_node("VSEAssembler", id="one")
    with pytest.raises(SequenceError, match=r"has nothing connected") as raised:
        compile_sequence(graph.to_json(), SequenceInputs())
    assert raised.value.node_id == "one"
    graph.add_node("VSEAssembler", id="two")
    assert assembler_ids(graph.to_json()) == ["one", "two"]
    with pytest.raises(SequenceError, match=r"2 Assemblers"):
        compile_sequence(graph.to_json(), SequenceInputs())
    with pytest.raises(SequenceError, match=r"no Assembler 'three'"):
        compile_sequence(graph.to_json(), SequenceInputs(), assembler_id="three")


def test_reels_are_unique_per_source_take() -> None:
    film = Film()
    # every take of shot 10 would be reel "SHOT010v" with the adapter's default
    film.shot("a", media=video(take_path(1, 10, take=1)))
    film.shot("b", shot=11, media=video(take_path(1, 10, take=2)))
    film.shot("c", shot=12, media=video(take_path(2, 10, take=1)))  # another scene's shot 10
    film.shot("d", shot=13, media=video(take_path(1, 10, take=1)))  # the same take again
    assert [c.reel for c in film.compile().clips] == ["010V1T1", "010V1T2", "R001", "010V1T1"]


def test_compilation_is_pure() -> None:
    film = Film()
    film.shot("a", media=video(take_path(1, 10), audio=True))
    film.shot("b", shot=20)
    film.clip("a", transition={"kind": "dissolve", "frames": 8}, overlay={"text": "Hi"})
    film.music("score")
    graph, inputs = film.graph.to_json(), film.inputs()
    before = copy.deepcopy(graph)
    first = compile_sequence(graph, inputs)
    assert compile_sequence(graph, inputs) == first
    assert graph == before


def test_needed_inputs_lists_what_the_resolver_must_find() -> None:
    film = Film()
    film.shot("s1", connect=False)
    film.post("vr", "VideoRestoration", "s1")
    film.graph.add_node("SceneGroup", id="scene")
    film.shot("s2", shot=20, parent="scene", connect=False)
    film.graph.connect("scene", "shots", film.assembler, "clips")
    film.music("score")
    film.shot("unused", shot=99, connect=False)
    needs = needed_inputs(film.graph.to_json())
    assert (needs.assembler_id, needs.shots, needs.posts, needs.audio) == (
        "asm",
        ("s1", "s2"),
        ("vr",),
        ("score",),
    )


def test_music_that_needs_fixing() -> None:
    film = Film()
    film.shot("a")
    film.graph.add_node("Audio", id="tts", text="hello")
    film.graph.connect("tts", "audio", film.assembler, "music")
    film.problems["tts"] = "its speech is not generated yet"
    with pytest.raises(SequenceError, match=r"Audio 'tts' has no audio") as raised:
        film.compile()
    assert raised.value.node_id == "tts"
    film.media["tts"] = sound("01_Assets/Source_Media/tts.wav")
    film.set_music("tts", start=200)
    with pytest.raises(SequenceError, match=r"after the sequence ends"):
        film.compile()
    film.set_music("tts", trim_in=0, duration=10_000)
    with pytest.raises(SequenceError, match=r"720 frames after its in point; 10000"):
        film.compile()


def test_media_facts() -> None:
    take = video(take_path(1, 10), frames=48, fps=Fraction(24000, 1001))
    assert take.name == "SHOT-010_v01_take01.mp4"
    assert Media.from_json(take.to_json()) == take
    assert still("a.png").length_at(frame_rate("24")) is None
    assert take.length_at(frame_rate("23.976")) == 48
