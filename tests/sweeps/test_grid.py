"""Where a sweep's cells go in its grid: rows x columns, one row, facets, a zip strip."""

from __future__ import annotations

from studio.sweeps.cells import Axis, expand
from studio.sweeps.grid import axis_label, cell_label, cell_values, grid_layout, value_label


def values_at(axes: list[Axis], index: int) -> dict[str, object]:
    return dict(expand(axes, "product")[index].values)


def test_two_axes_are_rows_by_columns_first_axis_down():
    axes = [Axis("prompt", ("dawn", "dusk")), Axis("seed", (1, 2, 3))]
    (facet,) = grid_layout(axes, "product").facets
    assert (facet.row_axis, facet.column_axis, facet.title) == ("prompt", "seed", "")
    assert facet.row_labels == ("dawn", "dusk") and facet.column_labels == ("1", "2", "3")
    for r, row in enumerate(facet.cells):
        for c, index in enumerate(row):
            assert values_at(axes, index) == {
                "prompt": axes[0].values[r],
                "seed": axes[1].values[c],
            }


def test_one_axis_is_one_row():
    layout = grid_layout([Axis("seed", (5, 6, 7, 8))], "product")
    (facet,) = layout.facets
    assert facet.row_axis is None and facet.column_axis == "seed"
    assert facet.cells == ((0, 1, 2, 3),) and facet.column_labels == ("5", "6", "7", "8")


def test_further_axes_make_a_facet_per_combination_headed_by_their_values():
    axes = [Axis("prompt", ("a", "b")), Axis("seed", (1, 2)), Axis("steps", (4, 8)),
            Axis("quality", ("draft", "low", "high"))]  # fmt: skip
    layout = grid_layout(axes, "product")
    assert len(layout.facets) == 6 and layout.cell_count == 24
    assert [f.title for f in layout.facets[:4]] == [
        "steps: 4 · quality: draft", "steps: 4 · quality: low", "steps: 4 · quality: high",
        "steps: 8 · quality: draft",
    ]  # fmt: skip
    seen = []
    for facet in layout.facets:
        steps, quality = (part.split(": ")[1] for part in facet.title.split(" · "))
        for r, row in enumerate(facet.cells):
            for c, index in enumerate(row):
                assert values_at(axes, index) == {
                    "prompt": "ab"[r],
                    "seed": c + 1,
                    "steps": int(steps),
                    "quality": quality,
                }
                seen.append(index)
    assert sorted(seen) == list(range(24))  # every cell once


def test_zip_is_one_labelled_strip():
    axes = [Axis("prompt", ("dawn", "dusk", "night")), Axis("seed", (1, 2, 3))]
    (facet,) = grid_layout(axes, "zip").facets
    assert facet.cells == ((0, 1, 2),)
    assert facet.column_axis == "prompt · seed"
    assert facet.column_labels == ("dawn · 1", "dusk · 2", "night · 3")
    assert cell_values(axes, 2, "zip") == ("night", 3)
    assert cell_label(axes, 1, "zip") == "prompt: dusk · seed: 2"


def test_a_value_given_twice_keeps_a_cell_of_its_own():
    axes = [Axis("seed", (1, 1)), Axis("width", (64, 128))]
    (facet,) = grid_layout(axes, "product").facets
    assert facet.cells == ((0, 1), (2, 3)) and facet.row_labels == ("1", "1")


def test_cell_values_follow_expand_for_every_index():
    axes = [Axis("a", (1, 2, 3)), Axis("b", ("x", "y")), Axis("c", (True, False))]
    for cell in expand(axes, "product"):
        assert cell_values(axes, cell.index, "product") == tuple(cell.values.values())


def test_labels_are_one_short_line():
    assert value_label(True) == "on" and value_label(0.50) == "0.5"
    assert value_label("a\n  lantern   lit") == "a lantern lit"
    long = value_label("x" * 100)
    assert len(long) == 60 and long.endswith("…")
    assert axis_label("seed", 3) == "seed: 3"


def test_no_cells_no_facets():
    assert grid_layout([], "product").facets == ()
