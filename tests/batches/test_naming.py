"""A batch run's pure parts: names, ``-p`` values as papermill reads them, a cell's label."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from studio.batches.naming import batch_stem, cell_label, parse_parameters, parse_value


def test_values_are_read_as_papermill_reads_them() -> None:
    assert [parse_value(v) for v in ("7", "-2", "0.5", "1e3", "True", "False", "None")] == [
        7, -2, 0.5, 1000.0, True, False, None
    ]  # fmt: skip
    assert [parse_value(v) for v in ("true", "lanterns at dusk", "", "7a")] == [
        "true", "lanterns at dusk", "", "7a"
    ]  # fmt: skip
    assert parse_parameters([("seed", "1"), ("prompt", "a b"), ("seed", "3")]) == {
        "seed": 3, "prompt": "a b"
    }  # fmt: skip
    with pytest.raises(ValueError, match="'2x' is not a Python identifier"):
        parse_parameters([("2x", "1")])


def test_names_are_utc_timestamped_and_safe() -> None:
    started = datetime(2026, 12, 3, 9, 30, 5, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert batch_stem("Batch render.ipynb", started) == "Batch_render_20261203T073005123456Z"
    assert batch_stem("x.ipynb", started.astimezone(UTC), attempt=1).endswith("Z_2")
    assert batch_stem("../.ipynb", started).startswith("notebook_")


def test_a_cell_is_labelled_by_its_tags_else_its_first_line() -> None:
    assert cell_label("seed = 1", ["parameters"]) == "tag parameters"
    assert (
        cell_label("\n\n  take = project.generate(shot)\nx", []) == "take = project.generate(shot)"
    )
    assert len(cell_label("x" * 100, [])) == 60
