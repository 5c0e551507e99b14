"""The contact sheet: its plan (pure) and its pixels (labels drawn, blanks labelled)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from studio import Project
from studio.sweeps.cells import Axis
from studio.sweeps.grid import grid_layout
from studio.sweeps.sheet import (
    BACKGROUND,
    BLANK,
    COLUMN_HEADER_HEIGHT,
    GAP,
    MARGIN,
    ROW_HEADER_WIDTH,
    TILE,
    TITLE_HEIGHT,
    Blank,
    Box,
    draw_sheet,
    sheet_plan,
)
from studio.sweeps.sweep import sheet_fonts
from tests.conftest import git_out
from tests.sweeps.made import made_sweep, picture

AXES = [Axis("prompt", ("dawn market", "night market")), Axis("width", (64, 128, 256))]


def region(image: Image.Image, box: Box) -> Image.Image:
    return image.crop((box.x, box.y, box.x + box.width, box.y + box.height))


def colours(image: Image.Image) -> set[tuple[int, int, int]]:
    found = image.getcolors(maxcolors=1 << 20)
    assert found is not None
    return {colour for _, colour in found}  # type: ignore[misc]  # RGB: 3-tuples


def test_the_plan_is_title_headers_and_a_tile_per_cell():
    plan = sheet_plan(grid_layout(AXES, "product"), title="SHOT-010 · sweep x")
    assert plan.width == 2 * MARGIN + ROW_HEADER_WIDTH + GAP + 3 * (TILE + GAP) - GAP
    assert plan.height == 2 * MARGIN + TITLE_HEIGHT + COLUMN_HEADER_HEIGHT + 2 * (TILE + GAP)
    texts = [label.text for label in plan.labels]
    assert texts[0] == "SHOT-010 · sweep x"
    assert {"64", "128", "256", "dawn market", "night market", "prompt ↓  width →"} <= set(texts)
    assert [tile.cell for tile in plan.tiles] == [0, 1, 2, 3, 4, 5]
    boxes = [tile.box for tile in plan.tiles]
    assert len({(b.x, b.y) for b in boxes}) == 6  # none on another
    assert all(b.x + b.width <= plan.width and b.y + b.height <= plan.height for b in boxes)


def test_facets_each_get_a_title_and_their_own_grid():
    axes = [*AXES, Axis("seed", (1, 2))]
    plan = sheet_plan(grid_layout(axes, "product"), title="t")
    assert [label.text for label in plan.labels if label.text.startswith("seed:")] == [
        "seed: 1", "seed: 2"]  # fmt: skip
    assert sorted(tile.cell for tile in plan.tiles) == list(range(12))


def test_a_zip_sheet_is_one_strip_named_by_its_axes():
    plan = sheet_plan(grid_layout([*AXES[:1], Axis("seed", (3, 4))], "zip"), title="t")
    texts = [label.text for label in plan.labels]
    assert "prompt · seed →" in texts and "dawn market · 3" in texts
    assert len({tile.box.y for tile in plan.tiles}) == 1


def test_the_sheet_draws_pictures_labels_and_labelled_blanks():
    plan = sheet_plan(grid_layout(AXES, "product"), title="SHOT-010 · sweep x")
    red = Image.new("RGB", (320, 180), (220, 20, 20))
    pictures: dict[int, Image.Image | Blank] = {0: red, 1: red, 2: red, 3: red,
                                                4: Blank("failed", "out of VRAM")}  # fmt: skip
    sheet = draw_sheet(plan, pictures, fonts=sheet_fonts())
    assert sheet.size == (plan.width, plan.height)
    for label in plan.labels:  # every header has ink on it
        if label.text:
            assert colours(region(sheet, label.box)) != {BACKGROUND}, label.text
    tiles = {tile.cell: tile.box for tile in plan.tiles}
    assert (220, 20, 20) in colours(region(sheet, tiles[0]))  # the picture, fitted in
    for blank in (4, 5):  # failed, and missing from the pictures: "not made"
        shown = colours(region(sheet, tiles[blank]))
        assert BLANK in shown and len(shown) > 2, blank  # a grey tile with its words
        assert (220, 20, 20) not in shown
    failed = region(sheet, tiles[4])
    assert any(r > 150 and g < 90 for r, g, _ in colours(failed))  # "failed" in red


def test_a_sweeps_contact_sheet_is_written_to_the_exports(project: Project, tmp_path: Path):
    sweep = made_sweep(project, {"prompt": ["dawn", "dusk"], "width": [64, 128]}, failed={3})
    path = sweep.contact_sheet()
    assert path == project.path / "06_Exports" / f"SHOT-010_sweep_{sweep.id}.png"
    assert sorted(p.name for p in path.parent.iterdir()) == [".gitkeep", path.name]  # no temp file
    plan = sheet_plan(sweep.layout(), title=sweep.title)
    tiles = {tile.cell: tile.box for tile in plan.tiles}
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (plan.width, plan.height)
        sheet = image.convert("RGB")
    with Image.open(io.BytesIO(picture(0))) as first:
        assert first.convert("RGB").getpixel((0, 0)) in colours(region(sheet, tiles[0]))
    assert BLANK in colours(region(sheet, tiles[3]))  # the failed cell, a labelled blank
    assert "06_Exports" not in git_out(project.path, "status", "--porcelain")  # git-ignored
    elsewhere = sweep.contact_sheet(tmp_path / "sheet.png")
    assert elsewhere == tmp_path / "sheet.png" and elsewhere.read_bytes() == path.read_bytes()
