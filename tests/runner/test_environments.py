"""Pipeline environments of the local process runner: one per set of requirements, made
once, remade after a maker died half-way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.pipelines import load_pipeline
from studio.runner.environments import (
    COMPLETE,
    EnvironmentUnavailable,
    ensure_environment,
    environment_folder,
    environment_key,
    requirement_lines,
)


def test_requirements_are_compared_without_comments_blank_lines_or_order() -> None:
    assert requirement_lines("# torch\nb>=1  # why\n\na==2\n") == ["a==2", "b>=1"]
    key = environment_key(requirements=["a==2", "b>=1"], python="3.11", constraints="")
    assert key == environment_key(requirements=["a==2", "b>=1"], python="3.11", constraints="")
    assert key != environment_key(requirements=["a==2"], python="3.11", constraints="")
    assert key != environment_key(requirements=["a==2", "b>=1"], python="3.12", constraints="")
    assert key != environment_key(
        requirements=["a==2", "b>=1"], python="3.11", constraints="torch==2.13.0\n"
    )


def pipeline_with(folder: Path, requirements: str):
    folder.mkdir(parents=True)
    manifest = {"id": folder.name, "title": "T", "task": "generate-image", "inputs": [],
                "outputs": [{"name": "result", "type": "String"}]}  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "entrypoint.py").write_text("")
    (folder / "requirements.txt").write_text(requirements)
    return load_pipeline(folder)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_pipelines_with_the_same_requirements_share_one_environment(
    tmp_path: Path, cache: Path
) -> None:
    one = pipeline_with(tmp_path / "one", "# none\n")
    two = pipeline_with(tmp_path / "two", "\n")
    messages: list[str] = []
    python = ensure_environment(one, on_progress=lambda e: messages.append(e.message))
    assert python.is_file() and environment_folder(two) == python.parents[1]
    assert any("making the environment of one" in m for m in messages)
    again: list[str] = []
    assert ensure_environment(two, on_progress=lambda e: again.append(e.message)) == python
    assert again == []  # made once


def test_a_half_made_environment_is_made_again(tmp_path: Path, cache: Path) -> None:
    pipeline = pipeline_with(tmp_path / "p", "")
    python = ensure_environment(pipeline, on_progress=lambda e: None)
    (python.parents[1] / COMPLETE).unlink()  # as a maker killed before the end leaves it
    (python.parents[1] / "leftover").write_text("x")
    assert ensure_environment(pipeline, on_progress=lambda e: None) == python
    assert not (python.parents[1] / "leftover").exists()


def test_a_requirement_pip_cannot_install_is_a_clear_error_leaving_nothing(
    tmp_path: Path, cache: Path
) -> None:
    pipeline = pipeline_with(tmp_path / "p", "./no-such-package-here\n")
    with pytest.raises(EnvironmentUnavailable, match="pip install -r") as caught:
        ensure_environment(pipeline, on_progress=lambda e: None)
    assert "requirements.txt" in (caught.value.hint or "")
    assert not environment_folder(pipeline).exists()
