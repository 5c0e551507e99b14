"""Post outputs: their names (pure), and their reservation, versions and listing in a real
project's shot folder (the take machinery, beside the takes and never among them)."""

from __future__ import annotations

import pytest

from studio import Project
from studio.errors import InvalidInput
from studio.project import repo
from studio.project.outputs import (
    OutputId,
    list_outputs,
    output_file_name,
    output_stem,
    parse_output_file,
    parse_output_sidecar,
    reserve_output,
)
from studio.project.takes import parse_take_file
from tests.project.media import video_take


def test_an_output_is_named_after_its_source_its_kind_version_and_number():
    name = output_file_name(
        source_stem="SHOT-010_v01_take03", kind="sr", version=1, number=2, ext=".MP4"
    )
    assert name == "SHOT-010_v01_take03.sr_v01_take02.mp4"
    chained = output_stem(
        source_stem="SHOT-010_v01_take03.restore_v01_take01", kind="sr", version=2, number=1
    )
    assert chained == "SHOT-010_v01_take03.restore_v01_take01.sr_v02_take01"


def test_names_parse_back_and_never_read_as_takes():
    name = "SHOT-010_v01_take03.restore_v01_take01.sr_v02_take04.mp4"
    assert parse_output_file(name) == (
        OutputId("SHOT-010_v01_take03.restore_v01_take01", "sr", 2, 4),
        "mp4",
    )
    assert parse_take_file(name) is None  # a take's name has no second dot
    assert parse_output_file("SHOT-010_v01_take03.mp4") is None  # a take is not an output
    sidecar = "SHOT-010_v01_take03.sr_v01_take01.take.json"
    assert parse_output_sidecar(sidecar) == OutputId("SHOT-010_v01_take03", "sr", 1, 1)
    assert parse_output_file(sidecar) is None


@pytest.mark.parametrize(
    ("source", "kind"),
    [("not-a-take", "sr"), ("SHOT-010_v01_take03", "SR"), ("SHOT-010_v01_take03", "s.r")],
)
def test_bad_sources_and_kinds_are_refused(source: str, kind: str):
    with pytest.raises(InvalidInput):
        output_stem(source_stem=source, kind=kind, version=1, number=1)


def test_outputs_keep_a_version_per_settings_and_count_takes_within_it(project: Project):
    take = video_take(project)
    first = reserve_output(project.path, source=take, kind="sr", ext="mp4", pipeline="sr-lanczos",
                           inputs={"media": take.name, "scale": 2.0})  # fmt: skip
    again = reserve_output(project.path, source=take, kind="sr", ext="mp4", pipeline="sr-lanczos",
                           inputs={"media": take.name, "scale": 2.0})  # fmt: skip
    other = reserve_output(project.path, source=take, kind="sr", ext="mp4", pipeline="sr-lanczos",
                           inputs={"media": take.name, "scale": 4.0})  # fmt: skip
    restore = reserve_output(project.path, source=take, kind="restore", ext="mp4",
                             pipeline="restore-ffmpeg", inputs={"video": take.name})  # fmt: skip
    assert [o.name for o in (first, again, other, restore)] == [
        "SHOT-010_v01_take01.sr_v01_take01.mp4",
        "SHOT-010_v01_take01.sr_v01_take02.mp4",
        "SHOT-010_v01_take01.sr_v02_take01.mp4",
        "SHOT-010_v01_take01.restore_v01_take01.mp4",
    ]
    assert first.sidecar_path.name == "SHOT-010_v01_take01.sr_v01_take01.take.json"
    assert first.provenance is not None and first.provenance.source == take.name  # type: ignore[attr-defined]
    assert not first.ready  # reserved: empty until filled, once
    chained = reserve_output(project.path, source=restore, kind="sr", ext="mp4",
                             pipeline="sr-lanczos", inputs={"media": restore.name})  # fmt: skip
    assert chained.name == "SHOT-010_v01_take01.restore_v01_take01.sr_v01_take01.mp4"
    # the shot's takes are still just the take; the outputs list by source and kind
    assert [t.name for t in project.takes(scene=1, shot=10)] == [take.name]
    listed = list_outputs(project.path, scene=1, shot=10, source=take.stem, kind="sr")
    assert [o.name for o in listed] == [first.name, again.name, other.name]


def test_an_output_is_committed_like_a_take_media_through_lfs(project: Project):
    take = video_take(project)
    output = reserve_output(project.path, source=take, kind="restore", ext="mp4",
                            pipeline="restore-ffmpeg", inputs={"video": take.name})  # fmt: skip
    output.write_from(take.path)
    project.commit_takes([output])
    lfs = repo.lfs_files(project.path)
    assert f"03_Renders/SCENE_01/SHOT_010/{output.name}" in lfs
    assert repo.is_committed(project.path, output.sidecar_path)
