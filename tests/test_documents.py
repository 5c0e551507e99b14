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
    NonStandardNumber,
    check_nesting,
    dump_json,
    load_model,
    read_json,
    strict_loads,
    write_model,
)
from studio.errors import InvalidInput, ManifestError
from studio.numbers import MAX_SAFE_INTEGER
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


# --- integers past 2^53: exact in Python, rounded by a browser ---------------------------------


@pytest.mark.parametrize(
    "literal", ["9007199254740992", "-9007199254740992", "100000000000000000000", "9" * 5000]
)
def test_strict_loads_refuses_integers_a_browser_would_round(literal: str):
    with pytest.raises(NonStandardNumber, match=r"beyond ±9007199254740991 \(2\^53 - 1\)"):
        strict_loads(f'{{"node": {{"data": {{"steps": {literal}}}}}}}')


def test_strict_loads_takes_every_integer_a_browser_reads_exactly():
    edge = f"[{MAX_SAFE_INTEGER}, -{MAX_SAFE_INTEGER}, 0, -0, 4294967295]"
    assert strict_loads(edge) == [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0, 0, 2**32 - 1]
    # what is on disk already is read as it is (a file written before keeps opening)
    assert strict_loads("[9007199254740993]", exact_integers=False) == [2**53 + 1]


def test_free_form_fields_refuse_big_integers_but_stored_documents_keep_them(tmp_path: Path):
    with pytest.raises(ValidationError, match="browser would silently round"):
        Holder(values={}, checked={"a": [1, {"b": 2**53}]})
    with pytest.raises(ValidationError, match="browser would silently round"):
        Provenance(take="t", creative_fingerprint="f", inputs={"steps": -(2**60)})
    assert Holder(values={}, checked={"a": MAX_SAFE_INTEGER, "flag": True}).checked["flag"]
    path = tmp_path / "SHOT-010_v01_take01.take.json"
    path.write_text('{"take": "t", "creative_fingerprint": "f", "inputs": {"steps": 1e2, '
                    '"big": 9007199254740993}}')  # fmt: skip
    assert load_model(path, Provenance).inputs["big"] == 2**53 + 1  # written before: kept


def test_a_refused_number_is_located_by_path_id_line_and_column():
    text = (
        '{"version": 3,\n'
        '  "nodes": [\n'
        '    {"id": "a", "data": {"note": "NaN, 1e999 and [ in a string"}},\n'
        '    {"id": "shot-3", "data": {"strength": NaN}}\n'
        "  ]}"
    )
    with pytest.raises(NonStandardNumber) as caught:
        strict_loads(text)
    error = caught.value
    assert error.where == 'nodes[1].data.strength in the object with id "shot-3"'
    assert (error.line, error.column) == (4, 43)
    assert text.splitlines()[3][42:45] == "NaN"
    assert str(error) == (
        "NaN is not a JSON number (JSON numbers are finite), at nodes[1].data.strength in the "
        'object with id "shot-3", line 4, column 43'
    )
    with pytest.raises(NonStandardNumber, match=r'at a\["b c"\]\[1\], line 1, column 19'):
        strict_loads('{"a": {"b c": [0, -Infinity]}}')
    with pytest.raises(NonStandardNumber, match=r"1e999 is out of range .*at the top level"):
        strict_loads("1e999")
    with pytest.raises(NonStandardNumber, match=r"at seed, line 1, column 10"):
        strict_loads('{"seed": 9007199254740993}')


def test_reading_a_file_with_nan_says_where_in_the_file(tmp_path: Path):
    path = tmp_path / "main_canvas.json"
    path.write_text('{\n  "version": 1,\n  "nodes": [{"id": "n1", "position": {"x": Infinity}}]\n}')
    with pytest.raises(ManifestError) as caught:
        read_json(path)
    assert 'nodes[0].position.x in the object with id "n1", line 3, column 44' in str(caught.value)
    assert caught.value.hint is not None and "by hand" in caught.value.hint
