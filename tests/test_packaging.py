"""The wheel carries what a `pip install` needs: the built canvas, the built-in pipelines,
the project templates and the Welcome notebook."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_the_canvas_pipelines_and_templates(tmp_path: Path) -> None:
    assert (ROOT / "studio/widgets/static/canvas.js").is_file(), "run `make` to build the canvas"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "studio/widgets/static/canvas.js",
        "studio/widgets/static/canvas.css",
        "studio/notebooks/Welcome.ipynb",
        "studio/project/templates/gitignore",
        "studio/builtin_pipelines/t2i-draft/manifest.json",
        "studio/builtin_pipelines/t2i-draft/Dockerfile",
    ):
        assert required in names, required
