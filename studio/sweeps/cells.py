"""A sweep's axes and cells (pure: no project, no files, no cluster).

An axis is a name and its values: ``prompt``, ``seed`` and ``quality`` are the sweep's own
axes; any other name is a pipeline input (``params={"steps": [4, 8]}``). The cells are the
axes' values combined: ``product`` (every combination, the first axis slowest) or ``zip``
(the i-th value of every axis, all axes of one length).

>>> axes = sweep_axes(prompt=["a", "b"], seed=range(2))
>>> [cell.values for cell in expand(axes, "product")]
[{'prompt': 'a', 'seed': 0}, {'prompt': 'a', 'seed': 1}, {'prompt': 'b', 'seed': 0}, ...]

Every problem is reported at once, before anything is submitted (:class:`SweepError`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from studio.errors import InvalidInput
from studio.pipelines.schema import Manifest
from studio.pipelines.validation import check_value
from studio.quality import QUALITIES, Quality

Mode = Literal["product", "zip"]
MODES: Final[tuple[Mode, ...]] = get_args(Mode)
PROMPT: Final = "prompt"
SEED: Final = "seed"
QUALITY: Final = "quality"
OWN_AXES: Final = (PROMPT, SEED, QUALITY)
"""Axes that are arguments of their own, not pipeline inputs."""
MAX_SEED: Final = 2**31 - 1
"""The engine draws seeds below 2**31; pipelines declare that range too."""
MAX_CELLS: Final = 4096
"""More cells than this is taken for a mistake (``range(10**6)`` for a seed axis)."""
MAX_SHOWN: Final = 3
"""How many bad values of one axis an error names."""


class SweepError(InvalidInput):
    """A sweep cannot be made as asked; nothing was submitted. ``problems`` lists each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "the sweep was not started: " + "; ".join(problems),
            hint="fix the axes named above and run project.sweep(...) again",
        )
        self.problems = problems


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Cell:
    """One combination of the axes' values: one job, one take."""

    index: int
    values: Mapping[str, Any]
    """Axis name -> value, in the axes' order."""

    @property
    def prompt(self) -> str | None:
        return self.values.get(PROMPT)

    @property
    def seed(self) -> int | None:
        return self.values.get(SEED)

    @property
    def quality(self) -> Quality | None:
        return self.values.get(QUALITY)

    @property
    def inputs(self) -> dict[str, Any]:
        """The pipeline inputs this cell sets (its values but its own axes')."""
        return {name: value for name, value in self.values.items() if name not in OWN_AXES}


def _values(name: str, given: Any) -> tuple[Any, ...]:
    # One string is one value, not its characters; any other iterable (range, list,
    # generator) is read once, here.
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        return (given,)
    return tuple(given)


def sweep_axes(
    *,
    prompt: str | Iterable[str] | None = None,
    seed: int | Iterable[int] | None = None,
    quality: Quality | Iterable[Quality] | None = None,
    params: Mapping[str, Any] | None = None,
) -> list[Axis]:
    """The axes asked for, in this order: prompt, seed, quality, then ``params`` as given.
    None: not an axis (the shot's own value). Raises :class:`SweepError` for an axis named
    twice or without values, or no axis at all."""
    problems: list[str] = []
    axes: list[Axis] = []
    own = {PROMPT: prompt, SEED: seed, QUALITY: quality}
    for name, given in {**own, **(params or {})}.items():
        if given is None:
            continue
        values = _values(name, given)
        if not values:
            problems.append(f"axis {name!r} has no values (give at least one, or leave it out)")
        axes.append(Axis(name, values))
    for name in OWN_AXES:
        if name in (params or {}):
            problems.append(f"{name!r} is an argument of its own: sweep(..., {name}=[...])")
    if not axes:
        problems.append("no axis: give prompt=, seed=, quality= or params={input: [values]}")
    if problems:
        raise SweepError(problems)
    return axes


