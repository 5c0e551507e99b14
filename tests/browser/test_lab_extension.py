"""The lab extension in a real JupyterLab + Chromium, against the real server extension:
launcher tile → dialog → a project scaffolded on disk → its canvas notebook opens and runs →
the Studio panel lists the project; and the git-lfs startup check's notification."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio import Workspace
from tests.browser.jupyter import ARTIFACTS, Lab, chromium_problem, running_lab
from tests.conftest import git_out, require_or_skip
from tests.project.test_scaffold import TABLE_1_DIRS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab whose root folder is a studio workspace (as `studio lab` serves it)."""
    problem = chromium_problem()
    if problem:
        require_or_skip("BROWSER", problem)
    root = tmp_path_factory.mktemp("studio-workspace")
    Workspace(root)
    home = tmp_path_factory.mktemp("lab-ext-home")
    with running_lab(root, home) as running:
        yield running


def open_lab(page: Any, lab: Lab) -> None:
    page.goto(f"{lab.url}/lab?reset&token={lab.token}")
    page.locator(".jp-LauncherCard").first.wait_for(timeout=60_000)


TILE = ".jp-LauncherCard[data-category='Studio']:has(p:text-is('Studio Project'))"


def launcher_tile(page: Any) -> Any:
    return page.locator(TILE)


def studio_panel(page: Any) -> Any:
    """Open the Studio side panel (its tab in the left side bar) and return it."""
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id='studio-panel']").click()
    panel = page.locator("#studio-panel")
    panel.wait_for(timeout=10_000)
    return panel


def dirs_of(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_dir() and not {".git", ".ipynb_checkpoints"} & set(p.relative_to(root).parts)
    }


def test_launcher_dialog_creates_a_project_and_opens_its_canvas(lab: Lab, page: Any) -> None:
    open_lab(page, lab)
    tile = launcher_tile(page)
    tile.wait_for(timeout=10_000)
    # the tile sits in the launcher's "Studio" section
    section = page.locator(".jp-Launcher-section").filter(
        has=page.locator(".jp-Launcher-sectionTitle", has_text="Studio")
    )
    assert section.locator(".jp-LauncherCard-label", has_text="Studio Project").count() == 1
    tile.click()

    dialog = page.locator(".jp-Dialog:has(.studio-project-form)")
    dialog.wait_for(timeout=10_000)
    # an empty title is refused with a message; the dialog stays open
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    error = page.locator(".jp-Dialog .studio-form-error")
    error.wait_for(timeout=10_000)
    assert "title" in error.inner_text().lower()
    assert Workspace(lab.root).projects() == []

    form = page.locator(".jp-Dialog .studio-project-form")
    form.locator("input[name='name']").fill("Lab Film")
    form.locator("textarea[name='description']").fill("Made from the launcher")
    form.locator("select[name='quality']").select_option("high")
    form.locator("select[name='aspect_ratio']").select_option("9:16")
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
    # the toast names the folder: titles may repeat, folders do not
    page.locator(".Toastify__toast", has_text="created in folder Lab_Film").wait_for(timeout=10_000)

    # the canvas notebook opens, its kernel runs its canvas cell, the canvas renders
    page.locator(".jp-Notebook .studio-canvas").wait_for(timeout=120_000)
    assert page.locator(".jp-NotebookPanel[data-studio-canvas-run='ran']").count() == 1

    # on disk: a project with the full PRD Table 1 scaffold, committed, with LFS rules
    [project] = Workspace(lab.root).projects()
    assert project.title == "Lab Film"
    manifest = json.loads((project.path / "project.json").read_text())
    assert manifest["description"] == "Made from the launcher"
    assert manifest["project_settings"] == {
        "quality": "high", "aspect_ratio": "9:16", "frame_rate": "24"
    }  # fmt: skip
    assert dirs_of(project.path) == TABLE_1_DIRS
    assert {"project.json", ".gitignore", ".gitattributes"} <= {
        p.name for p in project.path.iterdir() if p.is_file()
    }
    assert "filter=lfs" in (project.path / ".gitattributes").read_text()
    assert git_out(project.path, "log", "--oneline").strip()

    # the open notebook is the project's canvas notebook, inside the project; its tab says
    # whose canvas it is (the file keeps its name: the caption says it)
    tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")
    page.wait_for_function(
        "() => document.querySelector('#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current')"
        "?.textContent.includes('Lab Film — Canvas')",
        timeout=10_000,
    )
    notebooks = [p for p in project.path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts]
    assert [nb.name for nb in notebooks] == ["Canvas.ipynb"]
    assert "Lab_Film/Canvas.ipynb" in (tab.get_attribute("title") or ""), tab.get_attribute("title")

    # the Studio panel lists the new project (and selected it)
    panel = studio_panel(page)
    item = panel.locator(".studio-project[data-project-name='Lab Film']")
    item.wait_for(timeout=10_000)
    assert "high" in item.inner_text() and "9:16" in item.inner_text()
    assert project.name in item.locator(".studio-project-meta").inner_text()  # the folder

    # "Reveal folder" moves the file browser into the project's folder
    item.locator(".studio-reveal-folder").click()
    crumbs = page.locator(".jp-FileBrowser .jp-BreadCrumbs")
    crumbs.locator(f"text={project.path.name}").wait_for(timeout=10_000)


