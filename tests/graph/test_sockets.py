from studio.graph.sockets import SocketType as T
from studio.graph.sockets import can_feed, compatibility_table, sockets_compatible


def test_the_prd_types_are_all_there() -> None:
    assert {t.value for t in T} == {
        "String", "Integer", "Float", "Boolean", "Image", "Video", "Audio", "AssetReference",
        "ControlMap", "Mask", "PipelineReference", "EDL",
    }  # fmt: skip


def test_compatibility_rules() -> None:
    for t in T:
        assert can_feed(t, t)
    assert can_feed(T.MASK, T.IMAGE)
    assert can_feed(T.CONTROL_MAP, T.IMAGE)
    assert can_feed(T.INTEGER, T.FLOAT)
    assert not can_feed(T.IMAGE, T.VIDEO)
    assert not can_feed(T.VIDEO, T.IMAGE)
    assert not can_feed(T.IMAGE, T.MASK)  # widening only, never narrowing
    assert not can_feed(T.FLOAT, T.INTEGER)
    assert not can_feed(T.STRING, T.EDL)


def test_multi_type_sockets() -> None:
    assert sockets_compatible((T.VIDEO, T.IMAGE), (T.IMAGE,))
    assert sockets_compatible((T.MASK,), (T.IMAGE, T.VIDEO))
    assert not sockets_compatible((T.VIDEO, T.IMAGE), (T.STRING, T.AUDIO))


def test_table_for_the_widget_matches_can_feed() -> None:
    table = compatibility_table()
    for source in T:
        for target in T:
            assert (target.value in table[source.value]) == can_feed(source, target)
