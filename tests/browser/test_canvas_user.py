"""The canvas as a new user meets it (issue 16), in a real JupyterLab + Chromium: shots get
their own numbers, refusals say why, video takes have previews, palette entries all work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from studio import Project, Workspace
from tests.browser.jupyter import (
    ARTIFACTS,
    Lab,
    chromium_problem,
    open_and_run,
    running_lab,
    write_notebook,
)
from tests.browser.test_canvas import drag, handle, node
from tests.browser.test_lab_extension import studio_panel
from tests.conftest import require_or_skip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab whose root folder is a studio workspace (as `studio lab` serves it): the kernel's
    canvas and the server extension see the same projects."""
    problem = chromium_problem()
    if problem:
        require_or_skip("BROWSER", problem)
    root = tmp_path_factory.mktemp("studio-workspace")
    Workspace(root)
    with running_lab(root, tmp_path_factory.mktemp("lab-home")) as running:
        yield running


def open_canvas(
    page: Any,
    lab: Lab,
    title: str,
    *,
    engine: bool = False,
    prepare: Callable[[Project], None] | None = None,
) -> tuple[Project, Any]:
    """A new project's canvas in a notebook of the lab, shown in ``page``."""
    workspace = Workspace(lab.root)
    project = workspace.create_project(title, quality="low")
    if prepare is not None:
        prepare(project)
    notebook = f"{project.name}.ipynb"
    write_notebook(
        lab.root / notebook,
        f"import studio\nproject = studio.Workspace({str(workspace.path)!r})"
        f".open_project({project.name!r})\ncanvas = project.canvas(engine={engine})\ncanvas",
    )
    open_and_run(page, lab, notebook)
    canvas = page.locator(".studio-canvas")
    canvas.wait_for(timeout=60_000)
    return project, canvas


def saved_graph(page: Any, project: Project) -> Any:
    """The kernel's graph as its autosave wrote it (the canvas file)."""
    page.wait_for_timeout(300)
    page.locator(".studio-canvas [data-save-status='saved']").wait_for(timeout=10_000)
    return project.reload_graph()


def field(node_locator: Any, name: str) -> Any:
    return node_locator.locator(f"[data-field='{name}']")


def test_two_shots_get_their_own_folders(lab: Lab, page: Any) -> None:
    project, canvas = open_canvas(page, lab, "Two Shots")
    canvas.locator(".palette [data-node-type='Shot']").click()
    node(page, "Shot").wait_for()
    canvas.locator(".palette [data-node-type='Shot']").click()
    second = node(page, "Shot", 1)
    second.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"input[data-field='shot']\")]"
        ".map(i => i.value).join() === '10,20'",
        timeout=10_000,
    )
    numbers = {(n.data["scene"], n.data["shot"]) for n in saved_graph(page, project).nodes}
    assert numbers == {(1, 10), (1, 20)}

    # giving the second shot the first one's number is refused, with a toast naming the node
    shot_field = field(second, "shot")
    shot_field.fill("10")
    shot_field.press("Tab")  # the change is sent as the field is left
    toast = canvas.locator(".toast", has_text="is taken by node")
    toast.wait_for(timeout=10_000)
    first_id = next(n.id for n in saved_graph(page, project).nodes if n.data["shot"] == 10)
    assert f"Scene 1, Shot 10 is taken by node '{first_id}'" in toast.inner_text()
    assert "shot 30 is free" in toast.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    canvas.screenshot(path=str(ARTIFACTS / "shot-number-taken.png"))
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"input[data-field='shot']\")]"
        ".map(i => i.value).join() === '10,20'",
        timeout=10_000,
    )
    assert sorted(n.data["shot"] for n in saved_graph(page, project).nodes) == [10, 20]


