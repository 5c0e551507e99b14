"""A job's notebook progress bar (studio.engine.progress_bar), fed statuses by hand."""

from __future__ import annotations

from typing import Any

from studio.engine.progress_bar import Watcher, progress_bar


def test_the_bar_shows_state_percent_step_then_the_take_or_the_error():
    watchers: list[Watcher] = []

    def follow(watcher: Watcher) -> None:  # as Job.follow: at once, then after each event
        watchers.append(watcher)
        watcher({})

    bar, label = progress_bar("t2i-draft", follow).children
    assert (bar.description, bar.value, label.value) == ("t2i-draft", 0, "queued")
    show = watchers[0]
    statuses: list[tuple[dict[str, Any], float, str, str]] = [
        ({"state": "generating", "progress": 40, "step": "draw"}, 40, "info", "generating draw"),
        ({"state": "success", "progress": 100, "take": "x.png"}, 100, "success", "success x.png"),
        ({"state": "failed", "error": "OOM!"}, 0, "danger", "failed OOM!"),
    ]
    for status, value, style, text in statuses:
        show(status)
        assert (bar.value, bar.bar_style, label.value) == (value, style, text)
