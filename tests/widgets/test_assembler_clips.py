"""The Assembler node's clip list and settings checks (widgets/src/nodes/VSEAssembler/
clips.ts, run under Node) answer as studio.assembly compiles: the same clips in the same
order, the same settings refused, the same frame counts."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from studio.assembly.timecode import FRAME_RATES, TimecodeError
from studio.errors import SequenceError
from tests.assembly.builders import Film, video
from tests.widgets.typescript import call_module

CLIPS = "nodes/VSEAssembler/clips.ts"
DEPS = ["lib/assembly.ts"]


def clips(*calls: tuple[str, list[Any]]) -> list[Any]:
    return call_module(CLIPS, DEPS, list(calls))


FRAME_VALUES: list[Any] = [
    0, 48, "48", " 48 ", "00:00:02:00", "00:00:02;00", "00:00:02.00", "01:00:00:00",
    "00:01:00;02", "00:01:00:00", "00:01:00;01", "00:10:00;00", "00:09:59;29", "23:59:59:23",
    "00:00:02:24", "00:00:02:29", "00:60:00:00", "00:00:60:00", "1:00:00:00", "-5", -5, 2.5,
    "abc", "", "00:00:02",
]  # fmt: skip


@functools.cache
def rates() -> dict[str, dict[str, Any]]:
    answers = clips(*(("rateOf", [label]) for label in FRAME_RATES))
    assert all(a["error"] is None for a in answers)
    return {label: a["value"] for label, a in zip(FRAME_RATES, answers, strict=True)}


def rate(label: str) -> dict[str, Any]:
    return rates()[label]


@functools.cache
def frame_counts() -> dict[str, list[Any]]:
    """Every value of FRAME_VALUES at every rate, counted by the widget (one Node run)."""
    calls = [
        ("frameCount", [v, rate(label), "trim in"]) for label in FRAME_RATES for v in FRAME_VALUES
    ]
    answers = iter(clips(*calls))
    return {label: [next(answers) for _ in FRAME_VALUES] for label in FRAME_RATES}


@pytest.mark.parametrize("label", list(FRAME_RATES))
def test_frames_and_timecode_count_as_the_sequence_counts_them(label: str) -> None:
    for value, answer in zip(FRAME_VALUES, frame_counts()[label], strict=True):
        try:
            expected: int | None = FRAME_RATES[label].frames(value, what="trim in")
        except TimecodeError:
            expected = None
        assert answer["value"] == expected, (label, value, answer)
        assert (answer["error"] is None) == (expected is not None), (label, value, answer)


SETTINGS: list[tuple[str, dict[str, Any]]] = [
    ("24", {}),
    ("24", {"trim_in": 12, "trim_out": 48}),
    ("24", {"trim_in": "00:00:01:00", "trim_out": "00:00:02:00", "handles": 12}),
    ("24", {"trim_in": 48, "trim_out": 12}),
    ("24", {"trim_in": 12, "trim_out": 12}),
    ("24", {"trim_out": 48, "duration": 10}),
    ("24", {"duration": 30}),
    ("24", {"trim_in": "00:00:01:30"}),
    ("24", {"trim_in": "abc"}),
    ("24", {"handles": -1}),
    ("24", {"handles": 1.5}),
    ("24", {"speed": 2}),
    ("24", {"overlay": {"text": "Night Market"}}),
    ("24", {"overlay": {"text": ""}}),
    ("24", {"overlay": {"style": "title"}}),
    ("24", {"overlay": {"text": "Ana", "style": "lower_third", "position": "bottom_right",
                        "start": 6, "duration": 24}}),
    ("24", {"overlay": {"text": "Ana", "style": "banner"}}),
    ("24", {"overlay": {"text": "Ana", "position": "middle"}}),
    ("24", {"overlay": {"text": "Ana", "colour": "red"}}),
    ("24", {"trim_out": 40, "overlay": {"text": "Ana", "start": 40}}),
    ("24", {"trim_out": 40, "overlay": {"text": "Ana", "start": 10, "duration": 31}}),
    ("24", {"trim_out": 40, "overlay": {"text": "Ana", "start": 10, "duration": 30}}),
    ("24", {"overlay": {"text": "Ana", "duration": 0}}),
    ("24", {"transition": {"kind": "dissolve", "frames": 12}}),
    ("24", {"transition": {"kind": "dissolve"}}),
    ("24", {"transition": {"kind": "cut"}}),
    ("24", {"transition": {"kind": "dissolve", "frames": 0}}),
    ("24", {"transition": {"kind": "dissolve", "frames": 1000}}),
    ("24", {"transition": {"kind": "wipe", "frames": 12}}),
    ("29.97 DF", {"trim_in": "00:01:00;00"}),
    ("29.97 DF", {"trim_in": "00:01:00;02", "trim_out": "00:01:10;00"}),
    ("25", {"trim_out": "00:00:01:24"}),
    ("25", {"trim_out": "00:00:01:25"}),
]  # fmt: skip


@functools.cache
def widget_problems() -> list[Any]:
    """The widget's verdict on every case of SETTINGS (one Node run)."""
    return clips(*(("clipProblems", [settings, rate(label)]) for label, settings in SETTINGS))


