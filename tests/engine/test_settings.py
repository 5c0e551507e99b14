"""Where the engine's settings come from (studio.engine.settings)."""

from __future__ import annotations

import json

from studio.engine.settings import project_setting


def test_the_scheduler_comes_from_the_environment_else_workspace_json(
    project, workspace, monkeypatch
):
    monkeypatch.delenv("STUDIO_SCHEDULER", raising=False)
    assert project_setting(project, "scheduler") is None  # a local cluster
    config = workspace.path / "workspace.json"
    config.write_text(
        json.dumps({**json.loads(config.read_text()), "scheduler": "tcp://team:8786"})
    )
    assert project_setting(project, "scheduler") == "tcp://team:8786"
    monkeypatch.setenv("STUDIO_SCHEDULER", "tcp://mine:8786")
    assert project_setting(project, "scheduler") == "tcp://mine:8786"
