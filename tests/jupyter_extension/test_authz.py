"""Jupyter's authorizer decides: a server whose authorizer refuses the ``studio`` resource
serves none of the studio's routes (as JupyterHub's scopes or a custom authorizer would)."""

from __future__ import annotations

from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from tests.jupyter_extension.test_auth import UPGRADE, every_operation


class NoStudio(Authorizer):
    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != "studio"


@pytest.fixture
def jp_server_config() -> Config:
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"studio_jupyter": True},
                "authorizer_class": NoStudio,
            }
        }
    )


@pytest.mark.parametrize(("method", "path"), every_operation())
async def test_rest_is_refused_by_the_authorizer(jp_fetch, studio_server, film, method, path):
    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(f"studio/api/v1{path}", method=method, body=body)
    assert caught.value.code == 403


async def test_websocket_is_refused_by_the_authorizer(
    http_server_client, jp_base_url, jp_auth_header, studio_server, film
):
    with pytest.raises(HTTPClientError) as caught:
        await http_server_client.fetch(
            f"{jp_base_url}studio/ws/Night_Market",
            headers={**UPGRADE, **jp_auth_header},
            request_timeout=10,
        )
    assert caught.value.code == 403


async def test_jupyters_own_api_still_works(jp_fetch, studio_server):
    response = await jp_fetch("api", "status")
    assert response.code == 200
