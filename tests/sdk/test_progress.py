"""progress(), progress_bar() and the tqdm hook, seen from the runner side (real subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

from studio.pipelines import load_pipeline
from studio.runner.base import create_job
from studio.runner.contract import ProgressEvent
from studio.runner.process import ProcessRunner

ENTRYPOINT = """
from pathlib import Path
from tqdm import tqdm
from studio.sdk import Context, progress, progress_bar, serve

def predict(ctx: Context, *, steps: int = 4) -> dict[str, Path]:
    progress(0, 3, "start")
    for _ in progress_bar(range(steps), desc="bar"):
        pass
    for _ in tqdm(range(steps), desc="tqdm", mininterval=0, miniters=1):
        pass
    out = ctx.outputs_dir / "done.txt"
    out.write_text("done")
    return {"result": out}

if __name__ == "__main__":
    serve(predict)
"""


def test_progress_sources_become_events(tmp_path: Path):
    folder = tmp_path / "progressive"
    folder.mkdir()
    (folder / "entrypoint.py").write_text(ENTRYPOINT)
    (folder / "requirements.txt").write_text("tqdm\n")  # its own environment has only that
    manifest = {
        "id": "progressive",
        "title": "Progress",
        "task": "generate-image",
        "inputs": [{"name": "steps", "type": "Integer", "default": 4, "minimum": 1}],
        "outputs": [{"name": "result", "type": "String"}],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    pipeline = load_pipeline(folder)
    events: list[ProgressEvent] = []
    with ProcessRunner() as runner:
        job = create_job(pipeline, {"steps": 4}, job_dir=tmp_path / "job")
        result = runner.run(
            pipeline, job, on_event=lambda e: events.append(e) if e.type == "progress" else None
        )
    assert result.ok, result.error
    by_source: dict[str, list[tuple[int, int | None]]] = {}
    for event in events:
        by_source.setdefault(event.message, []).append((event.step, event.total))
    assert by_source["start"] == [(0, 3)]
    assert by_source["bar"] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert by_source["tqdm"][-1] == (4, 4)  # the hook reports tqdm's own bar
