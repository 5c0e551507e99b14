"""The wheel carries what a `pip install` needs: the built canvas, the built-in pipelines,
the project templates, the Welcome notebook, the lab extension and the config enabling the
server extension."""

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LABEXTENSION = "jupyter_extension/studio_jupyter/labextension"


@pytest.mark.slow
def test_wheel_ships_the_canvas_pipelines_and_templates(tmp_path: Path) -> None:
    assert (ROOT / "studio/widgets/static/canvas.js").is_file(), "run `make` to build the canvas"
    assert (ROOT / LABEXTENSION / "package.json").is_file(), "run `make` to build the lab extension"
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
        "studio/widgets/static/gallery.js",
        "studio/widgets/static/gallery.css",
        "studio/notebooks/Welcome.ipynb",
        "studio/project/templates/gitignore",
        "studio/builtin_pipelines/t2i-draft/manifest.json",
        "studio/builtin_pipelines/t2i-draft/Dockerfile",
    ):
        assert required in names, required

    # the lab extension and the server extension's config, as shared data (data_files)
    [data] = {n.split("/")[0] for n in names if re.match(r"[^/]+\.data/", n)}
    lab = f"{data}/data/share/jupyter/labextensions/generative-media-studio"
    assert f"{lab}/package.json" in names
    assert [n for n in names if re.fullmatch(rf"{re.escape(lab)}/static/remoteEntry\.\w+\.js", n)]
    package = json.loads(zipfile.ZipFile(wheel).read(f"{lab}/package.json"))
    assert package["name"] == "generative-media-studio"
    assert package["jupyterlab"]["_build"]["load"].startswith("static/remoteEntry.")
    config = f"{data}/data/etc/jupyter/jupyter_server_config.d/studio_jupyter.json"
    assert json.loads(zipfile.ZipFile(wheel).read(config)) == {
        "ServerApp": {"jpserver_extensions": {"studio_jupyter": True}}
    }
    # ...and not a second copy inside the package
    assert not [n for n in names if n.startswith("studio_jupyter/labextension/")]