def compiles(film: Film) -> bool:
    try:
        film.compile()
    except SequenceError:
        return False
    return True


@pytest.mark.parametrize("case", range(len(SETTINGS)))
def test_clip_settings_are_refused_as_compile_sequence_refuses_them(case: int) -> None:
    label, settings = SETTINGS[case]
    film = Film(frame_rate=label)
    # Long media and a long next clip: what is checked is the settings, not the footage.
    film.shot("a", media=video("03_Renders/a.mp4", frames=100_000, fps=30))
    film.shot("b", shot=20, media=video("03_Renders/b.mp4", frames=100_000, fps=30))
    film.set(clip_settings={"a": settings})
    problems = widget_problems()[case]
    assert (problems == []) == compiles(film), (settings, problems)


def test_a_dissolve_longer_than_the_next_clip_or_out_of_the_last_is_flagged() -> None:
    film = Film()
    film.shot("a")
    film.shot("b", shot=20)
    settings = {"a": {"transition": {"kind": "dissolve", "frames": 30}}, "b": {"trim_out": 24}}
    film.set(clip_settings=settings)
    with pytest.raises(SequenceError, match="dissolve is longer than the next clip"):
        film.compile()
    [across] = clips(("transitionProblems", [["a", "b"], settings, rate("24")]))
    assert across["warnings"] == {}
    assert list(across["problems"]) == ["a"]
    assert "longer than the next clip (24 frames)" in across["problems"]["a"][0]

    settings = {"b": {"transition": {"kind": "dissolve", "frames": 12}}}
    film.set(clip_settings=settings)
    assert any("dissolve into the next is ignored" in w for w in film.compile().warnings)
    [across] = clips(("transitionProblems", [["a", "b"], settings, rate("24")]))
    assert across["problems"] == {}
    assert list(across["warnings"]) == ["b"] and "ignored" in across["warnings"]["b"][0]


def entry_keys(film: Film, order: Any) -> list[str]:
    [groups] = clips(("clipGroups", [film.graph.to_json(), film.assembler, order]))
    return [entry["key"] for group in groups for entry in group["entries"]]


def test_the_clip_list_is_the_compiled_sequence_in_order() -> None:
    film = Film()
    film.shot("opening", scene=1, shot=10)
    film.shot("raw", scene=1, shot=20, connect=False)
    film.post("raw-vr", "VideoRestoration", "raw", connect=False)
    film.post("raw-sr", "SuperResolution", "raw-vr")
    film.graph.add_node("SceneGroup", id="scene-2", scene=2)
    film.graph.add_node("SceneGroup", id="inner", parent_id="scene-2")
    film.shot("late", scene=2, shot=30, parent="scene-2", connect=False)
    film.shot("early", scene=2, shot=10, parent="inner", connect=False)
    film.shot("mid", scene=2, shot=20, parent="scene-2", connect=False)
    film.post("mid-vr", "VideoRestoration", "mid", connect=False)
    film.graph.update_node("mid-vr", parent_id="scene-2")
    film.graph.connect("scene-2", "shots", film.assembler, "clips")
    film.shot("closing", scene=3, shot=10)

    for order in (None, ["scene-2", "gone", "closing"], ["closing", "raw-sr", "opening"]):
        film.set(order=order)
        compiled = [clip.node_id for clip in film.compile().clips]
        assert entry_keys(film, order) == compiled, order
    [groups] = clips(("clipGroups", [film.graph.to_json(), film.assembler, None]))
    chain = groups[1]["entries"][0]
    assert (chain["shotId"], chain["posts"]) == ("raw", ["VideoRestoration", "SuperResolution"])
    assert [g["orderId"] for g in groups] == ["opening", "raw-sr", "scene-2", "closing"]
    assert [e["orderId"] for e in groups[2]["entries"]] == ["scene-2"] * 3