def test_a_video_take_has_a_poster_and_plays_in_the_node_and_the_panel(
    lab: Lab, page: Any, make_mp4: Callable[..., bytes]
) -> None:
    def video_take(project: Project) -> None:
        project.graph.add_node("Shot", id="shot-v", prompt="a tram", scene=2, shot=20)
        project.graph.save()
        take = project.new_take(scene=2, shot=20, ext="mp4", prompt="a tram")
        take.write_bytes(make_mp4(color="blue", size="320x180", seconds=2))
        project.commit_takes([take])

    project, canvas = open_canvas(page, lab, "Video Film", prepare=video_take)
    shot = node(page, "Shot")
    shot.wait_for(timeout=30_000)
    poster = shot.locator(".preview[data-preview='video'] img.thumbnail")
    poster.wait_for(timeout=30_000)
    assert (poster.get_attribute("src") or "").startswith("data:image/jpeg;base64,")
    assert "no take yet" not in shot.inner_text()
    canvas.screenshot(path=str(ARTIFACTS / "video-poster.png"))
    shot.locator(".preview button.play").click()
    player = shot.locator("video.player")
    player.wait_for(timeout=10_000)
    # streamed through the lab's studio media route: the browser decodes real frames
    page.wait_for_function("v => v.readyState >= 2", arg=player.element_handle(), timeout=30_000)
    source = player.evaluate("v => v.currentSrc")
    relative = "03_Renders/SCENE_02/SHOT_020/SHOT-020_v01_take01.mp4"
    assert source == f"{lab.url}/studio/api/v1/projects/{project.name}/media/{relative}"
    assert player.evaluate("v => [v.videoWidth, v.videoHeight]") == [320, 180]
    ARTIFACTS.mkdir(exist_ok=True)
    canvas.screenshot(path=str(ARTIFACTS / "video-playing.png"))

    # the Studio side panel: the same take with its poster, played on demand
    panel = studio_panel(page)
    panel.locator(".studio-refresh").click()
    card = panel.locator(f".studio-project[data-project-name='{project.title}']")
    card.locator(".studio-project-name").click()
    panel.locator(".studio-shot[data-scene='2'][data-shot='20']").click()
    take = panel.locator(".studio-take[data-take='SHOT-020_v01_take01.mp4']")
    take.locator("img.studio-take-thumbnail").wait_for(timeout=10_000)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0",
        arg=take.locator("img.studio-take-thumbnail").element_handle(),
        timeout=10_000,
    )
    take.locator("button.studio-take-play").click()
    video = take.locator("video.studio-take-video")
    page.wait_for_function("v => v.readyState >= 2", arg=video.element_handle(), timeout=30_000)
    page.locator("#studio-panel").screenshot(path=str(ARTIFACTS / "video-panel.png"))


def test_a_refused_connection_says_why(lab: Lab, page: Any) -> None:
    def nodes(project: Project) -> None:
        from studio.pipelines import register_node_types

        register_node_types()
        graph = project.graph
        graph.add_node("Shot", id="shot-a", position=(0, 0))
        graph.add_node("Shot", id="shot-b", position=(420, 0))
        graph.add_node("pipeline.t2i-draft", id="frame", position=(-380, 40))  # an older canvas
        graph.save()

    project, canvas = open_canvas(page, lab, "Refusals", prepare=nodes)
    a, b = page.locator("[data-id='shot-a']"), page.locator("[data-id='shot-b']")
    frame = page.locator("[data-id='frame']")
    for each in (a, b, frame):
        each.wait_for(timeout=30_000)
    page.wait_for_timeout(400)  # the first fit-view

    # Output (Video | Image) into Prompt (String): refused while drawn, and the toast says why
    drag(page, handle(a, "source", "output"), handle(b, "target", "prompt"))
    toast = canvas.locator(".toast", has_text="Connection refused")
    toast.wait_for(timeout=5_000)
    assert "Shot's Output gives Video or Image; Shot's Prompt takes String" in toast.inner_text()
    assert page.locator(".svelte-flow__edge").count() == 0
    canvas.screenshot(path=str(ARTIFACTS / "connection-refused.png"))
    toast.locator("button").click()

    # a pipeline node into a Shot's Image: it never runs, so it is refused too
    drag(page, handle(frame, "source", "image"), handle(b, "target", "image"))
    toast = canvas.locator(".toast", has_text="does not run on its own")
    toast.wait_for(timeout=5_000)
    assert "Pipeline node set to “t2i-draft”" in toast.inner_text()
    assert page.locator(".svelte-flow__edge").count() == 0

    # a Shot without a Pipeline says what chooses it; a compatible connection is made
    assert "the project's quality map chooses" in a.inner_text()
    assert "Pipeline *" not in a.inner_text()  # not required: the quality map answers
    drag(page, handle(a, "source", "output"), handle(b, "target", "image"))
    page.locator(".svelte-flow__edge").first.wait_for(timeout=5_000)
    assert [(e.source, e.target) for e in saved_graph(page, project).edges] == [
        ("shot-a", "shot-b")
    ]


