"""REST: the media route serves a project's takes and thumbnails, and nothing else."""

from __future__ import annotations

import pytest
from tornado.httpclient import HTTPClientError

from studio import Project

TAKE = "03_Renders/SCENE_01/SHOT_010/SHOT-010_v01_take01.png"


@pytest.fixture
def with_take(film: Project, make_png) -> Project:
    take = film.new_take(scene=1, shot=10, ext="png", prompt="x")
    take.write_bytes(make_png())
    return film


@pytest.fixture
def raw_get(http_server_client, jp_base_url, jp_auth_header, studio_server):
    """A GET with the path exactly as given (jp_fetch would re-escape ``%2e`` as ``%252e``)."""

    async def get(path: str) -> tuple[int, bytes, str]:
        return await _fetch(http_server_client, jp_base_url + path, jp_auth_header)

    return get


async def _fetch(client, url: str, headers) -> tuple[int, bytes, str]:
    try:
        response = await client.fetch(url, headers=headers)
    except HTTPClientError as exc:
        assert exc.response is not None
        return exc.code, exc.response.body, exc.response.headers.get("Content-Type", "")
    return response.code, response.body, response.headers.get("Content-Type", "")


def media(path: str) -> str:
    return f"studio/api/v1/projects/Night_Market/media/{path}"


async def test_serves_a_take_and_its_thumbnail(api, jp_fetch, with_take: Project):
    status, body = await api("GET", "projects", "Night_Market", "media", *TAKE.split("/"))
    assert status == 200 and body == (with_take.path / TAKE).read_bytes()
    _, takes = await api("GET", "projects", "Night_Market", "takes", "1", "10")
    thumbnail = takes["takes"][0]["thumbnail_url"].split("/media/", 1)[1]
    status, body = await api("GET", "projects", "Night_Market", "media", *thumbnail.split("/"))
    assert status == 200 and body.startswith(b"\xff\xd8")  # a JPEG
    response = await jp_fetch(media(TAKE))
    assert response.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("project.json", 403),  # in the project, but not media
        ("02_Source_Creative/Canvases/main_canvas.json", 403),
        ("03_Renders/SCENE_01/SHOT_010/missing.png", 404),
        ("03_Renders", 403),
        ("03_Renders/../project.json", 403),
        ("03_Renders/%2e%2e/project.json", 403),
        ("03_Renders/%2E%2E/%2E%2E/%2E%2E/etc/passwd", 403),
        ("%2e%2e/%2e%2e/workspace.json", 403),
        ("03_Renders/SCENE_01/./SHOT_010/x.png", 403),
        ("03_Renders%2F..%2Fproject.json", 403),
        ("%2Fetc%2Fpasswd", 403),
        ("03_Renders/SCENE_01/SHOT_010/..%5C..%5Cproject.json", 403),
    ],
)
async def test_refuses_everything_else(raw_get, with_take: Project, path, expected):
    status, body, content_type = await raw_get(media(path))
    assert status == expected, (status, body)
    assert content_type.startswith("application/json")
    assert b"root:" not in body and b"uuid" not in body


async def test_symlinks_out_of_the_project_are_refused(raw_get, with_take: Project, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"secret")
    link = with_take.path / "03_Renders" / "SCENE_01" / "SHOT_010" / "link.png"
    link.symlink_to(secret)
    status, body, _ = await raw_get(media("03_Renders/SCENE_01/SHOT_010/link.png"))
    assert status == 403 and b"secret" not in body
    inside = with_take.path / "03_Renders" / "manifest.png"
    inside.symlink_to(with_take.path / "project.json")
    status, body, _ = await raw_get(media("03_Renders/manifest.png"))
    assert status == 403 and b"uuid" not in body


async def test_other_projects_media_is_not_reachable(raw_get, with_take, ws_root):
    ws_root.create_project("Other")
    status, _, _ = await raw_get(f"studio/api/v1/projects/Other/media/{TAKE}")
    assert status == 404
    status, _, _ = await raw_get(f"studio/api/v1/projects/Other/media/..%2FNight_Market%2F{TAKE}")
    assert status == 403