def test_a_row_moves_and_the_stale_order_is_named() -> None:
    ids = ["a", "b", "c"]
    assert clips(
        ("moved", [ids, 0, 2]), ("moved", [ids, 2, 0]), ("moved", [ids, 1, 1]),
        ("moved", [ids, 0, 9]), ("staleOrder", [["a", "b"], ["b", "x", 3, "a"]]),
        ("orderedClips", [["a", "b", "c"], ["c", "x", "c", "a"]]),
        ("shotName", [10]), ("shotName", [None]),
    ) == [
        ["b", "c", "a"], ["c", "a", "b"], ids, ["b", "c", "a"], ["x"], ["c", "a", "b"],
        "SHOT-010", "SHOT-???",
    ]  # fmt: skip


def test_typed_frames_are_stored_as_numbers_and_timecode_as_typed() -> None:
    r = rate("24")
    assert clips(
        ("frameInput", ["48", r, "trim in"]), ("frameInput", [" 00:00:02:00 ", r, "trim in"]),
        ("frameInput", ["", r, "trim in"]), ("frameInput", ["2s", r, "trim in"]),
    ) == [
        {"value": 48, "error": None}, {"value": "00:00:02:00", "error": None},
        {"value": None, "error": None},
        {"value": None, "error": "trim in: \"2s\" is neither frames nor timecode HH:MM:SS:FF "
                                 "(for example 48 or 00:00:02:00)"},
    ]  # fmt: skip


def test_an_echo_of_an_earlier_edit_keeps_the_later_ones_shown() -> None:
    first, second = {"a": {"trim_in": 1}}, {"a": {"trim_in": 1, "trim_out": 9}}
    [c1, c2, none] = clips(("canonical", [first]), ("canonical", [second]), ("canonical", [None]))
    flying = {"inFlight": [c1, c2], "last": none, "whole": 3}
    assert clips(
        ("echoed", [flying, None, 3]),  # a patch of another field: still waiting
        ("echoed", [flying, {"a": {"trim_in": 1}}, 3]),  # the first edit's echo
        ("echoed", [flying, {"a": {"trim_out": 9, "trim_in": 1}}, 3]),  # any key order
        ("echoed", [flying, {"b": {}}, 3]),  # someone else's edit: the truth
        ("echoed", [flying, None, 4]),  # a whole graph (a refusal answers with one)
        ("sent", [{"inFlight": [], "last": none, "whole": 3}, first]),
        ("canonical", [{"b": 1, "a": [{"d": 2, "c": 3}]}]),
    ) == [
        {"echoes": flying, "settled": False},
        {"echoes": {"inFlight": [c2], "last": c1, "whole": 3}, "settled": False},
        {"echoes": {"inFlight": [], "last": c2, "whole": 3}, "settled": True},
        {"echoes": {"inFlight": [], "last": '{"b":{}}', "whole": 3}, "settled": True},
        {"echoes": {"inFlight": [], "last": none, "whole": 4}, "settled": True},
        {"inFlight": [c1], "last": none, "whole": 3},
        '{"a":[{"c":3,"d":2}],"b":1}',
    ]


MUSIC: list[dict[str, Any]] = [
    {}, {"track": "A2"}, {"track": "A1", "level_db": -6}, {"track": "A3"}, {"level_db": 20},
    {"level_db": -96}, {"start": 48}, {"start": "00:00:02:00"}, {"start": "2s"},
    {"duration": 0}, {"duration": 48}, {"duration": None}, {"trim_in": 24}, {"trim_in": "x"},
    {"volume": 1},
]  # fmt: skip


@functools.cache
def widget_music_problems() -> list[Any]:
    return clips(*(("musicProblems", [settings, rate("24")]) for settings in MUSIC))


@pytest.mark.parametrize("case", range(len(MUSIC)))
def test_music_settings_are_refused_as_compile_sequence_refuses_them(case: int) -> None:
    settings = MUSIC[case]
    film = Film()
    film.shot("a", media=video("03_Renders/a.mp4", frames=100_000, fps=30))
    film.music("score", **settings)
    problems = widget_music_problems()[case]
    assert (problems == []) == compiles(film), (settings, problems)


def test_the_music_input_lists_its_beds_and_refuses_what_is_not_audio() -> None:
    film = Film()
    film.shot("a")
    film.music("score")
    [beds] = clips(("musicBeds", [film.graph.to_json(), film.assembler]))
    assert beds == [{"id": "score", "name": "score.wav", "problem": None}]