def test_every_palette_entry_adds_a_node_that_works(lab: Lab, page: Any) -> None:
    project, canvas = open_canvas(page, lab, "Palette Tour")
    entries = canvas.locator(".palette button.item")
    count = entries.count()
    assert count >= 21  # the built-in types, the four drafts and the seven model pipelines
    ARTIFACTS.mkdir(exist_ok=True)
    canvas.locator(".palette").screenshot(path=str(ARTIFACTS / "palette.png"))
    expected: list[tuple[str, str]] = []
    for index in range(count):
        entry = entries.nth(index)
        name, adds = entry.get_attribute("data-node-type"), entry.get_attribute("data-adds")
        assert name and adds and not adds.startswith("pipeline."), (name, adds)
        entry.click()
        expected.append((name, adds))
        page.wait_for_function(
            "n => document.querySelectorAll('.svelte-flow__node').length === n", arg=index + 1
        )
    graph = saved_graph(page, project)
    made = [n.type for n in graph.nodes]
    assert made == [adds for _, adds in expected]
    chosen = {n.data.get("pipeline_id") for n in graph.nodes if n.type == "Pipeline"}
    assert {"t2i-draft", "i2v-draft"} <= chosen  # the pipelines' entries choose them
    assert {"t2i-sd1.5", "t2i-flux-schnell", "t2i-flux-dev-fp16", "t2v-wan2.1-1.3b",
            "t2v-wan2.1", "i2v-ltx", "t2v-ltx-13b"} <= chosen  # fmt: skip
    by_entry = dict(expected)
    assert by_entry["pipeline.sr-lanczos"] == "SuperResolution"
    assert by_entry["pipeline.restore-ffmpeg"] == "VideoRestoration"
    assert not page.locator(".studio-canvas .toast.error").count()


def _zoom(page: Any) -> float:
    transform = page.locator(".svelte-flow__viewport").evaluate("v => v.style.transform")
    return float(transform.split("scale(")[1].rstrip(")"))


def _uncovered(page: Any, locator: Any) -> bool:
    """Whether the middle of ``locator`` is what the user would click there."""
    return bool(
        locator.evaluate(
            "el => { const r = el.getBoundingClientRect();"
            " const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
            " return top === el || el.contains(top); }"
        )
    )


def test_new_nodes_land_in_free_space_and_a_shot_fits_the_canvas(lab: Lab, page: Any) -> None:
    _, canvas = open_canvas(page, lab, "Placement")
    for index in range(3):
        canvas.locator(".palette [data-node-type='Shot']").click()
        node(page, "Shot", index).wait_for()
        page.wait_for_timeout(300)
    boxes = [node(page, "Shot", i).bounding_box() for i in range(3)]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
            )  # fmt: skip
            assert apart, (a, b)
    canvas.locator(".toolbar button", has_text="Fit").click()
    page.wait_for_timeout(400)
    canvas.screenshot(path=str(ARTIFACTS / "placement.png"))
    for index in range(3):  # every Generate button can be clicked: nothing lies on it
        assert _uncovered(page, node(page, "Shot", index).locator("button.generate"))

    # one Shot, shown at 100 %: the whole node fits the cell's canvas, and no minimap covers it
    flow_box = canvas.locator(".studio-flow").bounding_box()
    shot_box = node(page, "Shot").bounding_box()
    assert shot_box["height"] < flow_box["height"] - 40, (shot_box, flow_box)
    assert canvas.locator(".svelte-flow__minimap").count() == 0
    canvas.locator(".toolbar button.map").click()
    canvas.locator(".svelte-flow__minimap").wait_for()  # on demand

    # Fit never zooms out until nothing is readable
    for _ in range(9):
        canvas.locator(".palette [data-node-type='Shot']").click()
        page.wait_for_timeout(150)
    canvas.locator(".toolbar button", has_text="Fit").click()
    page.wait_for_timeout(400)
    assert _zoom(page) >= 0.5
    canvas.screenshot(path=str(ARTIFACTS / "placement-fit.png"))


