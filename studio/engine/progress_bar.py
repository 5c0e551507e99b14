"""A job's live progress bar for notebooks that do not use the canvas (ipywidgets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Watcher = Callable[[dict[str, Any]], None]


def progress_bar(title: str, follow: Callable[[Watcher], None]) -> Any:
    """An ipywidgets bar and label showing a job's state, percent and step, then its take (a
    render's film) or its error. ``follow(watcher)`` calls ``watcher(status)`` at once and
    after every event of the job (``Job.follow``); ``status`` is the job's status as a node
    shows it."""
    import ipywidgets as widgets  # only where a bar is shown: workers and servers never load it

    bar = widgets.FloatProgress(min=0, max=100, description=title)
    label = widgets.Label("queued")

    def show(status: dict[str, Any]) -> None:
        state = status.get("state", "queued")
        bar.value = float(status.get("progress", 100 if state == "success" else 0))
        bar.bar_style = {"success": "success", "failed": "danger"}.get(state, "info")
        made = status.get("take") or status.get("export")  # a shot's take, a render's film
        detail = made or status.get("error") or status.get("step") or ""
        label.value = f"{state} {detail}".strip()

    follow(show)
    return widgets.HBox([bar, label])
