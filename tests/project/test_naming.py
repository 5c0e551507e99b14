from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.project.naming import (
    FALLBACK_NAME,
    MAX_NAME_BYTES,
    candidate_names,
    folder_name_for,
    is_safe_folder_name,
)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Night Market", "Night_Market"),
        ("Café Noir", "Café_Noir"),
        ("  spaced   out  ", "spaced_out"),
        ("../../etc/passwd", "etc_passwd"),
        ("/absolute/path", "absolute_path"),
        ("..", FALLBACK_NAME),
        (".", FALLBACK_NAME),
        ("", FALLBACK_NAME),
        ("🎬🎥", FALLBACK_NAME),
        ("CON", "project_CON"),
        ("nul", "project_nul"),
        ("com1", "project_com1"),
        ("a\0b", "a_b"),
        ("映画 第一話", "映画_第一話"),
        ("a／b", "a_b"),  # noqa: RUF001  # fullwidth solidus normalizes (NFKC) to '/'
        ("back\\slash", "back_slash"),
        (".hidden", "hidden"),
    ],
)
def test_folder_name_examples(title: str, expected: str) -> None:
    assert folder_name_for(title) == expected


def test_long_titles_are_cut_within_filesystem_limits() -> None:
    assert len(folder_name_for("x" * 1000)) == 64
    assert len(folder_name_for("語" * 1000).encode()) <= MAX_NAME_BYTES


def test_candidates_add_numeric_suffixes() -> None:
    names = candidate_names("Film")
    assert names[:3] == ["Film", "Film_2", "Film_3"]
    assert len(set(names)) == len(names)


@settings(max_examples=2000)
@given(st.text())
def test_no_title_ever_yields_an_unsafe_name(title: str) -> None:
    projects = Path("/ws/Projects")
    for name in candidate_names(title)[:2]:
        assert is_safe_folder_name(name), name
        assert len(name.encode()) <= MAX_NAME_BYTES + 6
        target = projects / name
        assert target.parent == projects
        assert ".." not in target.parts
