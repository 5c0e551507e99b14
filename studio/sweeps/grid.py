"""Where each cell of a sweep goes in its grid (pure: no project, no files, no pixels).

Like an X/Y/Z plot: one axis is one row (a column per value); two axes are rows (the first
axis) by columns (the second); each combination of the further axes is a facet of its own,
a grid headed by those values. A ``zip`` sweep is one labelled strip (its axes move together).
The gallery widget and the contact sheet both draw this layout.

>>> layout = grid_layout([Axis("prompt", ("a", "b")), Axis("seed", (1, 2))], "product")
>>> layout.facets[0].cells
((0, 1), (2, 3))
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Final

from studio.sweeps.cells import Axis, Mode

LABEL_MAX: Final = 60
"""A value's label is cut to this many characters (a long prompt), with an ellipsis."""
JOIN: Final = " · "


def value_label(value: Any, *, limit: int = LABEL_MAX) -> str:
    """A value as a header shows it: a string as it is, ``True``/``False`` as ``on``/``off``,
    a float without trailing zeros; cut to ``limit`` characters."""
    if isinstance(value, bool):
        text = "on" if value else "off"
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    text = " ".join(text.split())  # a prompt's newlines and runs of spaces: one line
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def axis_label(name: str, value: Any, *, limit: int = LABEL_MAX) -> str:
    """``seed: 3``, ``prompt: dawn market``."""
    return f"{name}: {value_label(value, limit=limit)}"


@dataclass(frozen=True)
class Facet:
    """One grid: ``cells[row][column]`` is a cell's index. ``title`` names the values of the
    further axes this grid holds ("" when there are none)."""

    title: str
    row_axis: str | None
    """The axis down the rows (None: a single row)."""
    column_axis: str | None
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    cells: tuple[tuple[int, ...], ...]

    @property
    def rows(self) -> int:
        return len(self.cells)

    @property
    def columns(self) -> int:
        return len(self.cells[0]) if self.cells else 0


@dataclass(frozen=True)
class GridLayout:
    mode: Mode
    facets: tuple[Facet, ...]

    @property
    def cell_count(self) -> int:
        return sum(facet.rows * facet.columns for facet in self.facets)

    def as_json(self) -> dict[str, Any]:
        """For the gallery widget: the facets with their labels and cell indices."""
        return {
            "mode": self.mode,
            "facets": [
                {"title": f.title, "row_axis": f.row_axis, "column_axis": f.column_axis,
                 "row_labels": list(f.row_labels), "column_labels": list(f.column_labels),
                 "cells": [list(row) for row in f.cells]}
                for f in self.facets
            ],
        }  # fmt: skip


def cell_label(axes: list[Axis], index: int, mode: Mode) -> str:
    """Every axis value of cell ``index``: ``prompt: dawn · seed: 3``."""
    return JOIN.join(axis_label(a.name, v) for a, v in zip(axes, cell_values(axes, index, mode),
                                                           strict=True))  # fmt: skip


def cell_values(axes: list[Axis], index: int, mode: Mode) -> tuple[Any, ...]:
    """The axes' values of cell ``index`` in :func:`~studio.sweeps.cells.expand`'s order
    (product: the first axis slowest; zip: the index-th value of each)."""
    if mode == "zip":
        return tuple(axis.values[index] for axis in axes)
    values = []
    for axis in reversed(axes):
        index, position = divmod(index, len(axis.values))
        values.append(axis.values[position])
    return tuple(reversed(values))


def grid_layout(axes: list[Axis], mode: Mode) -> GridLayout:
    """The facets of a sweep over ``axes`` (see the module doc). Cell indices follow
    :func:`~studio.sweeps.cells.expand` (a product's first axis slowest), so a value given
    twice (``seed=[1, 1]``) still has a cell of its own."""
    if not axes or any(not axis.values for axis in axes):
        return GridLayout(mode, ())
    if mode == "zip":
        count = len(axes[0].values)
        name = JOIN.join(axis.name for axis in axes)
        labels = tuple(JOIN.join(value_label(axis.values[i]) for axis in axes)
                       for i in range(count))  # fmt: skip
        return GridLayout(mode, (Facet("", None, name, ("",), labels, (tuple(range(count)),)),))
    sizes = [len(axis.values) for axis in axes]
    strides = [math.prod(sizes[i + 1 :]) for i in range(len(axes))]
    if len(axes) == 1:
        (axis,) = axes
        labels = tuple(value_label(v) for v in axis.values)
        return GridLayout(mode, (Facet("", None, axis.name, ("",), labels,
                                       (tuple(range(sizes[0])),)),))  # fmt: skip
    rows, columns, further = axes[0], axes[1], axes[2:]
    facets = []
    for positions in itertools.product(*(range(len(axis.values)) for axis in further)):
        offset = sum(p * s for p, s in zip(positions, strides[2:], strict=True))
        title = JOIN.join(axis_label(axis.name, axis.values[p])
                          for axis, p in zip(further, positions, strict=True))  # fmt: skip
        cells = tuple(
            tuple(r * strides[0] + c * strides[1] + offset for c in range(sizes[1]))
            for r in range(sizes[0])
        )
        facets.append(Facet(
            title, rows.name, columns.name, tuple(value_label(v) for v in rows.values),
            tuple(value_label(v) for v in columns.values), cells,
        ))  # fmt: skip
    return GridLayout(mode, tuple(facets))
