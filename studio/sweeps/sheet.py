"""A sweep's contact sheet: its grid as one labelled image, like an X/Y plot, for sharing.

:func:`sheet_plan` places everything (pure: boxes and texts from a :class:`GridLayout`);
:func:`draw_sheet` paints a plan with Pillow in memory (thumbnails in their tiles, a cell
without a take as a labelled blank). Reading thumbnails and writing the PNG are the
caller's (:meth:`studio.sweeps.sweep.Sweep.contact_sheet`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, ImageDraw, ImageFont

from studio.sweeps.grid import GridLayout

TILE: Final = 256
"""A tile's side: the size of the project's thumbnails (``THUMBNAIL_PX``)."""
MARGIN: Final = 24
GAP: Final = 8
TITLE_HEIGHT: Final = 64
FACET_TITLE_HEIGHT: Final = 40
COLUMN_HEADER_HEIGHT: Final = 40
ROW_HEADER_WIDTH: Final = 220
TITLE_SIZE: Final = 22
LABEL_SIZE: Final = 17
BLANK_SIZE: Final = 15
BACKGROUND: Final = (255, 255, 255)
INK: Final = (28, 28, 32)
FAINT: Final = (110, 110, 120)
BLANK: Final = (236, 236, 240)
FAILED: Final = (190, 40, 40)


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Label:
    box: Box
    text: str
    size: int
    bold: bool = False
    align: str = "center"
    """``center`` or ``left`` in its box (always centred vertically)."""


@dataclass(frozen=True)
class Tile:
    box: Box
    cell: int


@dataclass(frozen=True)
class SheetPlan:
    width: int
    height: int
    labels: tuple[Label, ...]
    tiles: tuple[Tile, ...]


@dataclass(frozen=True)
class Blank:
    """What a cell without a picture says: ``failed`` (red, with its error), ``queued``..."""

    status: str
    detail: str = ""


def sheet_plan(layout: GridLayout, *, title: str, tile: int = TILE) -> SheetPlan:
    """Where the title, each facet's title, the column and row headers and every tile go."""
    labels: list[Label] = []
    tiles: list[Tile] = []
    widths = [ROW_HEADER_WIDTH + GAP + facet.columns * (tile + GAP) - GAP
              for facet in layout.facets]  # fmt: skip
    width = 2 * MARGIN + max(widths, default=tile)
    labels.append(Label(Box(MARGIN, MARGIN, width - 2 * MARGIN, TITLE_HEIGHT), title,
                        TITLE_SIZE, bold=True, align="left"))  # fmt: skip
    y = MARGIN + TITLE_HEIGHT
    for facet in layout.facets:
        if facet.title:
            labels.append(Label(Box(MARGIN, y, width - 2 * MARGIN, FACET_TITLE_HEIGHT),
                                facet.title, LABEL_SIZE, bold=True, align="left"))  # fmt: skip
            y += FACET_TITLE_HEIGHT
        left = MARGIN + ROW_HEADER_WIDTH + GAP
        if facet.row_axis:  # the corner names both axes
            corner = f"{facet.row_axis} ↓  {facet.column_axis} →"
            labels.append(Label(Box(MARGIN, y, ROW_HEADER_WIDTH, COLUMN_HEADER_HEIGHT), corner,
                                BLANK_SIZE, align="left"))  # fmt: skip
        for c, text in enumerate(facet.column_labels):
            box = Box(left + c * (tile + GAP), y, tile, COLUMN_HEADER_HEIGHT)
            labels.append(Label(box, text, LABEL_SIZE, bold=True))
        y += COLUMN_HEADER_HEIGHT
        for r, row in enumerate(facet.cells):
            # One row: its header names the axis (or the zipped axes) along it.
            header = facet.row_labels[r] if facet.row_axis else f"{facet.column_axis} →"
            labels.append(Label(Box(MARGIN, y, ROW_HEADER_WIDTH, tile), header, LABEL_SIZE,
                                bold=True))  # fmt: skip
            for c, cell in enumerate(row):
                tiles.append(Tile(Box(left + c * (tile + GAP), y, tile, tile), cell))
            y += tile + GAP
        y += GAP
    return SheetPlan(width, y + MARGIN - GAP, tuple(labels), tuple(tiles))


@dataclass(frozen=True)
class Fonts:
    regular: Path
    bold: Path


def _fitted(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """``text`` cut (with an ellipsis) to fit ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrapped(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int, lines: int
) -> list[str]:
    """``text`` in at most ``lines`` lines of ``width`` pixels (the last one cut)."""
    out: list[str] = []
    words = text.split()
    while words and len(out) < lines:
        line = words.pop(0)
        while words and draw.textlength(f"{line} {words[0]}", font=font) <= width:
            line = f"{line} {words.pop(0)}"
        out.append(line)
    if words:
        out[-1] = _fitted(draw, f"{out[-1]} {' '.join(words)}", font, width)
    return [_fitted(draw, line, font, width) for line in out]


def _label(draw: ImageDraw.ImageDraw, label: Label, fonts: Fonts) -> None:
    if not label.text:
        return
    font = ImageFont.truetype(str(fonts.bold if label.bold else fonts.regular), label.size)
    box = label.box
    lines = _wrapped(draw, label.text, font, box.width - 8, max(1, box.height // (label.size + 6)))
    line_height = label.size + 5
    top = box.y + (box.height - line_height * len(lines)) // 2
    for i, line in enumerate(lines):
        x = box.x + 4 if label.align == "left" else (
            box.x + (box.width - int(draw.textlength(line, font=font))) // 2)  # fmt: skip
        draw.text((x, top + i * line_height), line, fill=INK, font=font)


def _blank(draw: ImageDraw.ImageDraw, box: Box, blank: Blank, fonts: Fonts) -> None:
    draw.rectangle((box.x, box.y, box.x + box.width - 1, box.y + box.height - 1), fill=BLANK)
    bold = ImageFont.truetype(str(fonts.bold), LABEL_SIZE)
    small = ImageFont.truetype(str(fonts.regular), BLANK_SIZE)
    colour = FAILED if blank.status == "failed" else FAINT
    status = _fitted(draw, blank.status, bold, box.width - 16)
    middle = box.y + box.height // 2
    draw.text((box.x + (box.width - int(draw.textlength(status, font=bold))) // 2, middle - 24),
              status, fill=colour, font=bold)  # fmt: skip
    for i, line in enumerate(_wrapped(draw, blank.detail, small, box.width - 16, 4)):
        x = box.x + (box.width - int(draw.textlength(line, font=small))) // 2
        draw.text((x, middle + 4 + i * (BLANK_SIZE + 4)), line, fill=FAINT, font=small)


def draw_sheet(
    plan: SheetPlan, pictures: Mapping[int, Image.Image | Blank], *, fonts: Fonts
) -> Image.Image:
    """The sheet: each tile's picture fitted and centred in its box, a :class:`Blank` (or a
    cell missing from ``pictures``: "not made") as a grey tile saying why."""
    sheet = Image.new("RGB", (plan.width, plan.height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for label in plan.labels:
        _label(draw, label, fonts)
    for tile in plan.tiles:
        picture = pictures.get(tile.cell, Blank("not made"))
        if isinstance(picture, Blank):
            _blank(draw, tile.box, picture, fonts)
            continue
        fitted = picture.convert("RGB")
        fitted.thumbnail((tile.box.width, tile.box.height))
        x = tile.box.x + (tile.box.width - fitted.width) // 2
        y = tile.box.y + (tile.box.height - fitted.height) // 2
        sheet.paste(fitted, (x, y))
    return sheet


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
