"""Shared fixtures: real workspaces and projects (real git + git-lfs) in temp folders."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from studio import Project, Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def project(workspace: Workspace) -> Project:
    return workspace.create_project("Test Film", description="a test project")


@pytest.fixture
def make_png() -> Callable[..., bytes]:
    def make(
        width: int = 16, height: int = 9, color: tuple[int, int, int] = (200, 40, 40)
    ) -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", (width, height), color).save(buffer, format="PNG")
        return buffer.getvalue()

    return make


@pytest.fixture
def path_without_git_lfs(tmp_path: Path) -> str:
    """A PATH on which git exists but git-lfs does not (git finds git-lfs through PATH)."""
    git = shutil.which("git")
    assert git, "git is required to run the tests"
    bin_dir = tmp_path / "bin-without-lfs"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(git)
    assert (
        subprocess.run(
            ["git", "lfs", "version"], env={**os.environ, "PATH": str(bin_dir)}, capture_output=True
        ).returncode
        != 0
    )
    return str(bin_dir)


def run_studio(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """Run the real CLI (``python -m studio``) in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
    )


def git_out(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