def test_panel_refreshes_and_opens_a_canvas(lab: Lab, page: Any) -> None:
    """A project made outside the browser shows up on refresh; "Open canvas" opens it."""
    project = Workspace(lab.root).create_project("Scripted Film", quality="low")
    open_lab(page, lab)
    panel = studio_panel(page)
    panel.locator(".studio-refresh").click()
    item = panel.locator(".studio-project[data-project-name='Scripted Film']")
    item.wait_for(timeout=10_000)
    item.locator(".studio-open-canvas").click()
    page.locator(".jp-Notebook .studio-canvas").wait_for(timeout=120_000)
    assert any(p.suffix == ".ipynb" for p in project.path.rglob("*.ipynb"))
    # Showing the canvas is no edit: its tab is not marked unsaved.
    page.locator(".jp-NotebookPanel[data-studio-canvas-run='ran']").wait_for(timeout=60_000)
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    assert "jp-mod-dirty" not in (tab.get_attribute("class") or ""), tab.get_attribute("class")
    # selecting a project lists its shots (none yet)
    item.locator(".studio-project-name").click()  # the card, not a button
    panel.locator(".studio-shots h3").wait_for(timeout=10_000)
    # a reload restores the notebook (saved without outputs) and shows its canvas again
    page.locator(".jp-Notebook .studio-canvas .palette [data-node-type='Shot']").click()
    page.locator(".jp-Notebook .studio-canvas .svelte-flow__node").wait_for(timeout=10_000)
    page.reload()
    page.locator(".jp-NotebookPanel[data-studio-canvas-run='ran']").wait_for(timeout=60_000)
    page.locator(".jp-Notebook .studio-canvas .svelte-flow__node").wait_for(timeout=60_000)
    assert page.locator(".jp-Notebook .studio-canvas").count() == 1
    page.screenshot(path=str(ARTIFACTS / "canvas-after-reload.png"))


