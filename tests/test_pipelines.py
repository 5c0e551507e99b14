"""Manifests, input validation, the pipeline registry, node types and scaffolding."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from studio.errors import ManifestError, StudioError
from studio.graph.registry import NodeTypeRegistry
from studio.graph.sockets import SocketType
from studio.pipelines import (
    InputInvalid,
    Manifest,
    PipelineNotFound,
    PipelineRef,
    builtin_pipelines_dir,
    cell_problem,
    discover,
    get_pipeline,
    load_pipeline,
    node_type_for,
    parse_cli_inputs,
    quality_map_problems,
    register_node_types,
    scaffold,
    validate_inputs,
)
from studio.quality import DEFAULT_QUALITY_MAP, PipelineChoice, QualityMap

DRAFTS = {"t2i-draft", "i2v-draft", "sr-lanczos", "restore-ffmpeg"}
MODELS = {  # PRD Table 4 and Table 3's video generators, real diffusers pipelines
    "t2i-sd1.5", "t2i-flux-schnell", "t2i-flux-dev-fp16", "t2v-wan2.1-1.3b", "t2v-wan2.1",
    "i2v-ltx", "t2v-ltx-13b",
}  # fmt: skip
BUILTINS = DRAFTS | MODELS


def test_builtin_pipelines_are_complete_folders():
    found = discover([builtin_pipelines_dir()])
    assert set(found) == BUILTINS
    for pipeline in found.values():
        assert pipeline.manifest.draft == (pipeline.id in DRAFTS)
        assert bool(pipeline.manifest.models) == (pipeline.id in MODELS)  # weights: the store's
        dockerfile = (pipeline.folder / "Dockerfile").read_text()
        assert "ARG BASE_IMAGE" in dockerfile and "FROM ${BASE_IMAGE}" in dockerfile
        assert pipeline.entrypoint.is_file()
        assert "serve(predict" in pipeline.entrypoint.read_text()


def test_node_type_from_manifest():
    manifest = get_pipeline("sr-lanczos").manifest
    node = node_type_for(manifest)
    assert node.name == "pipeline.sr-lanczos" and node.pipeline_id == "sr-lanczos"
    assert node.ui.draft and node.ui.category == "Pipelines" and node.ui.component == "generic"
    assert "draft" in node.label
    media = node.input("media")
    assert media is not None and media.types == (SocketType.IMAGE, SocketType.VIDEO)
    assert media.required
    assert node.output("result") is not None
    scale = node.field("scale")
    assert scale is not None and scale.kind == "slider" and scale.default == 2.0
    assert (scale.minimum, scale.maximum) == (1.0, 8.0)


def test_node_type_fields_follow_input_kinds():
    node = node_type_for(get_pipeline("t2i-draft").manifest)
    kinds = {f.name: f.kind for f in node.fields}
    assert kinds == {
        "prompt": "textarea",
        "seed": "integer",
        "shot_label": "text",
        "aspect_ratio": "choice",
        "width": "integer",
    }
    assert [s.name for s in node.inputs] == [
        "prompt",
        "seed",
        "shot_label",
        "aspect_ratio",
        "width",
    ]


def test_register_node_types_in_a_registry():
    target = NodeTypeRegistry()
    changes = []
    target.subscribe(lambda: changes.append(1))
    registered = register_node_types(target, dirs=[builtin_pipelines_dir()])
    assert {t.name for t in registered} == {f"pipeline.{p}" for p in BUILTINS}
    assert set(target.names()) >= {f"pipeline.{p}" for p in BUILTINS}
    register_node_types(target, dirs=[builtin_pipelines_dir()])  # idempotent (replace)
    assert len(changes) == len(BUILTINS)


def manifest(**inputs) -> Manifest:
    return Manifest.model_validate(
        {
            "id": "m",
            "title": "M",
            "task": "upscale",
            "inputs": [{"name": n, **spec} for n, spec in inputs.items()],
            "outputs": [{"name": "out", "type": "Image"}],
        }
    )


def test_validate_inputs_fills_defaults_and_reports_every_problem(tmp_path: Path):
    m = manifest(
        n={"type": "Integer", "default": 2, "minimum": 1, "maximum": 4},
        x={"type": "Float", "minimum": 0, "maximum": 1, "default": 0.5},
        mode={"type": "String", "choices": ["a", "b"], "default": "a"},
        on={"type": "Boolean", "default": False},
        img={"type": ["Image", "Video"], "required": True},
    )
    (tmp_path / "a.png").write_bytes(b"png")
    assert validate_inputs(m, {"img": "a.png"}, files_root=tmp_path) == {
        "n": 2, "x": 0.5, "mode": "a", "on": False, "img": "a.png",
    }  # fmt: skip
    with pytest.raises(InputInvalid) as caught:
        validate_inputs(
            m,
            {"n": 9, "x": "high", "mode": "c", "on": 1, "img": "a.txt", "zzz": 1},
            files_root=tmp_path,
        )
    problems = " | ".join(caught.value.problems)
    for expected in [
        "unknown input 'zzz'",
        "n: must be at most 4",
        "x: expects a number",
        "mode: must be one of a, b",
        "on: expects true or false",
        "img: expects Image or Video",
    ]:
        assert expected in problems
    with pytest.raises(InputInvalid, match="img: required"):
        validate_inputs(m, {}, files_root=tmp_path)
    with pytest.raises(InputInvalid, match="does not exist"):
        validate_inputs(m, {"img": "b.png"}, files_root=tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(InputInvalid, match="is empty"):
        validate_inputs(m, {"img": "empty.png"}, files_root=tmp_path)


def test_integer_inputs_past_2_53_are_refused(tmp_path: Path):
    # an input without a maximum: the number would reach the sidecar and the canvas, where a
    # browser rounds it (seeds are bounded long before: 2^31 - 1 in the built-in pipelines)
    m = manifest(steps={"type": "Integer", "default": 4, "minimum": 1})
    assert validate_inputs(m, {"steps": 2**53 - 1}, files_root=tmp_path) == {"steps": 2**53 - 1}
    with pytest.raises(InputInvalid, match=r"steps: the integer 9007199254740993 is beyond"):
        validate_inputs(m, {"steps": 2**53 + 1}, files_root=tmp_path)


def test_manifest_rejects_inconsistent_specs():
    with pytest.raises(ValueError, match="default"):
        manifest(n={"type": "Integer", "default": 10, "maximum": 4})
    with pytest.raises(ValueError, match="exactly one type"):
        manifest(n={"type": ["Integer", "Float"]})
    with pytest.raises(ValueError, match="duplicate"):
        Manifest.model_validate(
            {"id": "m", "title": "M", "task": "upscale",
             "outputs": [{"name": "o", "type": "Image"}, {"name": "o", "type": "Video"}]}
        )  # fmt: skip


def test_parse_cli_inputs():
    m = get_pipeline("t2i-draft").manifest
    assert parse_cli_inputs(m, ["prompt=a = b", "seed=7", "width=640"]) == {
        "prompt": "a = b", "seed": 7, "width": 640,
    }  # fmt: skip
    with pytest.raises(InputInvalid, match="unknown input 'colour'"):
        parse_cli_inputs(m, ["colour=red"])
    with pytest.raises(InputInvalid, match="seed: expects a whole number"):
        validate_inputs(m, parse_cli_inputs(m, ["prompt=x", "seed=seven"]))


def test_resources_fall_back_to_the_nearest_lower_quality():
    m = get_pipeline("i2v-draft").manifest  # defines low and high
    assert m.resources_for("standard") == m.resources["low"]
    assert m.resources_for("high") == m.resources["high"]


def test_bad_manifest_names_file_and_field(tmp_path: Path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"id": "bad", "title": "B", "task": "paint"}))
    with pytest.raises(ManifestError) as caught:
        load_pipeline(folder)
    assert caught.value.field == "task"


def test_scaffold_creates_a_loadable_pipeline(tmp_path: Path):
    folder = scaffold("my-model", parent=tmp_path)
    pipeline = load_pipeline(folder)
    assert pipeline.id == "my-model"
    assert {p.name for p in folder.iterdir()} >= {"manifest.json", "Dockerfile", "entrypoint.py"}
    with pytest.raises(StudioError, match="already exists"):
        scaffold("my-model", parent=tmp_path)
    with pytest.raises(StudioError, match="not a valid pipeline id"):
        scaffold("My Model", parent=tmp_path)


# --- references: ``id`` or ``id:tag`` (the tag is the image tag = the manifest version) --------


def test_a_reference_is_an_id_with_an_optional_tag():
    assert PipelineRef.parse("t2i-draft") == PipelineRef("t2i-draft", "latest")
    assert PipelineRef.parse(" t2i-sd1.5:latest ") == PipelineRef("t2i-sd1.5", "latest")
    assert PipelineRef.parse("t2i-draft:0.1.0") == PipelineRef("t2i-draft", "0.1.0")
    assert str(PipelineRef.parse("t2i-draft:latest")) == "t2i-draft"
    assert str(PipelineRef.parse("t2i-draft:0.1.0")) == "t2i-draft:0.1.0"
    for bad in ("", "T2I", "a b", "x:", "x:y:z", "x:-1", ":0.1.0"):
        with pytest.raises(PipelineNotFound, match="is not a pipeline reference"):
            PipelineRef.parse(bad)


def test_latest_means_the_installed_version_and_a_tag_pins_it():
    draft = get_pipeline("t2i-draft")
    assert draft.manifest.ref == "t2i-draft:0.1.0"
    assert draft.manifest.image_name.endswith(":0.1.0")  # the tag of a reference is the image's
    assert get_pipeline("t2i-draft:latest") == draft == get_pipeline("t2i-draft:0.1.0")
    with pytest.raises(PipelineNotFound) as caught:
        get_pipeline("t2i-draft:0.2.0")
    assert caught.value.message == "no pipeline t2i-draft:0.2.0, but t2i-draft 0.1.0 is installed"
    with pytest.raises(PipelineNotFound, match=re.escape("t2i-sd2, which is not installed")):
        get_pipeline("t2i-sd2:latest")


def test_every_cell_of_table_4_names_a_reference_and_is_checked_against_what_is_installed():
    installed = discover()
    assert quality_map_problems(DEFAULT_QUALITY_MAP, installed=installed) == []
    without_models = {k: v for k, v in installed.items() if k in DRAFTS}
    assert quality_map_problems(DEFAULT_QUALITY_MAP, installed=without_models) == [
        f"quality map: {task}/{quality} names {PipelineRef.parse(cell.pipeline)}, which is not "
        "installed — install it or override the cell in workspace.json"
        for task, cells in DEFAULT_QUALITY_MAP.items()
        for quality, cell in cells.items()
    ]
    assert cell_problem("generate-image", "low", "t2i-draft:latest", installed=installed) is None
    assert "not a pipeline reference" in (
        cell_problem("generate-image", "low", "Bad Name", installed=installed) or ""
    )
    overridden: QualityMap = {
        "generate-image": {"low": PipelineChoice(pipeline="t2i-draft", min_vram_gb=0)}
    }
    assert quality_map_problems(overridden, installed=installed) == []


def test_every_palette_entry_adds_a_node_that_runs_or_feeds_something() -> None:
    from studio.graph.builtin_types import BUILTIN_TYPES, SHOT, VSE_ASSEMBLER
    from studio.graph.sockets import sockets_compatible
    from studio.pipelines import register_node_types

    target = NodeTypeRegistry()
    for node_type in BUILTIN_TYPES:
        target.register(node_type)
    register_node_types(target)
    types = [target.get(name) for name in target.names()]
    inputs = [socket.types for t in types for socket in t.inputs]
    added = {}
    for entry in types:
        preset = entry.ui.preset
        made = target.get(preset.node_type) if preset else entry
        for name, value in (preset.data if preset else {}).items():
            spec = made.field(name)
            assert spec is not None and spec.check(value) == value
        added[entry.name] = (made.name, dict(preset.data) if preset else {})
        runs = made.name in (SHOT, VSE_ASSEMBLER)
        feeds = any(sockets_compatible(o.types, i) for o in made.outputs for i in inputs)
        assert made.pipeline_id is None and (runs or feeds), entry.name
    assert added["pipeline.t2i-draft"] == ("Pipeline", {"pipeline_id": "t2i-draft"})
    assert added["pipeline.i2v-draft"] == ("Pipeline", {"pipeline_id": "i2v-draft"})
    assert added["pipeline.sr-lanczos"] == ("SuperResolution", {})
    assert added["pipeline.restore-ffmpeg"] == ("VideoRestoration", {})


def test_a_manifest_names_its_models_by_store_id():
    base = {"id": "m", "title": "M", "task": "generate-image",
            "outputs": [{"name": "o", "type": "Image"}]}  # fmt: skip
    assert Manifest.model_validate(base).models == ()
    named = Manifest.model_validate({**base, "models": ["flux1-schnell", "t5-xxl"]})
    assert named.models == ("flux1-schnell", "t5-xxl")
    for bad in (["../x"], ["a/b"], ["org:name"], ["a..b"], ["m", "m"]):
        with pytest.raises(ValueError, match="models"):
            Manifest.model_validate({**base, "models": bad})
