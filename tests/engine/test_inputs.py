"""Resolving a shot's media inputs: from the graph (pure), on disk, onto a pipeline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from studio import Project
from studio.engine.inputs import (
    LocatedMedia,
    MediaSource,
    Overrides,
    assign_media,
    locate_media,
    override_problems,
    pipeline_inputs,
    resolve_shot,
)
from studio.errors import InvalidInput
from studio.pipelines import Pipeline, get_pipeline
from studio.pipelines.discovery import load_pipeline
from studio.project.manifest import ASPECT_RATIO_CHOICES


def graph_with(*sources: tuple[str, dict[str, object], str]) -> dict[str, object]:
    """A Shot ``s`` (scene 1, shot 30) fed by each (type, data, socket)."""
    nodes: list[dict[str, object]] = [
        {"id": "s", "type": "Shot", "data": {"scene": 1, "shot": 30, "prompt": "rain"}}
    ]
    edges = []
    for i, (kind, data, socket) in enumerate(sources):
        nodes.append({"id": f"n{i}", "type": kind, "data": data})
        edges.append(
            {"source": f"n{i}", "sourceHandle": "x", "target": "s", "targetHandle": socket}
        )
    return {"nodes": nodes, "edges": edges}


def test_media_sources_are_read_from_the_graph():
    graph = graph_with(
        ("Shot", {"scene": 1, "shot": 20}, "image"),
        ("Asset", {"name": "Hero", "preview": "01_Assets/hero.png"}, "character"),
        ("Audio", {"file": "01_Assets/Source_Media/line.wav"}, "audio"),
        ("Pipeline", {"pipeline_id": "i2v-draft"}, "pipeline"),
    )
    shot = resolve_shot(graph, "s")
    assert shot.pipeline_id == "i2v-draft"
    upstream, asset, audio = shot.media
    assert (upstream.origin, upstream.scene, upstream.shot) == ("take", 1, 20)
    assert upstream.description == "Shot SHOT-020 (scene 1)"
    assert (asset.origin, asset.path, asset.socket) == ("file", "01_Assets/hero.png", "character")
    assert (audio.socket, audio.path) == ("audio", "01_Assets/Source_Media/line.wav")


def test_a_source_without_a_file_is_refused_with_what_to_do():
    with pytest.raises(InvalidInput, match=r"Asset 'Hero' \(n0\).*no file: choose one"):
        resolve_shot(graph_with(("Asset", {"name": "Hero"}, "style")), "s")
    with pytest.raises(InvalidInput, match=r"SuperResolution node .* no file of its own"):
        resolve_shot(graph_with(("SuperResolution", {"scale": 2}, "image")), "s")


def test_an_upstream_shot_without_a_take_says_generate_it_first(project: Project):
    source = MediaSource(socket="image", node_id="a", description="Shot SHOT-020 (scene 1)",
                         origin="take", scene=1, shot=20)  # fmt: skip
    with pytest.raises(InvalidInput, match=r"SHOT-020.*has no take yet: generate it first"):
        locate_media(project.path, source)


def test_the_upstream_active_take_is_used(project: Project, make_png):
    first = project.new_take(scene=1, shot=20, ext="png", prompt="a", seed=1)
    first.write_bytes(make_png(color=(1, 2, 3)))
    second = project.new_take(scene=1, shot=20, ext="png", prompt="a", seed=2)
    second.write_bytes(make_png(color=(4, 5, 6)))
    source = MediaSource(socket="image", node_id="a", description="Shot", origin="take",
                         scene=1, shot=20)  # fmt: skip
    assert locate_media(project.path, source).path == second.path  # newest without a choice
    project.set_active_take(first)
    located = locate_media(project.path, source)
    assert (located.path, located.reference) == (first.path, first.name)


@pytest.mark.parametrize("path", ["../../outside.png", "/etc/passwd", "01_Assets/../../x.png"])
def test_files_outside_the_project_and_library_are_refused(project: Project, path: str):
    (project.path.parent.parent / "outside.png").write_bytes(b"x")
    source = MediaSource(socket="image", node_id="a", description="Asset 'A'", origin="file",
                         path=path)  # fmt: skip
    with pytest.raises(InvalidInput, match="outside the project and the workspace Library"):
        locate_media(project.path, source)


def test_project_and_library_files_are_found(project: Project, make_png):
    inside = project.path / "01_Assets/Source_Media/still.png"
    inside.write_bytes(make_png())
    library = project.path.parent.parent / "Library/Stock_Media/logo.png"
    library.write_bytes(make_png())
    found = locate_media(project.path, MediaSource(
        socket="image", node_id="a", description="Asset", origin="file",
        path="01_Assets/Source_Media/still.png"))  # fmt: skip
    assert (found.path, found.reference) == (inside.resolve(), "01_Assets/Source_Media/still.png")
    in_library = MediaSource(
        socket="image", node_id="a", description="Asset", origin="file", path=str(library)
    )
    found = locate_media(project.path, in_library)
    assert found.path == library.resolve()
    missing = MediaSource(socket="image", node_id="a", description="Asset 'A'", origin="file",
                          path="01_Assets/nope.png")  # fmt: skip
    with pytest.raises(InvalidInput, match=r"no file '01_Assets/nope\.png' in the project"):
        locate_media(project.path, missing)


def located(socket: str, name: str) -> LocatedMedia:
    source = MediaSource(socket=socket, node_id="a", description=f"Asset {name!r}", origin="file",
                         path=name)  # fmt: skip
    return LocatedMedia(source=source, path=Path("/p") / name, reference=name)


def test_media_fill_inputs_by_name_then_by_type():
    i2v = get_pipeline("i2v-draft")  # one file input: image (Image)
    assert set(assign_media(i2v, [located("image", "a.png")])) == {"image"}
    assert set(assign_media(i2v, [located("character", "hero.png")])) == {"image"}  # by type
    with pytest.raises(InvalidInput, match=r"no free input for a Video.*image \(Image\)"):
        assign_media(i2v, [located("image", "clip.mp4")])  # an Image input takes no video
    with pytest.raises(InvalidInput, match="no free input"):
        assign_media(i2v, [located("image", "a.png"), located("style", "b.png")])
    t2i = get_pipeline("t2i-draft")  # no file inputs at all
    with pytest.raises(InvalidInput, match=r"file inputs: none"):
        assign_media(t2i, [located("image", "a.png")])


def test_media_become_absolute_paths_among_the_pipeline_values():
    i2v = get_pipeline("i2v-draft")
    shot = resolve_shot(graph_with(("Shot", {"scene": 1, "shot": 20}, "image")), "s")
    media = assign_media(i2v, [located("image", "still.png")])
    values = pipeline_inputs(i2v, shot, seed=3, aspect_ratio="16:9", media=media)
    assert values == {"image": "/p/still.png"}  # i2v-draft takes neither prompt nor seed


def test_a_take_that_links_out_of_the_project_is_refused(project: Project, tmp_path: Path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG not yours")
    take = project.new_take(scene=1, shot=20, ext="png", prompt="a", seed=1)
    take.path.unlink()
    take.path.symlink_to(secret)  # what a cloned repository could carry
    source = MediaSource(socket="image", node_id="a", description="Shot SHOT-020 (scene 1)",
                         origin="take", scene=1, shot=20)  # fmt: skip
    with pytest.raises(InvalidInput, match="a link out of the project"):
        locate_media(project.path, source)


def test_without_a_workspace_only_the_project_counts(tmp_path: Path, project: Project):
    """A project outside any workspace: no "Library" two folders up is trusted."""
    (project.path.parent.parent / "workspace.json").unlink()
    library = project.path.parent.parent / "Library/Stock_Media/logo.png"
    library.write_bytes(b"png")
    source = MediaSource(socket="image", node_id="a", description="Asset", origin="file",
                         path=str(library))  # fmt: skip
    with pytest.raises(InvalidInput, match="outside the project"):
        locate_media(project.path, source)


def pipeline_with_ratios(tmp_path: Path, choices: list[str] | None) -> Pipeline:
    """t2i-draft, copied, whose aspect_ratio input lists ``choices`` (None: any ratio)."""
    source = get_pipeline("t2i-draft").folder
    folder = tmp_path / "t2i-draft"
    shutil.copytree(source, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    [spec] = [spec for spec in manifest["inputs"] if spec["name"] == "aspect_ratio"]
    if choices is None:
        spec.pop("choices")
    else:
        spec["choices"] = choices
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return load_pipeline(folder)


SHOT_INPUTS = resolve_shot(graph_with(), "s")


@pytest.mark.parametrize("ratio", ASPECT_RATIO_CHOICES)
def test_every_ratio_the_dialog_offers_reaches_the_draft_pipeline(ratio: str):
    values = pipeline_inputs(get_pipeline("t2i-draft"), SHOT_INPUTS, seed=1, aspect_ratio=ratio)
    assert values["aspect_ratio"] == ratio


def test_a_ratio_the_pipeline_does_not_list_is_refused_naming_what_it_supports(tmp_path: Path):
    landscape = pipeline_with_ratios(tmp_path, ["16:9", "4:3", "2.39:1"])
    with pytest.raises(
        InvalidInput,
        match=r"pipeline 't2i-draft' cannot make the project's aspect ratio 9:16: it supports "
        r"16:9, 4:3, 2\.39:1; change the project's aspect ratio or choose another pipeline",
    ) as refused:
        pipeline_inputs(landscape, SHOT_INPUTS, seed=1, aspect_ratio="9:16")
    assert "update_settings(aspect_ratio=" in (refused.value.hint or "")
    # The same ratio spelt another way is the pipeline's own choice, not a refusal.
    for spelt, chosen in (("32:18", "16:9"), ("239:100", "2.39:1"), ("4:3", "4:3")):
        values = pipeline_inputs(landscape, SHOT_INPUTS, seed=1, aspect_ratio=spelt)
        assert values["aspect_ratio"] == chosen


def test_a_pipeline_without_ratio_choices_takes_any_and_one_without_the_input_none(
    tmp_path: Path,
):
    free = pipeline_with_ratios(tmp_path, None)
    assert pipeline_inputs(free, SHOT_INPUTS, seed=1, aspect_ratio="5:2")["aspect_ratio"] == "5:2"
    i2v = get_pipeline("i2v-draft")  # follows its image's shape: it has no aspect_ratio input
    assert "aspect_ratio" not in pipeline_inputs(i2v, SHOT_INPUTS, seed=1, aspect_ratio="5:2")


def test_overrides_replace_the_prompt_and_set_inputs_the_node_does_not():
    t2i = get_pipeline("t2i-draft")
    fed = graph_with(("Text", {"text": "from the text node"}, "prompt"))
    overrides = Overrides(prompt="a sweep's prompt", inputs={"width": 256, "shot_label": "X"})
    shot = overrides.apply(resolve_shot(fed, "s"))
    assert shot.prompt == "a sweep's prompt"  # over a connected text node's too
    values = pipeline_inputs(t2i, shot, seed=5, aspect_ratio="1:1", overrides=overrides)
    assert values == {"prompt": "a sweep's prompt", "seed": 5, "shot_label": "X",
                      "aspect_ratio": "1:1", "width": 256}  # fmt: skip
    assert Overrides(seed=3).apply(shot) is shot  # the seed is the engine's to pass


def test_override_problems_name_the_input_and_what_is_wrong():
    t2i = get_pipeline("t2i-draft").manifest
    assert override_problems(t2i, {"width": 512, "aspect_ratio": "4:3"}) == []
    problems = override_problems(t2i, {"steps": 4, "width": 8, "prompt": "x", "seed": 1})
    assert problems[0] == (
        "pipeline 't2i-draft' has no input 'steps' "
        "(its inputs: prompt, seed, shot_label, aspect_ratio, width)"
    )
    assert problems[1] == "width must be at least 64, not 8"
    assert "'prompt' is overridden by its own argument" in problems[2]
    assert "'seed' is overridden by its own argument" in problems[3]
    i2v = get_pipeline("i2v-draft").manifest
    assert "is a file input" in override_problems(i2v, {"image": "a.png"})[0]
