"""``project.sequence()`` and ``project.export_edl()`` on a real project (git + LFS) with real
media: the resolver's facts, versioned files that are never overwritten, commits."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import pytest

from studio import Project, SequenceError
from studio.assembly import edl, resolve
from studio.assembly.export import file_stem, next_version
from studio.assembly.timecode import frame_rate
from tests.conftest import git_out


def ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 2 s 23.976 fps H.264 clip with a 48 kHz tone, a silent 24 fps one, a tone WAV."""
    folder = tmp_path_factory.mktemp("media")
    talking, silent, tone = folder / "talking.mp4", folder / "silent.mp4", folder / "tone.wav"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x90:rate=24000/1001",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        "2.002",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        str(talking),
    )
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x90:rate=24",
        "-t",
        "3",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(silent),
    )
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=220:sample_rate=48000", "-t", "20", str(tone))
    return {"talking": talking, "silent": silent, "tone": tone}


def add_take(project: Project, scene: int, shot: int, source: Path | bytes, ext: str) -> None:
    take = project.new_take(scene=scene, shot=shot, ext=ext, prompt=f"shot {shot}")
    if isinstance(source, bytes):
        take.write_bytes(source)
    else:
        take.write_from(source)
    project.commit_takes([take])
    project.set_active_take(take)


@pytest.fixture
def film(project: Project, media: dict[str, Path], make_png) -> Project:
    add_take(project, 1, 10, media["talking"], "mp4")
    add_take(project, 1, 20, make_png(64, 36), "png")
    add_take(project, 1, 30, media["silent"], "mp4")
    music = project.path / "01_Assets/Source_Media/tone.wav"
    music.write_bytes(media["tone"].read_bytes())
    graph = project.graph
    for node_id, shot in (("s10", 10), ("s20", 20), ("s30", 30)):
        graph.add_node("Shot", id=node_id, scene=1, shot=shot)
    graph.add_node(
        "VSEAssembler",
        id="asm",
        frame_rate="23.976",
        resolution="720p",
        order=["s30", "s10", "s20"],
        clip_settings={
            "s10": {
                "transition": {"kind": "dissolve", "frames": 6},
                "overlay": {"text": "Night Market"},
            },
            "s20": {"duration": 36},
        },
    )
    graph.add_node("Audio", id="music", file="01_Assets/Source_Media/tone.wav")
    for node_id in ("s10", "s20", "s30"):
        graph.connect(node_id, "output", "asm", "clips")
    graph.connect("music", "audio", "asm", "music")
    graph.save()
    return project


def test_the_project_sequence_from_its_canvas_and_takes(film: Project) -> None:
    sequence = film.sequence()
    s30, s10, s20 = sequence.clips
    assert [c.node_id for c in sequence.clips] == ["s30", "s10", "s20"]
    assert s10.media is not None and s10.media.fps == Fraction(24000, 1001)
    assert (s10.media.frames, s10.media.has_audio, s10.media.width) == (48, True, 160)
    assert (s30.frames, s10.frames, s20.frames) == (71, 42, 36)  # 3 s of 24 fps at 23.976 = 71
    assert s20.media is not None and s20.media.is_still and s20.transition_in is not None
    assert (sequence.width, sequence.height, sequence.title) == (1280, 720, "Test Film")
    assert [(a.track, a.node_id) for a in sequence.audio] == [("A1", "s10"), ("A2", "music")]
    assert sequence.audio[1].frames == sequence.duration
    html = sequence._repr_html_()
    assert "<table>" in html and "SHOT-010_v01_take01.mp4" in html and "dissolve 6" in html
    assert "SHOT-030_v01_take01.mp4" in repr(sequence)
    assert film.sequence("asm") == sequence


