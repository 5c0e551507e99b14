"""REST: projects (PRD Table 5) against a real Jupyter Server with the extension."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from studio import Project, Workspace
from studio.project.layout import CANVAS_PATH
from tests.conftest import git_out


async def test_list_is_empty_then_shows_projects(api, ws_root: Workspace):
    assert await api("GET", "projects") == (200, [])
    ws_root.create_project("Night Market", description="a short", quality="low")
    status, body = await api("GET", "projects")
    assert status == 200
    assert body == [
        {
            "id": "Night_Market",
            "name": "Night Market",
            "description": "a short",
            "quality": "low",
            "aspect_ratio": "16:9",
            "version": 1,
            "path": "Projects/Night_Market",
            "broken": False,
        }
    ]


async def test_create_scaffolds_through_the_core(api, jp_root_dir: Path):
    status, body = await api(
        "POST", "projects",
        body={"name": "Rain City", "description": "noir", "quality": "high",
              "aspect_ratio": "2:1"},
    )  # fmt: skip
    assert status == 201
    assert body == {
        "id": "Rain_City",
        "name": "Rain City",
        "description": "noir",
        "quality": "high",
        "aspect_ratio": "2:1",
        "version": 1,
        "path": "Projects/Rain_City",
        "broken": False,
    }
    root = jp_root_dir / "Projects" / "Rain_City"
    manifest = json.loads((root / "project.json").read_text())
    assert manifest["title"] == "Rain City"
    assert manifest["project_settings"] == {
        "aspect_ratio": "2:1", "quality": "high", "frame_rate": "24"
    }  # fmt: skip
    assert (root / CANVAS_PATH).is_file() and (root / "03_Renders").is_dir()
    assert git_out(root, "log", "--oneline").strip()  # the initial commit
    # The same title again: a new folder, never a reused one.
    status, again = await api("POST", "projects", body={"name": "Rain City"})
    assert (status, again["id"]) == (201, "Rain_City_2")


async def test_create_rejects_bad_bodies(api):
    status, body = await api("POST", "projects", raw=b"{not json")
    assert status == 400 and "not valid JSON" in body["message"]
    status, body = await api("POST", "projects", body={"description": "no name"})
    assert status == 422 and "name" in body["message"]
    status, body = await api("POST", "projects", body={"name": "X", "quality": "ultra"})
    assert status == 422 and "quality" in body["message"]
    status, body = await api("POST", "projects", body={"name": "X", "colour": "red"})
    assert status == 422 and "colour" in body["message"]
    status, body = await api("POST", "projects", body=["name"])
    assert status == 422 and "object" in body["message"]
    status, body = await api("POST", "projects", body={"name": "bad\ntitle"})
    assert status == 422 and "name" in body["message"]


async def test_a_body_over_the_limit_is_413_before_it_is_parsed(api, jp_root_dir: Path):
    from studio_jupyter.handlers.base import MAX_BODY_BYTES

    assert MAX_BODY_BYTES >= 16 * 1024 * 1024  # forty 2000-node canvas graphs (~400 kB each)
    body = b'{"name": "Huge"}'
    padded = body + b" " * (MAX_BODY_BYTES + 1 - len(body))  # valid JSON, one byte too many
    status, reply = await api("POST", "projects", raw=padded)
    assert status == 413, reply
    assert "too large" in reply["message"] and str(MAX_BODY_BYTES + 1) in reply["message"]
    assert reply["max_bytes"] == MAX_BODY_BYTES and reply["hint"]
    assert not (jp_root_dir / "Projects" / "Huge").exists()
    # at the limit it is parsed as usual
    status, reply = await api("POST", "projects", raw=padded[:-1])
    assert (status, reply["id"]) == (201, "Huge")
    status, reply = await api("PUT", "projects", "Huge", raw=padded[:-1] + b"  ")
    assert status == 413  # every body-reading handler


async def test_get_returns_manifest_and_graph(api, film: Project):
    film.graph.add_node("Shot", id="shot-1", prompt="lanterns", scene=1, shot=10)
    film.graph.save()
    status, body = await api("GET", "projects", "Night_Market")
    assert status == 200
    assert body["id"] == "Night_Market" and body["name"] == "Night Market"
    assert body["version"] == 2 == body["graph"]["version"]
    assert body["manifest"]["uuid"] == str(film.uuid)
    assert [n["id"] for n in body["graph"]["nodes"]] == ["shot-1"]


async def test_unknown_and_unsafe_project_ids_are_404(api, film: Project):
    for project_id in ("Nope", "..", ".git", "Night_Market%2F..", "%2e%2e"):
        status, body = await api("GET", "projects", project_id)
        assert status == 404, project_id
        assert "no project" in body["message"]


async def test_put_saves_under_the_version_lock(api, film: Project):
    _, loaded = await api("GET", "projects", "Night_Market")
    graph = loaded["graph"]
    graph["nodes"].append({"id": "shot-1", "type": "Shot", "position": {"x": 1, "y": 2},
                           "data": {"prompt": "dusk", "scene": 1, "shot": 10}})  # fmt: skip
    status, body = await api("PUT", "projects", "Night_Market",
                             body={"graph": graph, "version": loaded["version"]})  # fmt: skip
    assert (status, body) == (200, {"status": "success", "version": 2})
    on_disk = json.loads(film.canvas_path.read_text())
    assert on_disk["version"] == 2 and on_disk["nodes"][0]["data"]["prompt"] == "dusk"

    # A second client that loaded version 1 loses: 409 with the current version, no write.
    before = film.canvas_path.read_bytes()
    graph["nodes"][0]["data"]["prompt"] = "stale edit"
    status, body = await api("PUT", "projects", "Night_Market",
                             body={"graph": graph, "version": 1})  # fmt: skip
    assert status == 409
    assert body["current_version"] == 2 and "version" in body["message"]
    assert film.canvas_path.read_bytes() == before


async def test_put_rejects_invalid_graphs(api, film: Project):
    before = film.canvas_path.read_bytes()
    bad_type = {"nodes": [{"id": "n", "type": "NoSuchType"}], "edges": []}
    status, body = await api("PUT", "projects", "Night_Market",
                             body={"graph": bad_type, "version": 1})  # fmt: skip
    assert status == 422 and "nodes[0].type" in body["message"]
    bad_field = {"nodes": [{"id": "n", "type": "Shot", "data": {"scene": "one"}}]}
    status, body = await api("PUT", "projects", "Night_Market",
                             body={"graph": bad_field, "version": 1})  # fmt: skip
    assert status == 422 and "nodes[0]" in body["message"]
    weird = {"nodes": [{"id": "n", "type": "Shot", "parentId": ["x"]}]}
    status, body = await api("PUT", "projects", "Night_Market",
                             body={"graph": weird, "version": 1})  # fmt: skip
    assert 400 <= status < 500
    status, body = await api("PUT", "projects", "Night_Market", body={"graph": {}})
    assert status == 422 and "version" in body["message"]
    status, body = await api("PUT", "projects", "Night_Market",
                             body={"graph": {}, "version": "1"})  # fmt: skip
    assert status == 422 and "version" in body["message"]
    status, body = await api("PUT", "projects", "Nope", body={"graph": {}, "version": 1})
    assert status == 404
    assert film.canvas_path.read_bytes() == before


async def test_shots_and_takes(api, film: Project, make_png):
    film.graph.add_node("Shot", id="shot-1", prompt="lanterns", scene=1, shot=10)
    film.graph.add_node("Shot", id="shot-2", prompt="rain", scene=2, shot=20)
    film.graph.save()
    takes = []
    for color in ((200, 0, 0), (0, 200, 0)):
        take = film.new_take(scene=1, shot=10, ext="png", prompt="lanterns", seed=7)
        take.write_bytes(make_png(color=color))
        takes.append(take)
    film.set_active_take(takes[0])

    status, shots = await api("GET", "projects", "Night_Market", "shots")
    assert status == 200
    assert shots == [
        {"scene": 1, "shot": 10, "node_id": "shot-1", "takes": 2,
         "active": "SHOT-010_v01_take01.png"},
        {"scene": 2, "shot": 20, "node_id": "shot-2", "takes": 0, "active": None},
    ]  # fmt: skip

    status, body = await api("GET", "projects", "Night_Market", "takes", "1", "10")
    assert status == 200
    assert body["active"] == "SHOT-010_v01_take01.png"
    first, second = body["takes"]
    assert (first["name"], first["version"], first["take"], first["active"]) == (
        "SHOT-010_v01_take01.png", 1, 1, True)  # fmt: skip
    assert (second["take"], second["active"]) == (2, False)
    assert first["url"].endswith(
        "/studio/api/v1/projects/Night_Market/media/03_Renders/SCENE_01/SHOT_010/"
        "SHOT-010_v01_take01.png"
    )
    assert first["thumbnail_url"].endswith("/media/05_Cache/thumbnails/SHOT-010_v01_take01.png.jpg")
    assert (first["prompt"], first["seed"]) == ("lanterns", 7)

    status, body = await api("GET", "projects", "Night_Market", "takes", "3", "30")
    assert (status, body) == (200, {"takes": [], "active": None, "active_problem": None})
    status, body = await api("GET", "projects", "Night_Market", "takes", "one", "10")
    assert status == 422 and "scene" in body["message"]
    status, body = await api("GET", "projects", "Night_Market", "takes", "1", "99999")
    assert status == 422 and "shot" in body["message"]
    status, _ = await api("GET", "projects", "Nope", "takes", "1", "10")
    assert status == 404


async def test_canvas_notebook_is_created_once_and_never_overwritten(
    api, film: Project, jp_root_dir: Path
):
    status, body = await api("POST", "projects", "Night_Market", "canvas_notebook")
    assert status == 200 and body["path"] == "Projects/Night_Market/Canvas.ipynb"
    assert body["trusted_cell"] is True
    notebook = json.loads((jp_root_dir / body["path"]).read_text())
    first = notebook["cells"][0]
    assert first["cell_type"] == "code" and first["metadata"]["tags"] == ["studio-canvas"]
    source = "".join(first["source"])  # nbformat's lines
    assert source == body["canvas_source"]
    assert "studio.Project('.')" in source and str(jp_root_dir) not in source
    (jp_root_dir / body["path"]).write_text("{}")  # the user's own edits (or a clone's code)
    status, again = await api("POST", "projects", "Night_Market", "canvas_notebook")
    assert (status, again) == (200, {**body, "trusted_cell": False})
    assert (jp_root_dir / body["path"]).read_text() == "{}"
    status, _ = await api("POST", "projects", "Nope", "canvas_notebook")
    assert status == 404


async def test_names_the_os_refuses_are_404_not_500(api, film: Project):
    """Found by the fuzzer: a project id longer than a file name may be (ENAMETOOLONG)."""
    long_id = "x" * 300
    for parts in (("projects", long_id), ("projects", long_id, "shots"),
                  ("projects", "Night_Market", "media", "03_Renders", "y" * 300)):  # fmt: skip
        status, body = await api("GET", *parts)
        assert status == 404, parts
        assert body["message"]


async def test_two_racing_saves_one_wins_one_conflicts(api, film: Project):
    def save(prompt: str):
        shot = {"id": "shot-1", "type": "Shot", "data": {"prompt": prompt, "scene": 1, "shot": 10}}
        graph = {"nodes": [shot], "edges": []}
        return api("PUT", "projects", "Night_Market", body={"graph": graph, "version": 1})

    results = await asyncio.gather(save("first"), save("second"))
    assert sorted(status for status, _ in results) == [200, 409]
    winner = next(body for status, body in results if status == 200)
    loser = next(body for status, body in results if status == 409)
    assert winner == {"status": "success", "version": 2} and loser["current_version"] == 2
    on_disk = json.loads(film.canvas_path.read_text())
    assert on_disk["version"] == 2 and on_disk["nodes"][0]["data"]["prompt"] in ("first", "second")


async def test_creating_without_git_lfs_says_how_to_install_it(
    api, path_without_git_lfs, monkeypatch, jp_root_dir: Path
):
    monkeypatch.setenv("PATH", path_without_git_lfs)
    status, body = await api("POST", "projects", body={"name": "No LFS"})
    assert status == 503
    assert "git-lfs" in body["message"] and "install git-lfs" in body["hint"]
    assert not (jp_root_dir / "Projects" / "No_LFS").exists()


async def test_settings_are_read_with_their_choices(api, film: Project):
    status, body = await api("GET", "projects", "Night_Market", "settings")
    assert status == 200
    assert body == {
        "name": "Night_Market",
        "title": "Night Market",
        "description": "a short",
        "quality": "low",
        "aspect_ratio": "16:9",
        "frame_rate": "24",
        "version": 1,
        "choices": {
            "quality": ["low", "standard", "high"],
            "aspect_ratio": ["16:9", "9:16", "1:1", "4:3", "21:9"],
            "frame_rate": ["23.976", "24", "25", "29.97 DF", "30"],
        },
    }
    assert (await api("GET", "projects", "Nope", "settings"))[0] == 404


async def test_settings_change_under_the_manifest_lock(api, film: Project):
    status, body = await api(
        "PATCH", "projects", "Night_Market", "settings",
        body={"quality": "high", "aspect_ratio": "21:9", "frame_rate": "25",
              "title": "Night Market II", "description": "longer", "version": 1},
    )  # fmt: skip
    assert status == 200
    assert (body["quality"], body["aspect_ratio"], body["frame_rate"], body["version"]) == (
        "high", "21:9", "25", 2
    )  # fmt: skip
    manifest = json.loads(film.manifest_path.read_text())
    assert manifest["version"] == 2
    assert (manifest["title"], manifest["description"]) == ("Night Market II", "longer")
    assert manifest["project_settings"] == {
        "aspect_ratio": "21:9", "quality": "high", "frame_rate": "25"
    }  # fmt: skip
    # Only what is sent changes.
    status, body = await api(
        "PATCH", "projects", "Night_Market", "settings", body={"quality": "low", "version": 2}
    )
    assert (status, body["quality"], body["aspect_ratio"], body["title"]) == (
        200, "low", "21:9", "Night Market II"
    )  # fmt: skip


async def test_settings_saved_since_they_were_loaded_are_a_409(api, film: Project):
    film.update_settings(description="another editor, first")  # -> version 2
    status, body = await api(
        "PATCH", "projects", "Night_Market", "settings", body={"quality": "high", "version": 1}
    )
    assert status == 409
    assert "at version 2, not 1" in body["message"] and "reload" in body["hint"]
    assert body["current_version"] == 2
    assert film.manifest.project_settings.quality == "low"  # nothing written


async def test_bad_settings_are_refused_and_nothing_is_written(api, film: Project):
    before = film.manifest_path.read_bytes()
    for bad, named in (
        ({"quality": "ultra", "version": 1}, "quality"),
        ({"aspect_ratio": "wide", "version": 1}, "aspect_ratio"),
        ({"frame_rate": "60", "version": 1}, "frame_rate '60' is not valid"),
        ({"title": "two\nlines", "version": 1}, "title"),
        ({"quality": "high"}, "version"),  # the lock is not optional
        ({"quality": "high", "version": 1, "fps": 24}, "fps"),
    ):
        status, body = await api("PATCH", "projects", "Night_Market", "settings", body=bad)
        assert status == 422, bad
        assert named in body["message"], (bad, body)
    assert film.manifest_path.read_bytes() == before


async def test_settings_need_jupyter_auth(http_server_client, jp_base_url, studio_server, film):
    from tornado.httpclient import HTTPClientError

    before = film.manifest_path.read_bytes()
    with pytest.raises(HTTPClientError) as caught:
        await http_server_client.fetch(
            f"{jp_base_url}studio/api/v1/projects/Night_Market/settings", method="PATCH",
            body=json.dumps({"quality": "high", "version": 1}),
        )  # fmt: skip
    assert caught.value.code in (401, 403)
    assert film.manifest_path.read_bytes() == before
