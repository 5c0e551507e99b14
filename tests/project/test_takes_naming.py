"""Take naming and the version rule: pure functions, no I/O."""

import pytest

from studio import InvalidInput
from studio.project.provenance import Provenance, creative_fingerprint
from studio.project.takes import (
    TakeId,
    next_number,
    next_version,
    normalize_ext,
    parse_sidecar_file,
    parse_take_file,
    shot_folder,
    take_file_name,
)


def test_names_follow_the_contract() -> None:
    assert shot_folder(scene=1, shot=10) == "03_Renders/SCENE_01/SHOT_010"
    assert take_file_name(shot=10, version=1, number=2, ext="MP4") == "SHOT-010_v01_take02.mp4"
    assert (
        take_file_name(shot=1234, version=12, number=123, ext="png") == "SHOT-1234_v12_take123.png"
    )


def test_parse_round_trips_and_rejects_others() -> None:
    assert parse_take_file("SHOT-010_v01_take02.mp4") == (TakeId(1, 2), "mp4")
    assert parse_sidecar_file("SHOT-010_v03_take04.take.json") == TakeId(3, 4)
    for other in (
        "SHOT-010_v01_take02.take.json",
        "active_take.json",
        ".gitkeep",
        "SHOT-10_v01_take02.mp4",
        "SHOT-010_v01_take02",
        ".SHOT-010_v01_take02.png.abc.tmp",
    ):
        assert parse_take_file(other) is None, other


@pytest.mark.parametrize("bad", ["", ".", "p/ng", "../png", "png\0", "a" * 11, "pn g"])
def test_bad_extensions_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_ext(bad)


@pytest.mark.parametrize(
    ("scene", "shot"), [(-1, 1), (1, -1), (1000, 1), (1, 10000), (True, 1), (1.5, 1)]
)
def test_bad_scene_or_shot_numbers_are_refused(scene: object, shot: object) -> None:
    with pytest.raises(InvalidInput):
        shot_folder(scene=scene, shot=shot)  # type: ignore[arg-type]


def fingerprint(prompt: str, **more: object) -> str:
    return creative_fingerprint(
        pipeline=str(more.get("pipeline", "t2i")), prompt=prompt, inputs={}, quality="low"
    )


def test_version_rule() -> None:
    first = Provenance(take="x", creative_fingerprint=fingerprint("a cat"))
    assert next_version(None, None, fingerprint("a cat")) == 1
    assert next_version(first, 1, fingerprint("a cat")) == 1
    assert next_version(first, 1, fingerprint("a dog")) == 2
    assert next_version(first, 4, fingerprint("a cat", pipeline="other")) == 5
    assert next_version(None, 3, fingerprint("a cat")) == 4  # newest take has no sidecar


def test_seed_is_not_creative() -> None:
    assert creative_fingerprint(
        pipeline="p", prompt="x", inputs={"steps": 4}, quality="low"
    ) == creative_fingerprint(pipeline="p", prompt="x", inputs={"steps": 4}, quality="low")
    assert creative_fingerprint(
        pipeline="p", prompt="x", inputs={"steps": 4}, quality="low"
    ) != creative_fingerprint(pipeline="p", prompt="x", inputs={"steps": 5}, quality="low")


def test_next_number_counts_within_a_version() -> None:
    taken = {TakeId(1, 1), TakeId(1, 2), TakeId(2, 1)}
    assert next_number(taken, 1) == 3
    assert next_number(taken, 2) == 2
    assert next_number(taken, 3) == 1
