"""Real JupyterLab + Chromium for browser tests (see ../shared/RECIPES.md)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def isolated_jupyter_env(home: Path) -> dict[str, str]:
    """Jupyter's config, data and runtime dirs inside ``home`` (never the user's $HOME)."""
    dirs = {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
        "IPYTHONDIR": "ipython",
    }
    env = {**os.environ}
    for key, name in dirs.items():
        (home / name).mkdir(parents=True, exist_ok=True)
        env[key] = str(home / name)
    notification = home / "settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    return env


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"


def wait_until_serving(
    url: str, token: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60
) -> None:
    """Poll JupyterLab's status route until it answers; fail with its log if it exits or
    does not answer within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start:\n{log.read_text()}") from None
            time.sleep(0.3)


@contextmanager
def running_lab(
    root: Path, home: Path, env: dict[str, str] | None = None, python: str = sys.executable
) -> Iterator[Lab]:
    """JupyterLab serving ``root``; ``env`` overrides variables (e.g. a PATH without git-lfs),
    ``python`` is the interpreter whose JupyterLab runs (e.g. a venv a wheel was installed in)."""
    port, token = free_port(), "studio-browser-test"
    log = (home / "jupyter.log").open("wb")
    process = subprocess.Popen(
        [
            python, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
            f"--port={port}", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
            "--allow-root",
        ],
        env={**isolated_jupyter_env(home), **(env or {})},
        cwd=root,  # `-m` puts the cwd first on sys.path: never this checkout's sources
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, token, process, home / "jupyter.log")
        yield Lab(url, token, root, process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def write_notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    notebook.cells = [nbformat.v4.new_code_cell(s) for s in sources]  # type: ignore[no-untyped-call]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)  # type: ignore[no-untyped-call]
    return path


def chromium_problem() -> str | None:
    """Why browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return "Chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    return None


def open_and_run(page: Any, lab: Lab, name: str) -> None:
    """Open a notebook in JupyterLab, wait for its kernel, run all cells."""
    page.goto(lab.notebook_url(name))
    page.locator(f"#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current >> text={name}").wait_for(
        timeout=60_000
    )
    wait_idle(page)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")


def wait_idle(page: Any, timeout: int = 60_000) -> None:
    page.locator("#jp-main-statusbar >> text=/ipykernel\\) \\| Idle/").wait_for(timeout=timeout)


RUN_IN_KERNEL_JS = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({ code, store_history: false });
  let out = "";
  let error = null;
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === "stream") out += msg.content.text;
    if (msg.header.msg_type === "error") error = `${msg.content.ename}: ${msg.content.evalue}`;
  };
  await future.done;
  if (error) throw new Error(`in the kernel: ${error}`);
  return out;
}"""


def run_in_kernel(page: Any, code: str) -> str:
    """Run ``code`` in the kernel of the notebook on screen (not in a cell); its printed output.
    An exception in the kernel raises here."""
    return str(page.evaluate(RUN_IN_KERNEL_JS, code))
