"""The canvas notebook, run in a real kernel and saved through the server's contents API,
is saved without its run: the project's working tree stays clean and the notebook still
opens the canvas. Other notebooks are saved as they are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from studio import Project
from studio.project.notebook import NOTEBOOK_FILE, canvas_cell_is_generated
from tests.conftest import git_out

WIDGET = "application/vnd.jupyter.widget-view+json"


async def save(jp_fetch: Any, path: str, content: dict[str, Any]) -> None:
    model = {"type": "notebook", "format": "json", "content": content}
    response = await jp_fetch("api", "contents", path, method="PUT", body=json.dumps(model))
    assert response.code in (200, 201)  # saved, or created


@pytest.mark.slow
async def test_a_run_canvas_notebook_is_saved_clean(
    jp_fetch: Any, studio_server: Any, film: Project, jp_root_dir: Path
):
    path = film.path / NOTEBOOK_FILE
    assert git_out(film.path, "ls-files", "--", NOTEBOOK_FILE).strip() == NOTEBOOK_FILE
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    await NotebookClient(
        notebook, timeout=120, kernel_name="python3",
        resources={"metadata": {"path": str(film.path)}},
    ).async_execute()  # fmt: skip
    ran = notebook.cells[0]
    assert ran.execution_count == 1 and any(WIDGET in o.get("data", {}) for o in ran.outputs)
    assert "version" in notebook.metadata.language_info  # the kernel filled it in

    await save(jp_fetch, path.relative_to(jp_root_dir).as_posix(), notebook)

    assert git_out(film.path, "status", "--porcelain", "--", NOTEBOOK_FILE) == ""
    saved = json.loads(path.read_text())
    assert saved["cells"][0]["outputs"] == [] and saved["cells"][0]["execution_count"] is None
    assert canvas_cell_is_generated(path)  # it still opens the canvas


async def test_other_notebooks_keep_their_outputs(
    jp_fetch: Any, studio_server: Any, film: Project, jp_root_dir: Path
):
    canvas = json.loads((film.path / NOTEBOOK_FILE).read_text())
    canvas["cells"][0]["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": ["mine\n"]}
    ]
    canvas["cells"][0]["execution_count"] = 3
    (jp_root_dir / "elsewhere").mkdir()  # the same notebook, but not in a project
    for path in ("elsewhere/Canvas.ipynb", f"Projects/{film.name}/Notes.ipynb"):
        await save(jp_fetch, path, canvas)
        kept = json.loads((jp_root_dir / path).read_text())["cells"][0]
        assert kept["execution_count"] == 3 and kept["outputs"][0]["text"] == ["mine\n"]
