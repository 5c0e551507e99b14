"""Standard JSON in and out (studio.documents): no NaN/Infinity, nesting bounded before parsing."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from studio.documents import (
    FiniteJSON,
    JSONTooDeep,
    check_nesting,
    dump_json,
    read_json,
    strict_loads,
    write_model,
)
from studio.errors import InvalidInput, ManifestError
from studio.project.provenance import Provenance


class Holder(BaseModel):
    values: dict[str, Any]
    """Free-form: what a model without FiniteJSON lets through to the writer."""
    checked: FiniteJSON = {}


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"x": -Infinity}', "1e999", "[-1e400]"])
def test_strict_loads_refuses_what_json_readers_refuse(text: str):
    with pytest.raises(ValueError, match="JSON"):
        strict_loads(text)


def test_strict_loads_reads_standard_json():
    assert strict_loads('{"a": [1, 2.5, "NaN", "[[["], "b": 1e308}') == {
        "a": [1, 2.5, "NaN", "[[["],
        "b": 1e308,
    }
    assert strict_loads(b'{"x": 1}') == {"x": 1}


def test_nesting_is_checked_before_parsing_and_strings_do_not_count():
    check_nesting('{"a": "' + "[" * 1000 + '"}', limit=2)  # brackets inside a string
    check_nesting('{"a": "\\"[[[["}', limit=2)  # an escaped quote does not end the string
    check_nesting("[" * 5 + "]" * 5, limit=5)
    with pytest.raises(JSONTooDeep, match="deeper than 5"):
        check_nesting("[" * 6 + "]" * 6, limit=5)
    with pytest.raises(JSONTooDeep):
        strict_loads("[" * 100_000, max_nesting=64)  # no RecursionError: never parsed


def test_writers_refuse_non_finite_numbers(tmp_path: Path):
    with pytest.raises(InvalidInput, match=r"NaN or Infinity to canvas\.json"):
        dump_json({"x": math.nan}, where="canvas.json")
    target = tmp_path / "doc.json"
    with pytest.raises(InvalidInput):
        write_model(target, Holder(values={"x": [1.0, math.inf]}))
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temp file


def test_models_refuse_non_finite_numbers_inside_free_form_fields():
    with pytest.raises(ValidationError, match="finite"):
        Provenance(take="t", creative_fingerprint="f", inputs={"a": {"b": [math.nan]}})
    with pytest.raises(ValidationError, match="finite"):
        Holder(values={"x": [1.0, math.inf]}, checked={"x": [math.inf]})


def test_reading_a_file_with_nan_names_the_file(tmp_path: Path):
    path = tmp_path / "main_canvas.json"
    path.write_text('{"version": 1, "nodes": [{"position": {"x": NaN}}]}')
    with pytest.raises(ManifestError, match=r"main_canvas\.json.*NaN is not a JSON number"):
        read_json(path)
