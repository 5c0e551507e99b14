import pytest

from studio.errors import StudioError
from studio.graph.registry import (
    FieldSpec,
    NodeType,
    NodeTypeRegistry,
    SocketSpec,
    UnknownNodeType,
    registry,
)
from studio.graph.sockets import SocketType as T

TABLE_2 = {
    "Shot": ({"pipeline", "prompt", "character", "style", "image", "control", "audio"}, {"output"}),
    "Asset": (set(), {"asset"}),
    "Pipeline": (set(), {"pipeline"}),
    "SceneGroup": (set(), {"shots"}),  # Table 2: "(Varies)"; its shots, for an Assembler
    "MotionSource": ({"source_video"}, {"motion"}),
    "Audio": ({"source_audio", "text"}, {"audio"}),
    "SuperResolution": ({"input"}, {"output"}),
    "VideoRestoration": ({"input"}, {"output"}),
    "VSEAssembler": ({"sequence", "clips", "music"}, {"final"}),
    "EDL": (set(), {"edl"}),  # what feeds the Assembler's Sequence in (EDL)
}


def test_table_2_types_are_registered_with_their_sockets() -> None:
    for name, (inputs, outputs) in TABLE_2.items():
        node_type = registry.get(name)
        assert {s.name for s in node_type.inputs} == inputs, name
        assert {s.name for s in node_type.outputs} == outputs, name
    shot = registry.get("Shot")
    assert shot.input("pipeline").types == (T.PIPELINE_REFERENCE,)  # type: ignore[union-attr]
    assert shot.input("character").types == (T.ASSET_REFERENCE,)  # type: ignore[union-attr]
    assert set(shot.output("output").types) == {T.VIDEO, T.IMAGE}  # type: ignore[union-attr]
    assert registry.get("VideoRestoration").input("input").types == (T.VIDEO,)  # type: ignore[union-attr]
    assert registry.get("VSEAssembler").input("sequence").types == (T.EDL,)  # type: ignore[union-attr]
    assert registry.get("MotionSource").output("motion").types == (T.CONTROL_MAP,)  # type: ignore[union-attr]


def test_runtime_registration_notifies_and_serializes() -> None:
    local = NodeTypeRegistry()
    calls: list[int] = []
    unsubscribe = local.subscribe(lambda: calls.append(1))
    custom = NodeType(
        name="pipeline.depth",
        label="Depth",
        inputs=(SocketSpec(name="image", label="Image", types=(T.IMAGE,)),),
        outputs=(SocketSpec(name="depth", label="Depth", types=(T.CONTROL_MAP,)),),
        fields=(FieldSpec(name="steps", label="Steps", kind="integer", default=4, minimum=1),),
        pipeline_id="depth",
    )
    local.register(custom)
    local.register(custom)  # identical: no change, no notification
    assert calls == [1]
    with pytest.raises(StudioError, match="already registered"):
        local.register(custom.model_copy(update={"label": "Other"}))
    local.register(custom.model_copy(update={"label": "Other"}), replace=True)
    assert calls == [1, 1]
    payload = local.as_json()
    assert payload["node_types"][0]["name"] == "pipeline.depth"
    assert payload["socket_colors"]["Image"].startswith("#")
    unsubscribe()
    local.unregister("pipeline.depth")
    assert calls == [1, 1]
    with pytest.raises(UnknownNodeType, match=r"unknown node type 'pipeline\.depth'"):
        local.get("pipeline.depth")


def test_field_checks() -> None:
    seed = FieldSpec(name="seed", label="Seed", kind="integer", minimum=0, maximum=10)
    assert seed.check(3) == 3
    assert seed.check(None) is None
    for bad in (-1, 11, 2.5, "3", True):
        with pytest.raises(ValueError):
            seed.check(bad)
    choice = FieldSpec(name="ar", label="AR", kind="choice", choices=("16:9", "1:1"))
    assert choice.check("1:1") == "1:1"
    with pytest.raises(ValueError, match="one of"):
        choice.check("4:3")
    with pytest.raises(ValueError):
        FieldSpec(name="flag", label="F", kind="boolean").check("yes")


def test_structured_fields_an_order_and_per_node_settings() -> None:
    order = FieldSpec(name="order", label="Order", kind="order")
    assert order.check(("b", "a")) == ["b", "a"]
    for bad, match in ((["a", "a"], "twice"), ([1], "list of node ids"), ("a", "list")):
        with pytest.raises(ValueError, match=match):
            order.check(bad)
    settings = FieldSpec(name="clip_settings", label="Clips", kind="settings")
    assert settings.check({"a": {"trim_in": 4}}) == {"a": {"trim_in": 4}}
    wrongs: list[object] = [{"a": 4}, [("a", {})], {1: {}}]
    for wrong in wrongs:
        with pytest.raises(ValueError, match="node id"):
            settings.check(wrong)


def test_integer_fields_refuse_what_a_browser_would_round() -> None:
    steps = FieldSpec(name="steps", label="Steps", kind="integer", minimum=1)  # no maximum
    assert steps.check(2**53 - 1) == 2**53 - 1
    for bad in (2**53, 10**20):
        with pytest.raises(ValueError, match="browser would silently round"):
            steps.check(bad)
    strength = FieldSpec(name="s", label="S", kind="float")
    with pytest.raises(ValueError, match="2\\^53"):
        strength.check(-(2**60))
    assert strength.check(1e20) == 1e20  # a float is read as a float everywhere


def test_duplicate_socket_names_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate input"):
        NodeType(
            name="Bad",
            label="Bad",
            inputs=(
                SocketSpec(name="a", label="A", types=(T.IMAGE,)),
                SocketSpec(name="a", label="A", types=(T.VIDEO,)),
            ),
        )