def test_an_edited_canvas_notebook_opens_without_running(lab: Lab, page: Any) -> None:
    """A cloned project's Canvas.ipynb is someone else's code: "Open canvas" runs nothing of
    it (its canvas cell is not the generated one) and says why."""
    from studio.project.notebook import canvas_notebook

    project = Workspace(lab.root).create_project("Cloned Film", quality="low")
    marker = lab.root / "ran.txt"
    content = canvas_notebook(project_name=project.name, title="Cloned Film")
    content["cells"][0]["source"] += f"\nopen({str(marker)!r}, 'w').write('ran')"
    (project.path / "Canvas.ipynb").write_text(json.dumps(content))
    open_lab(page, lab)
    panel = studio_panel(page)
    panel.locator(".studio-refresh").click()
    item = panel.locator(".studio-project[data-project-name='Cloned Film']")
    item.wait_for(timeout=10_000)
    item.locator(".studio-open-canvas").click()
    toast = page.locator(".Toastify__toast:has-text('opened without running')")
    toast.wait_for(timeout=60_000)
    assert "Cloned_Film/Canvas.ipynb" in toast.inner_text()
    page.locator(".jp-NotebookPanel[data-studio-canvas-run='refused']").wait_for(timeout=10_000)
    page.wait_for_timeout(2_000)
    assert not marker.exists()
    assert page.locator(".jp-Notebook .studio-canvas").count() == 0
    # nor does a reload, which restores the notebook: it runs nothing and says why again
    page.reload()
    page.locator(".jp-NotebookPanel[data-studio-canvas-run='refused']").wait_for(timeout=60_000)
    page.wait_for_timeout(2_000)
    assert not marker.exists()
    assert page.locator(".jp-Notebook .studio-canvas").count() == 0


def test_missing_git_lfs_shows_an_actionable_notification(
    browser: Any, tmp_path: Path, path_without_git_lfs: str
) -> None:
    """PRD §3.2: a lab whose PATH lacks git-lfs warns at startup, visibly and actionably."""
    root, home = tmp_path / "ws", tmp_path / "home"
    root.mkdir()
    home.mkdir()
    with running_lab(root, home, env={"PATH": path_without_git_lfs}) as no_lfs_lab:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.goto(f"{no_lfs_lab.url}/lab?reset&token={no_lfs_lab.token}")
            toast = page.locator(".Toastify__toast:has-text('Git LFS is missing')")
            toast.wait_for(timeout=60_000)
            # the install command is in the toast's visible text (toasts show ~140 characters)
            assert "sudo apt-get install git-lfs" in toast.inner_text()
            assert toast.locator("button:has-text('Check again')").count() == 1
            # every platform's instructions one click away; the notification stays
            toast.locator("button:has-text('Install instructions')").click()
            dialog = page.locator(".jp-Dialog:has(.studio-install-instructions)")
            dialog.wait_for(timeout=10_000)
            assert "brew install git-lfs" in dialog.inner_text()
            assert "git lfs install" in dialog.inner_text()
            dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
            dialog.wait_for(state="detached", timeout=10_000)
            page.wait_for_timeout(6_000)
            assert toast.is_visible()
            # "Check again" asks the server again: still missing, so a new one comes
            first = toast.get_attribute("id")
            toast.locator("button:has-text('Check again')").click()
            again = f".Toastify__toast:not([id='{first}']):has-text('Git LFS is missing')"
            page.locator(again).wait_for(timeout=10_000)

            # creating a project there fails with the server's message, shown as an error
            page.locator(".jp-LauncherCard").first.wait_for(timeout=10_000)
            launcher_tile(page).click()
            form = page.locator(".jp-Dialog .studio-project-form")
            form.locator("input[name='name']").fill("No LFS Film")
            page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
            failure = page.locator(".Toastify__toast:has-text('Could not create the project')")
            failure.wait_for(timeout=30_000)
            assert "git-lfs is not installed" in failure.inner_text()
            assert Workspace(root).projects() == []
        finally:
            context.close()


def _git_lfs_available() -> bool:
    return subprocess.run(["git", "lfs", "version"], capture_output=True).returncode == 0


def test_no_notification_when_git_lfs_is_installed(lab: Lab, page: Any) -> None:
    assert _git_lfs_available()
    # The startup check's answer arrives (so the assertions below can fail), then a moment
    # for a notification to render.
    with page.expect_response(lambda r: r.url.split("?")[0].endswith("/studio/api/v1/status"),
                              timeout=60_000) as status:  # fmt: skip
        open_lab(page, lab)
    assert status.value.ok and status.value.json()["git_lfs"]["ok"]
    page.wait_for_timeout(1_000)
    assert page.locator(".Toastify__toast:has-text('Git LFS')").count() == 0
    assert page.locator(".Toastify__toast:has-text('did not answer')").count() == 0


