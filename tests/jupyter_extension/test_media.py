"""REST: the media route serves a project's takes and thumbnails, and nothing else."""

from __future__ import annotations

import pytest
from studio_jupyter.errors import HTTPProblem
from studio_jupyter.handlers.media import byte_range
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


async def test_serves_a_rendered_film_in_ranges_and_its_edl(raw_get, jp_fetch, film: Project):
    # What a render's video_url / edl_url name (06_Exports, the EDLs' folder); the bytes here
    # stand in for a film: the route serves files, it does not read them.
    film_path = film.path / "06_Exports" / "Night_Market_v001.mp4"
    film_path.write_bytes(bytes(range(256)) * 64)
    edl = film.path / "04_Project_Files" / "EDLs" / "Night_Market_v001.edl"
    edl.write_text("TITLE: Night Market\nFCM: NON-DROP FRAME\n")
    response = await jp_fetch(
        media("06_Exports/Night_Market_v001.mp4"), headers={"Range": "bytes=256-511"}
    )
    assert response.code == 206 and response.body == bytes(range(256))
    assert response.headers["Content-Type"] == "video/mp4"
    status, body, _ = await raw_get(media("04_Project_Files/EDLs/Night_Market_v001.edl"))
    assert status == 200 and body.startswith(b"TITLE: Night Market")
    status, _, _ = await raw_get(media("04_Project_Files/Auto_Saves/x.json"))
    assert status == 403  # the EDLs' folder, not the project files around it


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


async def test_a_render_in_progress_is_not_served(raw_get, film: Project):
    # A render's staging folder holds the encoder's partial film until it is published.
    staging = film.path / "06_Exports" / ".rendering" / "job1"
    staging.mkdir(parents=True)
    (staging / "Night_Market.mp4.partial").write_bytes(b"\0" * 64)
    status, body, _ = await raw_get(media("06_Exports/.rendering/job1/Night_Market.mp4.partial"))
    assert status == 403 and b"hidden" in body, (status, body)


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


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-3", (0, 3)),
        ("bytes=4-", (4, 9)),
        ("bytes=-3", (7, 9)),
        ("bytes=5-100", (5, 9)),
        ("bytes=-100", (0, 9)),
        ("bytes=1-2,5-6", None),  # multi-range: the whole file (allowed by RFC 9110)
        ("items=0-3", None),
    ],
)
def test_byte_range(header, expected):
    assert byte_range(header, 10) == expected


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=4-2", "bytes=99-100"])
def test_byte_range_outside_the_file(header):
    with pytest.raises(HTTPProblem) as caught:
        byte_range(header, 10)
    assert caught.value.status == 416


async def test_serves_byte_ranges(jp_fetch, with_take: Project):
    data = (with_take.path / TAKE).read_bytes()
    response = await jp_fetch(media(TAKE), headers={"Range": "bytes=1-3"})
    assert response.code == 206 and response.body == data[1:4]
    assert response.headers["Content-Range"] == f"bytes 1-3/{len(data)}"
    response = await jp_fetch(media(TAKE), headers={"Range": "bytes=-4"})
    assert response.body == data[-4:]
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(media(TAKE), headers={"Range": f"bytes={len(data)}-"})
    assert caught.value.code == 416


@pytest.mark.parametrize("folder", ["03_Renders", "05_Cache/thumbnails", "05_Cache"])
async def test_a_media_folder_symlinked_out_of_the_project_serves_nothing(
    raw_get, film: Project, tmp_path, folder
):
    # A cloned project whose media folder is a link to somewhere else (e.g. the home folder).
    home = tmp_path / "home"
    (home / "thumbnails").mkdir(parents=True)
    (home / "secret.txt").write_bytes(b"TOP-SECRET-BYTES")
    (home / "thumbnails" / "secret.txt").write_bytes(b"TOP-SECRET-BYTES")
    link = film.path / folder
    if link.exists():
        import shutil

        shutil.rmtree(link)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(home)
    for path in ("03_Renders/secret.txt", "05_Cache/thumbnails/secret.txt",
                 "05_Cache/thumbnails/thumbnails/secret.txt"):  # fmt: skip
        status, body, _ = await raw_get(media(path))
        assert status in (403, 404), (path, status)
        assert b"TOP-SECRET-BYTES" not in body


async def test_a_file_removed_after_the_check_is_404_not_500(
    raw_get, with_take: Project, monkeypatch
):
    """The file is opened once and served from that handle: gone between the path check and
    the open, it is a 404."""
    from studio_jupyter import service

    checked = service.media_file

    def check_then_delete(*args, **kwargs):
        path = checked(*args, **kwargs)
        path.unlink()
        return path

    monkeypatch.setattr(service, "media_file", check_then_delete)
    status, body, content_type = await raw_get(media(TAKE))
    assert status == 404 and content_type.startswith("application/json"), body


async def test_the_kernel_canvas_links_videos_through_this_route(jp_fetch, film: Project, make_mp4):
    from studio.service import kernel_link

    take = film.new_take(scene=1, shot=20, ext="mp4", prompt="x")
    take.write_bytes(make_mp4())
    url = kernel_link(film)(take.path)
    assert url is not None and not url.startswith(("/", "data:"))  # relative to the base URL
    response = await jp_fetch(url, headers={"Range": "bytes=0-99"})
    assert response.code == 206 and response.body == take.path.read_bytes()[:100]
