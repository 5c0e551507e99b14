"""Every studio route needs Jupyter authentication: without a token, nothing is served."""

from __future__ import annotations

import json

import pytest
from studio_jupyter.routes import ROUTES
from tornado.httpclient import HTTPClientError

EXAMPLE = {"project_id": "Night_Market", "scene": "1", "shot": "10",
           "path": "03_Renders/SCENE_01/SHOT_010/SHOT-010_v01_take01.png"}  # fmt: skip


def every_operation() -> list[tuple[str, str]]:
    return [
        (op.method.upper(), route.path.format(**EXAMPLE))
        for route in ROUTES
        for op in route.operations
    ]


@pytest.mark.parametrize(("method", "path"), every_operation())
@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_rest_refuses_without_a_valid_token(
    http_server_client, jp_base_url, studio_server, film, method, path, token
):
    headers = {"Authorization": f"token {token}"} if token else {}
    body = json.dumps({"name": "Sneaky"}) if method in ("POST", "PUT", "PATCH") else None
    with pytest.raises(HTTPClientError) as caught:
        await http_server_client.fetch(
            f"{jp_base_url}studio/api/v1{path}", method=method, body=body, headers=headers,
            allow_nonstandard_methods=True,
        )  # fmt: skip
    assert caught.value.code in (401, 403)
    assert not (film.path.parent / "Sneaky").exists()


async def test_a_url_token_and_the_header_both_work(http_server_client, jp_base_url, jp_serverapp,
                                                    studio_server):  # fmt: skip
    token = jp_serverapp.identity_provider.token
    response = await http_server_client.fetch(f"{jp_base_url}studio/api/v1/status?token={token}")
    assert response.code == 200
    response = await http_server_client.fetch(
        f"{jp_base_url}studio/api/v1/status", headers={"Authorization": f"token {token}"}
    )
    assert response.code == 200


UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # fmt: skip


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_websocket_refuses_without_a_valid_token(
    http_server_client, jp_base_url, studio_server, film, token
):
    # A plain upgrade request: tornado's websocket client waits forever on a non-101 reply.
    headers = {**UPGRADE, **({"Authorization": f"token {token}"} if token else {})}
    with pytest.raises(HTTPClientError) as caught:
        await http_server_client.fetch(
            f"{jp_base_url}studio/ws/Night_Market", headers=headers, request_timeout=10
        )
    assert caught.value.code in (401, 403)


async def test_websocket_to_an_unknown_project_is_404(
    http_server_client, jp_base_url, jp_auth_header, studio_server
):
    with pytest.raises(HTTPClientError) as caught:
        await http_server_client.fetch(
            f"{jp_base_url}studio/ws/Nope", headers={**UPGRADE, **jp_auth_header},
            request_timeout=10,
        )  # fmt: skip
    assert caught.value.code == 404


def _cookies(response, jar: dict[str, str]) -> dict[str, str]:
    for header in response.headers.get_list("Set-Cookie"):
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return jar


async def test_a_cookie_post_needs_the_xsrf_token(
    http_server_client, jp_base_url, jp_serverapp, studio_server, ws_root
):
    """A browser's cookie alone cannot POST (a cross-site form could send it): Jupyter's
    XSRF check refuses it with 403, and with the token (as the lab sends it) it works."""
    token = jp_serverapp.identity_provider.token
    # The URL token sets the login cookie, a page the _xsrf cookie: what a browser holds.
    login = f"{jp_base_url}login?token={token}"
    response = await http_server_client.fetch(login, follow_redirects=False, raise_error=False)
    jar = _cookies(response, {})
    page = await http_server_client.fetch(f"{jp_base_url}login", raise_error=False)
    jar = _cookies(page, jar)
    response = await http_server_client.fetch(f"{jp_base_url}studio/api/v1/status",
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})  # fmt: skip
    assert response.code == 200  # the cookie authenticates
    jar = _cookies(response, jar)
    assert "_xsrf" in jar, jar
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    url = f"{jp_base_url}studio/api/v1/projects"
    body = json.dumps({"name": "Cross Site"})
    with pytest.raises(HTTPClientError) as caught:
        await http_server_client.fetch(url, method="POST", body=body, headers={"Cookie": cookie})
    assert caught.value.code == 403
    assert not (ws_root.projects_path / "Cross_Site").exists()
    response = await http_server_client.fetch(url, method="POST", body=body,
        headers={"Cookie": cookie, "X-XSRFToken": jar["_xsrf"]})  # fmt: skip
    assert response.code == 201
