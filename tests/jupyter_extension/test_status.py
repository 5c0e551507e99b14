"""REST: status (the lab's git-lfs startup check) and the served OpenAPI description."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from studio_jupyter.openapi import openapi_document
from studio_jupyter.routes import ROUTES, handlers
from tornado.routing import PathMatches

from studio import __version__


async def test_status_reports_git_and_lfs(api, jp_root_dir):
    status, body = await api("GET", "status")
    assert status == 200
    assert body["version"] == __version__
    assert body["workspace"] == str(jp_root_dir.resolve())
    assert body["git"]["ok"] and body["git"]["version"].startswith("git version")
    assert body["git_lfs"]["ok"] and "git-lfs" in body["git_lfs"]["version"]


async def test_status_says_how_to_install_git_lfs(api, path_without_git_lfs, monkeypatch):
    monkeypatch.setenv("PATH", path_without_git_lfs + os.pathsep + os.environ["PATH"])
    # git-lfs may be on the rest of PATH: keep only the folder without it.
    monkeypatch.setenv("PATH", path_without_git_lfs)
    status, body = await api("GET", "status")
    assert status == 200
    assert body["git"]["ok"] is True
    assert body["git_lfs"]["ok"] is False
    assert "apt-get install git-lfs" in body["git_lfs"]["message"]
    assert "git lfs install" in body["git_lfs"]["message"]


def registered_patterns(router: Any) -> Iterator[str]:
    """The path regexes of every rule of Tornado's routers (nested per host)."""
    for rule in getattr(router, "rules", []):
        regex = getattr(rule.matcher, "regex", None)
        if isinstance(rule.matcher, PathMatches) and regex is not None:
            yield regex.pattern
        yield from registered_patterns(rule.target)


async def test_openapi_matches_the_registered_routes(api, jp_serverapp, jp_base_url):
    status, spec = await api("GET", "openapi.json")
    assert status == 200
    assert spec["openapi"].startswith("3.1")
    assert spec["servers"] == [{"url": f"{jp_base_url}studio/api/v1"}]
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    declared = {(r.path, op.method) for r in ROUTES for op in r.operations}
    assert documented == declared

    # Every REST handler registered on the server is in the description, and vice versa.
    prefix = f"{jp_base_url}studio/api/v1"
    served = {
        re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern.removesuffix("$"))
        for pattern in registered_patterns(jp_serverapp.web_app.default_router)
        if pattern.startswith(prefix)
    }
    assert served == {f"{prefix}{path}" for path in spec["paths"]}
    # And the handlers that serve them are the table's.
    for route in ROUTES:
        for method in spec["paths"][route.path]:
            assert callable(getattr(route.handler, method))
    assert len(handlers("/")) == len(ROUTES) + 1  # plus the WebSocket


def test_schemas_are_generated_from_the_models():
    spec = openapi_document()
    schemas = spec["components"]["schemas"]
    create = schemas["ProjectCreate"]
    assert create["required"] == ["name"]
    assert set(create["properties"]) == {"name", "description", "quality", "aspect_ratio"}
    assert create["additionalProperties"] is False
    put = spec["paths"]["/projects/{project_id}"]["put"]
    assert put["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Conflict"
    }
    for path in spec["paths"].values():
        for op in path.values():
            assert "403" in op["responses"]