def test_panel_lists_shots_and_takes_with_thumbnails(lab: Lab, page: Any, make_png: Any) -> None:
    film = Workspace(lab.root).create_project("Takes Film")
    film.graph.add_node("Shot", id="shot-1", prompt="lanterns", scene=1, shot=10)
    film.graph.save()
    takes = []
    for color in ((200, 0, 0), (0, 200, 0)):
        take = film.new_take(scene=1, shot=10, ext="png", prompt="lanterns", seed=7)
        take.write_bytes(make_png(width=64, height=36, color=color))
        takes.append(take)
    film.set_active_take(takes[1])

    open_lab(page, lab)
    panel = studio_panel(page)
    panel.locator(".studio-refresh").click()
    item = panel.locator(".studio-project[data-project-name='Takes Film']")
    item.locator(".studio-project-name").click()  # the card, not a button
    shot = panel.locator(".studio-shot[data-scene='1'][data-shot='10']")
    shot.wait_for(timeout=10_000)
    assert "2 takes" in shot.inner_text()
    shot.click()

    grid = panel.locator(".studio-take-grid")
    grid.wait_for(timeout=10_000)
    assert grid.locator(".studio-take").count() == 2
    active = grid.locator(".studio-take.studio-mod-active")
    assert active.count() == 1
    assert active.get_attribute("data-take") == takes[1].name
    assert "active" in active.inner_text()
    # thumbnails come through the authenticated media route (fetched as blobs)
    for thumb in grid.locator("img.studio-take-thumbnail").all():
        thumb.wait_for(timeout=10_000)
        loaded = "img => img.complete && img.naturalWidth > 0"
        page.wait_for_function(loaded, arg=thumb.element_handle(), timeout=10_000)
        assert (thumb.get_attribute("src") or "").startswith("blob:")
    # a click on a take opens it full-size in a tab (JupyterLab's image viewer)
    active.locator("figure").click()
    tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")
    page.wait_for_function(
        "name => document.querySelector('#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current')"
        "?.textContent.includes(name)",
        arg=takes[1].name,
        timeout=10_000,
    )
    assert takes[1].name in tab.inner_text()
    page.locator(".jp-ImageViewer img").wait_for(timeout=10_000)


def test_a_slow_answer_for_an_earlier_shot_does_not_replace_the_chosen_one(
    lab: Lab, page: Any, make_png: Any
) -> None:
    """Choosing shot 10, then shot 20 before 10's takes arrive: the grid is shot 20's."""
    film = Workspace(lab.root).create_project("Quick Film")
    for shot in (10, 20):
        take = film.new_take(scene=1, shot=shot, ext="png", prompt="x")
        take.write_bytes(make_png(width=32, height=18))

    held: list[Any] = []  # shot 10's request, answered only after shot 20's grid is shown
    page.route(lambda url: "/Quick_Film/takes/1/10" in url, lambda route: held.append(route))
    open_lab(page, lab)
    panel = studio_panel(page)
    panel.locator(".studio-refresh").click()
    panel.locator(".studio-project[data-project-name='Quick Film'] .studio-project-name").click()
    panel.locator(".studio-shot[data-shot='10']").click()
    panel.locator(".studio-shot[data-shot='20']").click()
    panel.locator(".studio-take-grid").wait_for(timeout=10_000)
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the shot 10 request was not made"
    with page.expect_response(lambda r: "/Quick_Film/takes/1/10" in r.url):
        held[0].continue_()
    page.wait_for_timeout(1_000)  # shot 10's answer has come (and must have been dropped)
    assert panel.locator(".studio-take-grid").count() == 1
    names = [t.get_attribute("data-take") for t in panel.locator(".studio-take").all()]
    assert names == ["SHOT-020_v01_take01.png"]
    assert "Shot 20" in panel.locator(".studio-takes h3").inner_text()


