"""The README's Python examples run as written (one script, in a fresh folder): the quick
tour a newcomer copies must not rot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

README = Path(__file__).resolve().parents[1] / "README.md"

pytestmark = pytest.mark.slow


def python_examples() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def test_the_readme_has_python_examples():
    examples = python_examples()
    assert len(examples) >= 2 and "import studio" in examples[0]


def test_the_readme_python_examples_run_as_written(tmp_path: Path, builtin_images: None):
    # As a newcomer would: a script in an empty folder, the engine starting its own local
    # cluster; Docker when a daemon answers (images from the session fixture), else processes.
    script = tmp_path / "readme_examples.py"
    body = "\n".join(python_examples())
    script.write_text(
        'if __name__ == "__main__":\n'
        + "".join(f"    {line}\n" if line.strip() else "\n" for line in body.splitlines())
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    shot = tmp_path / "workspace/Projects/Night_Market/03_Renders/SCENE_01/SHOT_010"
    names = sorted(p.name for p in shot.glob("SHOT-010_*.png") if p.name.count(".") == 1)
    assert names == ["SHOT-010_v01_take01.png", "SHOT-010_v02_take01.png"], names
    upscaled = shot / "SHOT-010_v01_take01.sr_v01_take01.png"  # the Super resolution example
    with Image.open(upscaled) as image:
        assert image.size == (128, 72)  # the 64x36 take, scale 2
    film = tmp_path / "workspace/Projects/Night_Market/06_Exports/Night_Market_v001.mp4"
    assert film.stat().st_size > 0  # project.render() made the film