def expand(axes: list[Axis], mode: Mode) -> list[Cell]:
    """The cells of ``axes``: every combination (``product``, the first axis slowest) or the
    axes side by side (``zip``, all of one length). Raises :class:`SweepError`."""
    if mode not in MODES:
        raise SweepError([f"mode must be 'product' or 'zip', not {mode!r}"])
    names = [axis.name for axis in axes]
    if mode == "zip":
        lengths = {axis.name: len(axis.values) for axis in axes}
        if len(set(lengths.values())) > 1:
            listed = ", ".join(f"{name}: {n}" for name, n in lengths.items())
            raise SweepError([f"zip needs axes of one length, these have {listed} values "
                              "(use mode='product' for every combination)"])  # fmt: skip
        rows: Iterable[tuple[Any, ...]] = zip(*(axis.values for axis in axes), strict=True)
        count = len(axes[0].values) if axes else 0
    else:
        rows = itertools.product(*(axis.values for axis in axes))
        count = 1
        for axis in axes:
            count *= len(axis.values)
    if count > MAX_CELLS:
        raise SweepError([f"{count} cells is more than {MAX_CELLS}; split the sweep"])
    return [Cell(i, dict(zip(names, row, strict=True))) for i, row in enumerate(rows)]


def _bad(name: str, values: tuple[Any, ...], why: list[tuple[int, str]]) -> str:
    shown = "; ".join(f"value {i} ({values[i]!r}) {reason}" for i, reason in why[:MAX_SHOWN])
    more = f" (and {len(why) - MAX_SHOWN} more)" if len(why) > MAX_SHOWN else ""
    return f"axis {name!r}: {shown}{more}"


def _seed_problem(value: Any, manifests: Mapping[Quality, Manifest]) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "is not a whole number"
    if not 0 <= value <= MAX_SEED:
        return f"is outside 0..{MAX_SEED}"
    for manifest in manifests.values():
        spec = manifest.input(SEED)
        if spec is not None and (problem := check_value(spec, value, files_root=None)):
            return f"{problem} (pipeline {manifest.id!r})"
    return None


def _input_problem(name: str, value: Any, manifests: Mapping[Quality, Manifest]) -> str | None:
    for manifest in manifests.values():
        spec = manifest.input(name)
        if spec is not None and (problem := check_value(spec, value, files_root=None)):
            return f"{problem} (pipeline {manifest.id!r})"
    return None


def _unknown_input(name: str, manifests: Mapping[Quality, Manifest]) -> str | None:
    for quality, manifest in manifests.items():
        spec = manifest.input(name)
        if spec is None:
            declared = ", ".join(i.name for i in manifest.inputs if not i.is_file) or "none"
            return (f"unknown input {name!r}: pipeline {manifest.id!r} (at {quality} "
                    f"quality) declares {declared}")  # fmt: skip
        if spec.is_file:
            return (f"input {name!r} of pipeline {manifest.id!r} is a file: connect it to the "
                    "shot instead of sweeping it")  # fmt: skip
    return None


def check_axes(axes: list[Axis], manifests: Mapping[Quality, Manifest]) -> None:
    """Check every axis against the manifests of the pipelines its cells run (one per
    quality the sweep uses): pipeline inputs they declare, values they accept, seeds in
    range, non-empty prompts, known qualities. Raises :class:`SweepError` naming each."""
    problems: list[str] = []
    for axis in axes:
        why: list[tuple[int, str]] = []
        if axis.name not in OWN_AXES and (unknown := _unknown_input(axis.name, manifests)):
            problems.append(unknown)
            continue
        for i, value in enumerate(axis.values):
            if axis.name == PROMPT:
                problem = None if isinstance(value, str) and value.strip() else "is not a prompt"
            elif axis.name == SEED:
                problem = _seed_problem(value, manifests)
            elif axis.name == QUALITY:
                problem = None if value in QUALITIES else f"is not one of {', '.join(QUALITIES)}"
            else:
                problem = _input_problem(axis.name, value, manifests)
            if problem:
                why.append((i, problem))
        if why:
            problems.append(_bad(axis.name, axis.values, why))
    if problems:
        raise SweepError(problems)


def qualities(cells: list[Cell], default: Quality) -> list[Quality]:
    """The qualities the cells run at (``default`` for cells without a quality), in order."""
    return list(dict.fromkeys(cell.quality or default for cell in cells))