def test_panel_lists_a_broken_project_with_its_error(lab: Lab, page: Any) -> None:
    """A project whose project.json does not open is listed as broken, with why: never
    silently dropped, and nothing is offered that cannot work (no Open canvas)."""
    broken = Workspace(lab.root).create_project("Broken Film")
    (broken.path / "project.json").write_text('{"title": "no uuid"}')
    try:
        open_lab(page, lab)
        panel = studio_panel(page)
        panel.locator(".studio-refresh").click()
        item = panel.locator(f".studio-project.studio-mod-broken[data-project-id='{broken.name}']")
        item.wait_for(timeout=10_000)
        text = item.inner_text()
        assert "broken" in text and "project.json" in text and "uuid" in text
        assert item.locator(".studio-open-canvas").count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        panel.screenshot(path=str(ARTIFACTS / "panel-broken-project.png"))  # to look at
    finally:
        shutil.rmtree(broken.path)


def main_tab_labels(page: Any) -> list[str]:
    labels = page.locator("#jp-main-dock-panel .lm-TabBar-tab .lm-TabBar-tabLabel")
    return [str(text) for text in labels.all_inner_texts()]


def test_two_canvases_open_with_distinct_tab_titles_and_running_kernels(
    lab: Lab, page: Any
) -> None:
    """Two projects of one title: each canvas tab names its project (and, the title being
    shared, its folder), the kernels start and run their canvases; a title changed in the
    panel relabels its tab."""
    workspace = Workspace(lab.root)
    first = workspace.create_project("Harbour Film", quality="low")
    second = workspace.create_project("Harbour Film", quality="low")
    assert (first.name, second.name) == ("Harbour_Film", "Harbour_Film_2")
    open_lab(page, lab)
    panel = studio_panel(page)
    panel.locator(".studio-refresh").click()
    for project in (first, second):
        item = panel.locator(f".studio-project[data-project-id='{project.name}']")
        item.wait_for(timeout=10_000)
        item.locator(".studio-open-canvas").click()
        notebook = page.locator(f".jp-NotebookPanel[data-studio-project='{project.name}']")
        notebook.wait_for(timeout=60_000)
        # the kernel started in the project's folder and ran the canvas cell
        page.locator(
            f".jp-NotebookPanel[data-studio-project='{project.name}'][data-studio-canvas-run='ran']"
        ).wait_for(timeout=120_000)
        notebook.locator(".studio-canvas").wait_for(timeout=60_000)
        wanted = f"Harbour Film ({project.name}) — Canvas"
        page.wait_for_function(
            "wanted => document.querySelector('#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current"
            " .lm-TabBar-tabLabel')?.textContent === wanted",
            arg=wanted,
            timeout=10_000,
        )
    labels = main_tab_labels(page)
    assert "Harbour Film (Harbour_Film) — Canvas" in labels
    assert "Harbour Film (Harbour_Film_2) — Canvas" in labels
    assert not [label for label in labels if label == "Canvas.ipynb"], labels
    assert {nb.name for nb in second.path.glob("*.ipynb")} == {"Canvas.ipynb"}  # not renamed
    with urllib.request.urlopen(f"{lab.url}/api/sessions?token={lab.token}") as reply:
        sessions = json.loads(reply.read())
    kernels = {s["path"]: s["kernel"]["execution_state"] for s in sessions}
    for project in (first, second):  # one live kernel each, for the file as it is named
        assert kernels.get(f"Projects/{project.name}/Canvas.ipynb") in ("idle", "busy"), kernels

    # A new title from the panel's settings: its tab follows; the other's keeps its own.
    item = panel.locator(f".studio-project[data-project-id='{second.name}']")
    item.locator(".studio-edit-settings").click()
    form = panel.locator(f".studio-settings-form[data-project-id='{second.name}']")
    form.locator("input[name='title']").fill("Harbour Noir")
    form.locator(".studio-settings-save").click()
    panel.locator(".studio-settings-message", has_text="Saved.").wait_for(timeout=20_000)
    assert second.title == "Harbour Noir"
    page.wait_for_function(
        "() => [...document.querySelectorAll('#jp-main-dock-panel .lm-TabBar-tabLabel')]"
        ".some(l => l.textContent === 'Harbour Noir — Canvas')",
        timeout=10_000,
    )
    assert "Harbour Film — Canvas" in main_tab_labels(page)  # no longer shared: no folder

    # A reload restores both tabs (JupyterLab's layout restorer), labelled again.
    page.reload()
    page.wait_for_function(
        "() => { const labels = [...document.querySelectorAll("
        "'#jp-main-dock-panel .lm-TabBar-tabLabel')].map(l => l.textContent);"
        " return labels.includes('Harbour Noir — Canvas')"
        " && labels.includes('Harbour Film — Canvas'); }",
        timeout=60_000,
    )
    assert {nb.name for nb in first.path.glob("*.ipynb")} == {"Canvas.ipynb"}
    assert {nb.name for nb in second.path.glob("*.ipynb")} == {"Canvas.ipynb"}