def test_editing_the_aspect_ratio_changes_the_next_takes_size(
    lab: Lab, page: Any, builtin_images: None
) -> None:
    from PIL import Image

    def shot_with_pipeline(project: Project) -> None:
        graph = project.graph
        graph.add_node("Pipeline", id="pipe", pipeline_id="t2i-draft", position=(-320, 0))
        graph.add_node("Shot", id="shot", prompt="a night market", position=(0, 0))
        graph.connect("pipe", "pipeline", "shot", "pipeline")
        graph.save()

    project, canvas = open_canvas(page, lab, "Ratios", engine=True, prepare=shot_with_pipeline)
    shot = page.locator("[data-id='shot']")
    shot.wait_for(timeout=30_000)
    settings = canvas.locator(".toolbar button.settings")
    assert settings.inner_text().strip() == "low · 16:9"
    assert canvas.locator(".toolbar .folder").inner_text().strip() == project.name

    select = shot.locator("select[data-field='active_take']")

    def generate() -> tuple[int, int]:
        """A new take's size (it becomes the active take: none is pinned)."""
        before = select.input_value()
        shot.locator("button.generate").click()
        page.wait_for_function(
            "before => { const v = document.querySelector(\"select[data-field='active_take']\")"
            "?.value; return v && v !== before; }",
            arg=before,
            timeout=120_000,
        )
        with Image.open(project.shot_path(scene=1, shot=10) / select.input_value()) as image:
            width, height = image.size
            return int(width), int(height)

    assert generate() == (1024, 576)  # 16:9

    settings.click()
    form = canvas.locator("form.settings-form")
    form.locator("select[name='aspect_ratio']").select_option("21:9")
    form.locator("select[name='quality']").select_option("standard")
    form.locator("select[name='frame_rate']").select_option("25")
    canvas.screenshot(path=str(ARTIFACTS / "settings-form.png"))
    form.locator("button.apply").click()
    canvas.locator(".toast", has_text="Project settings saved").wait_for(timeout=10_000)
    assert project.manifest.project_settings.frame_rate == "25"
    # A new Assembler takes the project's frame rate, not the registry's 24.
    canvas.locator(".palette [data-node-type='VSEAssembler']").click()
    page.wait_for_function(
        "() => document.querySelector(\"select[data-field='frame_rate']\")?.value === '25'",
        timeout=10_000,
    )
    page.wait_for_function(
        "() => document.querySelector('.toolbar button.settings').textContent.trim()"
        " === 'standard · 21:9'",
        timeout=10_000,
    )
    saved = project.manifest.project_settings
    assert (saved.quality, saved.aspect_ratio) == ("standard", "21:9")
    assert generate() == (1024, 439)  # 21:9, not 16:9
    assert select.input_value() == "SHOT-010_v02_take01.png"  # another look: a new version


def test_the_canvas_opens_full_size_in_its_own_tab(lab: Lab, page: Any) -> None:
    _, canvas = open_canvas(page, lab, "Full Size")
    cell_height = canvas.bounding_box()["height"]
    canvas.locator(".toolbar button.open-tab").click()
    tab_canvas = page.locator(".jp-LinkedOutputView .studio-canvas")
    tab_canvas.wait_for(timeout=30_000)
    page.wait_for_timeout(500)  # the tab's size is read as it settles
    full = tab_canvas.bounding_box()
    tab = page.locator(".jp-LinkedOutputView").bounding_box()
    assert full["height"] > cell_height + 100, (full, cell_height)  # the tab, not 640 px
    assert abs(tab["y"] + tab["height"] - (full["y"] + full["height"])) < 40, (tab, full)
    current = page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current").inner_text()
    assert "canvas" in current  # a tab of its own, named after the notebook
    assert tab_canvas.locator(".toolbar button.open-tab").count() == 0  # in a tab already
    # the same widget: a Shot added in the tab appears in the cell's canvas too
    tab_canvas.locator(".palette [data-node-type='Shot']").click()
    page.locator(".jp-LinkedOutputView .svelte-flow__node").first.wait_for(timeout=10_000)
    page.wait_for_function(
        "() => document.querySelectorAll('.svelte-flow__node').length === 2", timeout=10_000
    )
    page.screenshot(path=str(ARTIFACTS / "canvas-tab.png"))
