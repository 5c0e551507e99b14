"""`studio lab` (what `make lab` runs): JupyterLab really starts on the workspace with the
Welcome notebook; and the Welcome notebook really runs."""

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import nbformat
import pytest
from distributed import Client
from nbclient import NotebookClient

from studio import Workspace
from studio.cli.lab import install_welcome_notebook
from tests.browser.jupyter import free_port, isolated_jupyter_env, wait_until_serving


def jupyter_env(tmp_path: Path) -> dict[str, str]:
    """Keep Jupyter's config, data and runtime files out of $HOME."""
    return isolated_jupyter_env(tmp_path / "jupyter")


@pytest.mark.slow
def test_lab_serves_the_workspace_with_the_welcome_notebook(tmp_path: Path) -> None:
    port, token, ws = free_port(), "studio-test-token", tmp_path / "ws"
    log = tmp_path / "lab.log"
    env = {k: v for k, v in jupyter_env(tmp_path).items() if k != "STUDIO_SCHEDULER"}
    lab = subprocess.Popen(
        [
            sys.executable, "-m", "studio", "lab", "-w", str(ws), "--port", str(port),
            "--no-browser", f"--IdentityProvider.token={token}",
        ],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, token, lab, log)
        url = f"{base}/api/contents/Welcome.ipynb?token={token}"
        with urllib.request.urlopen(url, timeout=10) as response:
            model = json.load(response)
        assert model["type"] == "notebook"
        with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=10) as response:
            assert response.status == 200
        with pytest.raises(urllib.error.HTTPError) as denied:  # Jupyter auth is on
            urllib.request.urlopen(f"{base}/api/contents/Welcome.ipynb", timeout=10)
        assert denied.value.code in (401, 403)
        assert (ws / "Projects").is_dir()
        # the local Dask cluster it started, with CPU workers (no GPU here)
        [address] = re.findall(r"Dask scheduler at (tcp://[\d.:]+)", log.read_text())
        with Client(address, timeout=10) as client:  # type: ignore[no-untyped-call]
            workers = client.scheduler_info(n_workers=-1)["workers"]
            assert len(workers) >= 1
            assert client.submit(sum, [1, 2], pure=False).result(timeout=30) == 3
        # the built-in pipelines' images are made ready in the background (or it says why not)
        assert "pipeline images: " in log.read_text()
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)


def test_lab_refuses_to_start_without_git_lfs(tmp_path: Path, path_without_git_lfs: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "studio", "lab", "-w", str(tmp_path / "ws"), "--no-browser"],
        env={**jupyter_env(tmp_path), "PATH": path_without_git_lfs},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "git-lfs is not installed" in done.stderr
    assert "--skip-checks" in done.stderr


def test_welcome_notebook_is_never_overwritten(tmp_path: Path) -> None:
    target = install_welcome_notebook(tmp_path)
    target.write_text("my edits")
    install_welcome_notebook(tmp_path)
    assert target.read_text() == "my edits"


@pytest.mark.slow
def test_welcome_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    notebook_path = install_welcome_notebook(ws.path)
    notebook = nbformat.read(notebook_path, as_version=4)  # type: ignore[no-untyped-call]
    for key, value in jupyter_env(tmp_path).items():
        if key.startswith(("JUPYTER", "IPYTHON")):
            monkeypatch.setenv(key, value)
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ws.path)}}
    ).execute()
    outputs = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert "My First Film" in outputs
    assert "data:image/jpeg;base64" in outputs
    assert "SHOT-010_v01_take01.png" in outputs
    [project] = ws.projects()
    assert project.title == "My First Film"
    assert [t.name for t in project.takes(scene=1, shot=10)] == ["SHOT-010_v01_take01.png"]