def test_panel_edits_the_project_settings_under_the_manifest_lock(lab: Lab, page: Any) -> None:
    """The panel's Settings form changes quality, aspect ratio and frame rate in project.json
    (its version goes up by one); a change saved elsewhere meanwhile is a conflict the form
    says, showing the settings as they are now, and nothing of the stale form is written."""
    project = Workspace(lab.root).create_project("Settings Film", quality="low")
    open_lab(page, lab)
    panel = studio_panel(page)
    panel.locator(".studio-refresh").click()
    item = panel.locator(f".studio-project[data-project-id='{project.name}']")
    item.wait_for(timeout=10_000)
    assert "low · 16:9" in item.locator(".studio-project-meta").inner_text()
    item.locator(".studio-edit-settings").click()
    form = panel.locator(f".studio-settings-form[data-project-id='{project.name}']")
    form.wait_for(timeout=10_000)
    assert form.locator("select[name='frame_rate'] option").all_inner_texts() == [
        "23.976", "24", "25", "29.97 DF", "30"
    ]  # fmt: skip
    form.locator("select[name='quality']").select_option("high")
    form.locator("select[name='aspect_ratio']").select_option("21:9")
    form.locator("select[name='frame_rate']").select_option("25")
    form.locator(".studio-settings-save").click()
    panel.locator(".studio-settings-message", has_text="Saved.").wait_for(timeout=20_000)
    manifest = json.loads(project.manifest_path.read_text())
    assert manifest["project_settings"] == {
        "quality": "high", "aspect_ratio": "21:9", "frame_rate": "25"
    }  # fmt: skip
    assert manifest["version"] == 2 and manifest["title"] == "Settings Film"  # title untouched
    item = panel.locator(f".studio-project[data-project-id='{project.name}']")
    item.locator(".studio-project-meta", has_text="high · 21:9").wait_for(timeout=10_000)

    # Python saves meanwhile; the open form (at version 2) is now stale.
    form = panel.locator(f".studio-settings-form[data-project-id='{project.name}']")
    assert form.get_attribute("data-version") == "2"
    project.update_settings(aspect_ratio="9:16")
    form.locator("select[name='quality']").select_option("low")
    form.locator(".studio-settings-save").click()
    message = panel.locator(".studio-settings-message.studio-warning")
    message.wait_for(timeout=20_000)
    assert "changed elsewhere" in message.inner_text()
    manifest = json.loads(project.manifest_path.read_text())
    assert manifest["project_settings"]["quality"] == "high"  # the stale form wrote nothing
    assert manifest["version"] == 3
    form = panel.locator(
        f".studio-settings-form[data-project-id='{project.name}'][data-version='3']"
    )
    form.wait_for(timeout=10_000)
    assert form.locator("select[name='aspect_ratio']").input_value() == "9:16"  # theirs, shown
    form.locator("select[name='quality']").select_option("low")
    form.locator(".studio-settings-save").click()
    panel.locator(".studio-settings-message", has_text="Saved.").wait_for(timeout=20_000)
    settings = project.manifest.project_settings
    assert (settings.quality, settings.aspect_ratio) == ("low", "9:16")
