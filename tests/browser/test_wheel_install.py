"""`pip install` of a built wheel into a fresh venv gives a JupyterLab with the studio: the lab
extension enabled, the server extension enabled, the launcher tile and the Studio panel shown.

Offline and fast: the fresh venv (``python -m venv --without-pip``, no system site-packages)
gets only the wheel, installed by the real ``pip install --no-deps`` (so its shared data lands
in the venv's ``share/jupyter`` and ``etc/jupyter`` exactly as for a user). Its dependencies
are not downloaded again: a ``.pth`` file appends this venv's site-packages to its path (a
``.pth`` line adds a directory without running that directory's own ``.pth`` files, so the
editable install of this checkout stays invisible and ``import studio`` is the wheel's), and
JupyterLab's own application assets (data files of the jupyterlab wheel) are linked in the
same way. Installing every dependency from PyPI would take minutes and need the network.
"""

from __future__ import annotations

import json
import re
import site
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio import Workspace
from tests.browser.jupyter import Lab, chromium_problem, isolated_jupyter_env, running_lab
from tests.browser.test_lab_extension import TILE
from tests.conftest import require_or_skip

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def build_wheel(dest: Path) -> Path:
    assert (ROOT / "jupyter_extension/studio_jupyter/labextension/package.json").is_file(), (
        "run `make` to build the lab extension"
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dest), str(ROOT)],
        check=True,
        timeout=300,
    )
    [wheel] = dest.glob("*.whl")
    return wheel


def fresh_venv_with(wheel: Path, path: Path) -> Path:
    """A new venv with ``wheel`` pip-installed (no deps); returns its python."""
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(path)
    python = path / "bin" / "python"
    # this venv's pip installs into the fresh one (`pip --python`): no pip bootstrap needed
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
    )  # fmt: skip
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (Path(purelib) / "_studio_test_dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n"
    )
    # JupyterLab's application assets, a data file of the jupyterlab wheel (a dependency)
    lab_assets = Path(sys.prefix) / "share/jupyter/lab"
    (path / "share/jupyter").mkdir(parents=True, exist_ok=True)
    (path / "share/jupyter/lab").symlink_to(lab_assets)
    return python


CLI = "import sys; from {0} import main; sys.argv = ['jupyter-{1}', 'list']; sys.exit(main())"
"""`jupyter labextension list` / `jupyter server extension list` run by the venv's python (the
`jupyter` launcher itself is a script of a dependency, not installed in the fresh venv)."""


def run_in(python: Path, code: str, env: dict[str, str]) -> str:
    # outside the checkout: `-c` puts the cwd first on sys.path
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, env=env, timeout=120,
        cwd=python.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("wheel-install")
    wheel = build_wheel(tmp / "dist")
    python = fresh_venv_with(wheel, tmp / "venv")
    env = isolated_jupyter_env(tmp / "home")
    env.pop("PYTHONPATH", None)
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    return python, env


def test_the_wheel_installs_and_enables_both_extensions(
    installed: tuple[Path, dict[str, str]],
) -> None:
    python, env = installed
    prefix = python.parent.parent
    assert (prefix / "share/jupyter/labextensions/generative-media-studio/package.json").is_file()
    config = prefix / "etc/jupyter/jupyter_server_config.d/studio_jupyter.json"
    assert json.loads(config.read_text())["ServerApp"]["jpserver_extensions"]["studio_jupyter"]

    # the studio and its server extension are the wheel's, not this checkout's
    where = run_in(python, "import studio, studio_jupyter; print(studio.__file__)", env)
    assert str(prefix) in where, where

    labext = run_in(python, CLI.format("jupyterlab.labextensions", "labextension"), env)
    line = next(ln for ln in labext.splitlines() if "generative-media-studio" in ln)
    assert "enabled" in line and "OK" in line, labext
    assert str(prefix / "share/jupyter/labextensions") in labext

    server = run_in(python, CLI.format("jupyter_server.extension.serverextension", "server"), env)
    words = " ".join(re.sub(r"\x1b\[\d+m", "", server).split())
    assert "studio_jupyter enabled" in words, server
    assert "studio_jupyter OK" in words, server


@pytest.fixture(scope="module")
def lab(
    installed: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    """The fresh venv's JupyterLab (the browser fixtures of conftest use this lab)."""
    problem = chromium_problem()
    if problem:
        require_or_skip("BROWSER", problem)
    python, env = installed
    root = tmp_path_factory.mktemp("wheel-workspace")
    Workspace(root)
    home = tmp_path_factory.mktemp("wheel-lab-home")
    overrides = {k: v for k, v in env.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
    with running_lab(root, home, env=overrides, python=str(python)) as running:
        yield running


def test_the_installed_lab_shows_the_launcher_tile_and_the_studio_panel(
    lab: Lab, page: Any
) -> None:
    page.goto(f"{lab.url}/lab?reset&token={lab.token}")
    page.locator(TILE).wait_for(timeout=60_000)
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id='studio-panel']").click()
    panel = page.locator("#studio-panel")
    panel.wait_for(timeout=10_000)
    # the panel talks to the installed server extension: an empty workspace, no error
    panel.locator(".studio-status:has-text('No projects yet')").wait_for(timeout=10_000)
    # the server extension was enabled by the wheel's config (the only one on that venv's path)
    log = (lab.root.parent / "wheel-lab-home0" / "jupyter.log").read_text()
    assert "studio_jupyter | extension was successfully loaded" in log, log
