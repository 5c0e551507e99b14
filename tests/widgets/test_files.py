"""Links to a project's files from the kernel's canvas (widgets/src/lib/files.ts, run under
Node): JupyterLab's ``files/`` route when the project is inside the server's root."""

from __future__ import annotations

from typing import Any

from tests.widgets.typescript import call_module


def url(project: dict[str, str], relative: str, config: dict[str, str] | None) -> Any:
    [answer] = call_module("lib/files.ts", [], [("projectFileUrl", [project, relative, config])])
    return answer


def test_an_export_inside_the_server_root_is_linked_through_files() -> None:
    project = {"root": "/srv/lab/workspace/Projects/Night Market", "home": "/home/ana"}
    config = {"baseUrl": "/user/ana/", "serverRoot": "/srv/lab"}
    assert url(project, "06_Exports/Night Market_v001.mp4", config) == (
        "/user/ana/files/workspace/Projects/Night%20Market/06_Exports/Night%20Market_v001.mp4"
    )


def test_a_root_under_home_is_written_with_a_tilde() -> None:
    project = {"root": "/home/ana/films/Projects/Film", "home": "/home/ana"}
    config = {"baseUrl": "/", "serverRoot": "~/films"}
    assert url(project, "06_Exports/Film_v001.mp4", config) == (
        "/files/Projects/Film/06_Exports/Film_v001.mp4"
    )


def test_no_link_outside_the_root_or_outside_jupyterlab() -> None:
    project = {"root": "/data/Film", "home": "/home/ana"}
    assert url(project, "06_Exports/a.mp4", {"baseUrl": "/", "serverRoot": "/data/Films"}) is None
    assert url(project, "06_Exports/a.mp4", None) is None
    assert url({}, "06_Exports/a.mp4", {"baseUrl": "/", "serverRoot": "/"}) is None
