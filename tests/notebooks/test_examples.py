"""The example notebooks of ``notebooks/`` run top to bottom as a user runs them, each in a
kernel of its own: real Docker containers (the draft pipeline's image), a real Dask cluster
(the kernel's own, or the Team cluster notebook's scheduler and worker), real git + LFS."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import studio
from studio import Workspace

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
pytestmark = pytest.mark.slow


@pytest.fixture
def draft_image(build_pipeline_image: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The t2i-draft image built once (the session's), generations in Docker, and the
    notebooks' temporary workspaces under ``tmp_path`` (their kernels inherit TMPDIR)."""
    from studio.pipelines import get_pipeline

    build_pipeline_image(get_pipeline("t2i-draft"))
    monkeypatch.setenv("STUDIO_RUNNER", "docker")
    monkeypatch.delenv("STUDIO_SCHEDULER", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return tmp_path


def run_notebook(name: str, cwd: Path) -> tuple[Any, float]:
    """Execute ``notebooks/<name>`` (nbclient, kernel python3); the executed notebook (no
    cell may fail) and its time."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)  # type: ignore[no-untyped-call]
    started = time.perf_counter()
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    seconds = time.perf_counter() - started
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    print(f"{name}: {seconds:.1f} s")
    return notebook, seconds


def only_workspace(root: Path) -> Workspace:
    [workspace_file] = root.rglob("workspace.json")
    return Workspace(workspace_file.parent)


def outputs(notebook: Any, mime: str) -> list[Any]:
    return [o for c in notebook.cells for o in c.get("outputs", []) if mime in o.get("data", {})]


def test_canvas_tour(draft_image: Path) -> None:
    notebook, _ = run_notebook("Canvas_tour.ipynb", draft_image)
    assert len(outputs(notebook, "application/vnd.jupyter.widget-view+json")) == 1  # the canvas
    [project] = only_workspace(draft_image).projects()
    takes = project.takes(scene=1, shot=10)
    assert [t.name for t in takes] == ["SHOT-010_v01_take01.png", "SHOT-010_v01_take02.png"]
    assert [t.provenance.seed for t in takes if t.provenance] == [7, 8]
    active = project.active_take(scene=1, shot=10)
    assert active is not None and active.name == takes[0].name  # pinned over the newer one


def test_prompt_sweep(draft_image: Path) -> None:
    run_notebook("Prompt_sweep.ipynb", draft_image)
    [project] = only_workspace(draft_image).projects()
    [sweep] = project.sweeps()
    assert len(sweep.cells) == 12
    results = sweep.results()
    assert list(results["status"]) == ["success"] * 12
    assert sorted({(c.prompt, c.seed) for c in sweep.cells}) == sorted(
        (p, s) for p in {c.prompt for c in sweep.cells} for s in (1, 2, 3, 4)
    )
    active = project.active_take(scene=1, shot=10)
    assert active is not None and active.name in set(results["take"])
    [film] = (project.path / "06_Exports").glob("*.mp4")
    assert film.stat().st_size > 0


def test_batch_render(draft_image: Path) -> None:
    """Run by the studio's batch runner in a project, as ``studio batch`` runs it."""
    project = Workspace(draft_image / "films").create_project("Night Market", quality="low")
    started = time.perf_counter()
    result = studio.batch(
        NOTEBOOKS / "Batch_render.ipynb",
        parameters={"prompt": "lanterns at dusk", "seed": 3, "quality": "low"},
        project=project,
    )
    print(f"Batch_render.ipynb: {time.perf_counter() - started:.1f} s")
    assert result.status == "success" and result.output.parent.name == "Batch"
    [take] = project.takes(scene=1, shot=10)
    assert take.provenance is not None
    assert (take.provenance.prompt, take.provenance.seed) == ("lanterns at dusk", 3)
    import nbformat

    executed = nbformat.read(result.output, as_version=4)  # type: ignore[no-untyped-call]
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert str(take.path) in printed  # it says where the take went


def test_team_cluster(draft_image: Path) -> None:
    notebook, _ = run_notebook("Team_cluster.ipynb", draft_image)
    workspace = only_workspace(draft_image)
    [project] = workspace.projects()
    [job] = project.jobs()
    assert job.state == "success" and job.info["scheduler"].startswith("tcp://127.0.0.1:")
    assert [t.name for t in project.takes(scene=1, shot=10)] == ["SHOT-010_v01_take01.png"]
    html = "".join(o["data"]["text/html"] for o in outputs(notebook, "text/html"))
    assert "16 GB" in html  # the worker's declared VRAM, as the engine shows it