def test_export_edl_writes_versioned_files_and_commits_them(film: Project) -> None:
    first = film.export_edl()
    folder = film.path / "04_Project_Files/EDLs"
    assert [p.name for p in first.paths] == [
        "Test_Film_v001.edl",
        "Test_Film_v001.otio",
        "Test_Film_v001.xml",
    ]
    assert all(p.parent == folder and p.is_file() for p in first.paths)
    assert git_out(film.path, "rev-parse", "HEAD").strip() == first.commit
    committed = git_out(film.path, "show", "--name-only", "--format=%s", "HEAD").split()
    assert {f"04_Project_Files/EDLs/{p.name}" for p in first.paths} <= set(committed)
    assert git_out(film.path, "status", "--porcelain", "--", str(folder)) == ""
    text = first.edl.read_text()
    assert "* FROM CLIP NAME:  SHOT-010_v01_take01.mp4" in text
    assert "01:00:00:00" in text and "D 006" in text
    # what the render will read: the EDL alone, with the project's media
    back = edl.sequence_from_edl(
        text, frame_rate=frame_rate("24"), media={m.path: m for m in first.sequence.sources}
    )
    assert [(c.name, c.frames, c.record_in) for c in back.clips] == [
        (c.name, c.frames, c.record_in) for c in first.sequence.clips
    ]
    before = first.edl.read_bytes()
    second = film.export_edl()
    assert second.version == 2 and second.edl.name == "Test_Film_v002.edl"
    assert first.edl.read_bytes() == before  # never overwritten
    assert second.commit != first.commit


def test_an_exported_edl_on_sequence_in_is_rendered_as_given(film: Project) -> None:
    exported = film.export_edl()
    graph = film.graph
    graph.add_node("EDL", id="cut", file=exported.edl.relative_to(film.path).as_posix())
    graph.add_node("VSEAssembler", id="asm2", frame_rate="24")
    graph.connect("cut", "edl", "asm2", "sequence")
    sequence = film.sequence("asm2")
    assert sequence.origin == "edl" and sequence.frame_rate.label == "23.976"  # the EDL's own
    assert [(c.media, c.frames, c.transition_in) for c in sequence.clips] == [
        (c.media, c.frames, c.transition_in) for c in exported.sequence.clips
    ]
    assert [(a.track, a.media.path, a.level_db) for a in sequence.audio] == [
        (a.track, a.media.path, a.level_db) for a in exported.sequence.audio
    ]


def test_refusals_from_the_project(film: Project) -> None:
    graph = film.graph
    graph.add_node("Shot", id="new", scene=2, shot=10)
    graph.connect("new", "output", "asm", "clips")
    with pytest.raises(SequenceError, match=r"Shot 'new' \(scene 2, shot 10\) has no active take"):
        film.sequence()
    graph.remove_node("new")
    graph.add_node("VideoRestoration", id="vr")
    graph.connect("s30", "output", "vr", "input")
    graph.connect("vr", "output", "asm", "clips")
    assert [p.node_id for p in film.sequence().pending] == ["vr"]
    with pytest.raises(SequenceError, match=r"waits for post nodes to run first") as raised:
        film.export_edl()
    assert raised.value.node_id == "vr"
    assert not list((film.path / "04_Project_Files/EDLs").glob("*_v*"))


def test_an_lfs_pointer_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    pointer = tmp_path / "SHOT-010_v01_take01.mp4"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 5\n")
    with pytest.raises(resolve.MediaUnreadable, match=r"is a Git LFS pointer") as raised:
        resolve.probe_media(pointer, "03_Renders/SCENE_01/SHOT_010/SHOT-010_v01_take01.mp4")
    assert "git lfs pull --include=" in (raised.value.hint or "")


def test_probing_without_ffprobe_gives_the_same_facts(
    media: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    with_ffprobe = [resolve._probe(path, path.name) for path in media.values()]
    monkeypatch.setattr("studio.assembly.resolve.shutil.which", lambda name: None)
    without = [resolve._probe(path, path.name) for path in media.values()]
    assert without == with_ffprobe
    talking, silent, tone = with_ffprobe
    assert (talking.frames, talking.fps, talking.has_audio) == (48, Fraction(24000, 1001), True)
    assert (silent.frames, silent.fps, silent.has_audio) == (72, Fraction(24), False)
    assert (tone.kind, tone.duration) == ("audio", Fraction(20))


def test_file_names_and_versions(tmp_path: Path) -> None:
    assert file_stem("Night Market: Cut 2") == "Night_Market_Cut_2"
    assert file_stem("…") == "Sequence"
    assert next_version(tmp_path / "absent", "A") == 1
    for name in ("A_v001.edl", "A_v003.xml", "A_B_v009.edl", "A_v002.txt"):
        (tmp_path / name).write_text("")
    assert next_version(tmp_path, "A") == 4
