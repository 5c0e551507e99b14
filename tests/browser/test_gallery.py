"""The sweep gallery in JupyterLab + Chromium (issue 14 item 2): a 2 x 2 sweep shown in a
notebook fills in as its takes arrive, a click enlarges a take, a shift-click compares two,
and Make active makes a take the shot's active take: the canvas in the same notebook shows it."""

from __future__ import annotations

from typing import Any

import pytest

from studio import Workspace
from tests.browser.jupyter import ARTIFACTS, Lab, open_and_run, write_notebook
from tests.sweeps.test_sweep_dask import add_shot

pytestmark = pytest.mark.slow

RECORD_STATUSES = """() => { window.__cellStatuses = [];
  new MutationObserver(() => window.__cellStatuses.push([...document
      .querySelectorAll(".studio-gallery .cell[data-status]")].map(e => e.dataset.status)))
    .observe(document.body, {subtree: true, childList: true, attributes: true}); }"""


def test_a_sweep_gallery_fills_in_enlarges_compares_and_makes_a_take_active(
    lab: Lab, page: Any, builtin_images: None
) -> None:
    workspace = Workspace(lab.root)  # the lab's root: its media route serves the takes
    project = workspace.create_project("Gallery Film", quality="low")
    node_id = add_shot(project)
    project.graph.save()
    write_notebook(
        lab.root / "gallery.ipynb",
        f"import studio\nproject = studio.Workspace({str(workspace.path)!r})"
        f".open_project({project.name!r})\ncanvas = project.canvas(height=420)\ncanvas",
        f"sweep = project.sweep({node_id!r}, prompt=['dawn market', 'night market'],"
        " params={'width': [64, 128]})\ngallery = sweep.gallery()\ngallery",
    )
    open_and_run(page, lab, "gallery.ipynb")
    gallery = page.locator(".studio-gallery")
    gallery.wait_for(timeout=60_000)
    page.evaluate(RECORD_STATUSES)
    cells = gallery.locator(".cell[data-status]")
    assert cells.count() == 4
    assert gallery.locator(".column-header").all_inner_texts() == ["64", "128"]
    assert gallery.locator(".row-header").all_inner_texts() == ["dawn market", "night market"]
    gallery.locator(".cell[data-status='done'] img.thumb").nth(3).wait_for(timeout=90_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.studio-gallery img.thumb')]"
        ".filter(i => i.complete && i.naturalWidth > 0).length === 4"
    )
    shown = page.evaluate("window.__cellStatuses")
    assert any(statuses.count("done") < 4 for statuses in shown), shown  # it filled in
    gallery.locator(".progress[data-finished='true']").wait_for(timeout=10_000)
    assert "4/4 done" in gallery.locator(".progress").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    gallery.screenshot(path=str(ARTIFACTS / "gallery-grid.png"))

    takes = [cells.nth(i).get_attribute("data-take") for i in range(4)]
    assert all(takes) and len(set(takes)) == 4
    cells.nth(1).click()  # enlarge: the full picture, through the lab's media route
    enlarged = gallery.locator("figure.enlarged")
    enlarged.first.wait_for()
    assert enlarged.count() == 1 and enlarged.first.get_attribute("data-take") == takes[1]
    page.wait_for_function(
        "() => { const i = document.querySelector('.studio-gallery figure.enlarged img');"
        " return i && i.complete && i.naturalWidth === 128 && i.src.includes('/media/'); }"
    )
    cells.nth(2).click(modifiers=["Shift"])  # compare with a second take
    page.wait_for_function("() => document.querySelectorAll('figure.enlarged').length === 2")
    left, right = (enlarged.nth(i).bounding_box() for i in range(2))
    assert abs(left["y"] - right["y"]) < 2 and right["x"] > left["x"] + left["width"] / 2
    assert [enlarged.nth(i).get_attribute("data-take") for i in range(2)] == takes[1:3]
    gallery.screenshot(path=str(ARTIFACTS / "gallery-compare.png"))

    canvas = page.locator(".studio-canvas")
    select = canvas.locator("select[data-field='active_take']")
    thumbnail = canvas.locator("img.thumbnail")
    before = thumbnail.get_attribute("src")
    # Of the two compared, the one that is not the active take (the newest is, after a sweep).
    side = 0 if select.input_value() != takes[1] else 1
    chosen, other = takes[1 + side], enlarged.nth(1 - side)
    assert select.input_value() != chosen
    assert enlarged.nth(side).locator(".active-badge").count() == 0
    enlarged.nth(side).locator("button.make-active").click()
    enlarged.nth(side).locator(".active-badge").wait_for(timeout=30_000)
    assert other.locator("button.make-active").count() == 1  # the other can be chosen still
    gallery.locator(".notice[data-level='info']", has_text=chosen).wait_for()
    page.wait_for_function(
        "name => document.querySelector(\".studio-canvas select[data-field='active_take']\")"
        "?.value === name",
        arg=chosen,
        timeout=30_000,
    )
    page.wait_for_function(
        "src => document.querySelector('.studio-canvas img.thumbnail')?.getAttribute('src')"
        " !== src",
        arg=before,
        timeout=30_000,
    )
    assert gallery.locator(f".cell[data-take='{chosen}'][data-active='true']").count() == 1
    assert project.active_take(scene=1, shot=10).name == chosen  # type: ignore[union-attr]
    gallery.screenshot(path=str(ARTIFACTS / "gallery-make-active.png"))
    canvas.screenshot(path=str(ARTIFACTS / "gallery-canvas-follows.png"))
