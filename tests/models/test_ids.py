"""Model ids and what a verify reports: pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from studio.errors import InvalidInput
from studio.models.ids import FileRecord, ModelRecord, check_id, compare, missing_message


@pytest.mark.parametrize("good", ["flux1-schnell", "sd1.5", "wan2.1_1.3b", "a"])
def test_ids_like_pipeline_ids_are_accepted(good: str):
    assert check_id(good) == good


@pytest.mark.parametrize(
    "bad", ["..", "../etc", "a/b", "org:name", "a..b", ".hidden", "Upper", "", "x" * 65, "a b"]
)
def test_traversal_and_odd_ids_are_refused_with_a_hint(bad: str):
    with pytest.raises(InvalidInput, match="invalid model id") as refused:
        check_id(bad)
    assert "lower case" in (refused.value.hint or "")


def test_compare_names_missing_and_changed_files():
    record = ModelRecord(
        id="m",
        source="/x",
        added_at=datetime.now(UTC),
        files={
            "a.bin": FileRecord(sha256="0" * 64, size=1),
            "b.bin": FileRecord(sha256="1" * 64, size=1),
            "c.bin": FileRecord(sha256="2" * 64, size=1),
        },
    )
    problems = compare(record, {"a.bin": "0" * 64, "b.bin": "f" * 64, "c.bin": None})
    assert [(p.path, p.kind) for p in problems] == [("b.bin", "mismatch"), ("c.bin", "missing")]
    assert "does not match its recorded sha256" in str(problems[0])


def test_the_refusal_names_the_command_that_fixes_it():
    assert missing_message("t2i-flux-schnell", ["flux1-schnell"]) == (
        "t2i-flux-schnell needs model flux1-schnell: "
        "studio models add flux1-schnell /path/to/flux1-schnell"
    )
