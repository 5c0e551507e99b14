"""A canvas as a user waits for it in JupyterLab (issue 16 item 11): open a project's canvas
from the lab (kernel start, ``import studio``, the canvas cell, the widget's first paint) and
reload the page (the lab restores the notebook and the studio runs its canvas cell again),
against the same steps for a plain notebook whose one cell prints a line, in the same run.
Needs Chromium."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from studio import Workspace
from tests.browser.jupyter import CHROMIUM, CHROMIUM_ARGS, running_lab, write_notebook

REPS = 3
VIEWPORT: Any = {"width": 1400, "height": 1000}
TIMEOUT_MS = 120_000


def _seconds_until(page: Any, selector: str, start: float) -> float:
    page.locator(selector).first.wait_for(timeout=TIMEOUT_MS)
    return time.monotonic() - start


def _plain(page: Any, lab: Any) -> tuple[float, float]:
    """A plain notebook: opened from the lab and its cell run until its output shows; then a
    reload until the lab shows it again (its output saved with it)."""
    page.goto(f"{lab.url}/lab?reset&token={lab.token}")
    page.locator(".jp-Launcher").first.wait_for(timeout=TIMEOUT_MS)
    start = time.monotonic()
    page.evaluate("window.jupyterapp.commands.execute('docmanager:open', {path: 'plain.ipynb'})")
    page.locator("#jp-main-statusbar >> text=/ipykernel\\) \\| Idle/").wait_for(timeout=TIMEOUT_MS)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    opened = _seconds_until(page, ".jp-OutputArea-output >> text=plain-ready", start)
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(500)
    start = time.monotonic()
    page.reload()
    return opened, _seconds_until(page, ".jp-OutputArea-output >> text=plain-ready", start)


def _canvas(page: Any, lab: Any, project: str) -> tuple[float, float]:
    """A project's canvas opened from the lab (the launcher's and panel's command), until the
    widget shows; then a reload until it is back."""
    page.goto(f"{lab.url}/lab?reset&token={lab.token}")
    page.locator(".jp-Launcher").first.wait_for(timeout=TIMEOUT_MS)
    start = time.monotonic()
    page.evaluate(
        "(id) => window.jupyterapp.commands.execute('studio:open-canvas', {projectId: id})",
        project,
    )
    opened = _seconds_until(page, ".studio-canvas .svelte-flow__pane", start)
    start = time.monotonic()
    page.reload()
    return opened, _seconds_until(page, ".studio-canvas .svelte-flow__pane", start)


def main() -> None:
    if not Path(CHROMIUM).exists():
        print(f"skipped: needs {CHROMIUM}")
        return
    root = Path(tempfile.mkdtemp(prefix="page-load-"))
    workspace = Workspace(root)
    write_notebook(root / "plain.ipynb", "print('plain-ready')")
    plain: list[tuple[float, float]] = []
    canvas: list[tuple[float, float]] = []
    with running_lab(root, Path(tempfile.mkdtemp())) as lab, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for rep in range(REPS + 1):  # the first of each warms the lab's caches: not counted
            project = workspace.create_project(f"Load {rep}", quality="low").name
            for kind, figures in (("plain", plain), ("canvas", canvas)):
                context = browser.new_context(viewport=VIEWPORT)
                page = context.new_page()
                figure = _plain(page, lab) if kind == "plain" else _canvas(page, lab, project)
                if rep:
                    figures.append(figure)
                page.evaluate("window.jupyterapp.commands.execute('kernelmenu:shutdown')")
                context.close()
        browser.close()
    for index, step in enumerate(("open -> shown", "reload -> shown again")):
        studio_s = statistics.median(f[index] for f in canvas)
        plain_s = statistics.median(f[index] for f in plain)
        print(f"{step}: canvas {studio_s:.2f} s vs plain notebook {plain_s:.2f} s -> ratio "
              f"{studio_s / plain_s:.2f}x (median of {REPS})")  # fmt: skip


if __name__ == "__main__":
    main()
