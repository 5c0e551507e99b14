import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio import ManifestError, Project, VersionConflict
from studio.project.manifest import load_manifest


def test_round_trip_keeps_unknown_keys(project: Project) -> None:
    path = project.manifest_path
    data = json.loads(path.read_text())
    data["project_settings"]["fps"] = 24
    data["studio_future_key"] = {"x": 1}
    path.write_text(json.dumps(data))
    manifest = project.manifest
    manifest.description = "changed"
    saved = project.save_manifest(manifest)
    assert saved.version == 2
    again = json.loads(path.read_text())
    assert again["description"] == "changed"
    assert again["version"] == 2
    assert again["studio_future_key"] == {"x": 1}
    assert again["project_settings"]["fps"] == 24


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda d: d.update(project_settings={"quality": "ultra"}), "project_settings.quality", ""),
        (lambda d: d.pop("uuid"), "uuid", "required"),
        (lambda d: d.update(version=0), "version", ""),
        (lambda d: d.update(version="3"), "version", ""),
        (lambda d: d.update(uuid="not-a-uuid"), "uuid", ""),
        (lambda d: d.update(title=""), "title", ""),
        (lambda d: d["project_settings"].update(aspect_ratio="16/9"), "aspect_ratio", ""),
    ],
)
def test_invalid_manifest_names_file_and_field(project: Project, mutate, field, message) -> None:
    data = json.loads(project.manifest_path.read_text())
    mutate(data)
    project.manifest_path.write_text(json.dumps(data))
    with pytest.raises(ManifestError) as raised:
        load_manifest(project.manifest_path)
    assert str(project.manifest_path) in str(raised.value)
    assert field in str(raised.value)
    assert message in str(raised.value)


def test_malformed_json_names_line_and_column(project: Project) -> None:
    project.manifest_path.write_text('{\n  "uuid": "x",\n  oops\n}')
    with pytest.raises(ManifestError, match=r"project.json: malformed JSON: .* line 3, column 3"):
        Project(project.path)


def test_not_utf8_is_reported(project: Project) -> None:
    project.manifest_path.write_bytes(b'{"title": "\xff"}')
    with pytest.raises(ManifestError, match="not UTF-8"):
        _ = project.manifest


def test_stale_save_raises_and_writes_nothing(project: Project) -> None:
    stale = project.manifest
    fresh = project.manifest
    fresh.title = "first writer"
    project.save_manifest(fresh)
    before = project.manifest_path.read_bytes()
    stale.title = "second writer"
    with pytest.raises(VersionConflict) as raised:
        project.save_manifest(stale)
    assert (raised.value.expected, raised.value.current) == (1, 2)
    assert project.manifest_path.read_bytes() == before


RACER = """
import sys, time
from pathlib import Path
from studio import Project, VersionConflict
project = Project(sys.argv[1])
manifest = project.manifest
go = Path(sys.argv[2])
Path(sys.argv[2] + ".ready" + sys.argv[3]).touch()  # version 1 is loaded
while not go.exists():
    time.sleep(0.001)
manifest.title = "winner " + sys.argv[3]
try:
    project.save_manifest(manifest, expected_version=1)
    print("won")
except VersionConflict:
    print("lost")
"""


def test_two_processes_racing_exactly_one_wins(project: Project, tmp_path: Path) -> None:
    go = tmp_path / "go"
    for _round in range(3):
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(project.path), str(go), str(i)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(2)
        ]
        ready = [Path(f"{go}.ready{i}") for i in range(2)]
        deadline = time.monotonic() + 120  # a loaded machine starts Python slowly
        while not all(path.exists() for path in ready) and time.monotonic() < deadline:
            assert all(r.poll() is None for r in racers), [r.communicate() for r in racers]
            time.sleep(0.01)
        go.touch()  # both have loaded version 1: now they race
        outputs = [r.communicate(timeout=60) for r in racers]
        results = sorted(out.strip() for out, _ in outputs)
        assert results == ["lost", "won"], outputs
        data = json.loads(project.manifest_path.read_text())
        assert data["version"] == 2
        assert data["title"].startswith("winner ")
        # reset for the next round
        data["version"] = 1
        project.manifest_path.write_text(json.dumps(data))
        for path in (go, *ready):
            path.unlink()


def test_settings_change_after_creation_under_the_lock(project) -> None:
    from studio import InvalidInput, VersionConflict

    before = project.manifest
    saved = project.update_settings(title="Night Market II", quality="high", aspect_ratio="21:9")
    assert (saved.title, saved.project_settings.quality, saved.project_settings.aspect_ratio) == (
        "Night Market II", "high", "21:9"
    )  # fmt: skip
    assert project.manifest.version == before.version + 1
    with pytest.raises(InvalidInput, match="quality 'ultra' is not valid"):
        project.update_settings(quality="ultra")
    assert project.manifest == saved  # nothing written
    stale = project.manifest
    project.update_settings(description="another editor, first")
    with pytest.raises(VersionConflict):
        project.save_manifest(stale.model_copy(update={"title": "lost"}))


def test_frame_rate_is_a_project_setting_a_new_assembler_takes(project) -> None:
    from studio import InvalidInput
    from studio.graph.builtin_types import FRAME_RATE_CHOICES, VSE_ASSEMBLER

    assert project.manifest.project_settings.frame_rate == "24"
    with pytest.raises(InvalidInput, match=r"frame_rate '60' is not valid.*23\.976, 24, 25"):
        project.update_settings(frame_rate="60")
    assert project.manifest.version == 1  # nothing written
    for label in FRAME_RATE_CHOICES:  # every rate the Assembler offers, and only those
        assert project.update_settings(frame_rate=label).project_settings.frame_rate == label
    project.update_settings(frame_rate="25")
    first = project.graph.add_node(VSE_ASSEMBLER)
    assert first.data["frame_rate"] == "25"  # the project's, not the registry's "24"
    assert project.graph.add_node(VSE_ASSEMBLER, frame_rate="30").data["frame_rate"] == "30"
    project.update_settings(frame_rate="23.976")
    assert first.data["frame_rate"] == "25"  # an Assembler keeps its own once made


def test_a_manifest_without_a_frame_rate_reads_the_default(project) -> None:
    data = json.loads(project.manifest_path.read_text())
    data["project_settings"].pop("frame_rate", None)
    project.manifest_path.write_text(json.dumps(data))
    assert project.manifest.project_settings.frame_rate == "24"


def test_settings_saved_since_the_editor_loaded_them_are_a_conflict(project) -> None:
    from studio import VersionConflict

    loaded = project.manifest.version
    project.update_settings(title="the other editor's")
    with pytest.raises(VersionConflict, match=f"at version {loaded + 1}, not {loaded}"):
        project.update_settings(quality="high", expected_version=loaded)
    assert (project.title, project.manifest.project_settings.quality) == (
        "the other editor's", "standard"
    )  # fmt: skip
    saved = project.update_settings(quality="high", expected_version=loaded + 1)
    assert (saved.version, saved.project_settings.quality) == (loaded + 2, "high")
