"""Finding a snapshot in a local Hugging Face cache: real folders and symlinks, no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.models import ModelStoreError, cache_dirs, find_snapshot
from tests.models.hf import fake_hf_cache

REPO = "black-forest-labs/FLUX.1-schnell"
REV = "741f7c3ce8b383c54771c7003378a50191e9efe9"


def test_the_cache_folder_follows_huggingface_hubs_precedence(tmp_path: Path):
    assert cache_dirs({"HF_HUB_CACHE": "/a", "HF_HOME": "/b"}) == [Path("/a")]
    assert cache_dirs({"HF_HOME": "/b"}) == [Path("/b/hub")]
    assert cache_dirs({"XDG_CACHE_HOME": "/c"}) == [Path("/c/huggingface/hub")]
    assert cache_dirs({}) == [Path.home() / ".cache" / "huggingface" / "hub"]


def test_refs_main_picks_the_snapshot(tmp_path: Path):
    fake_hf_cache(tmp_path, REPO, {"model_index.json": b"{}"}, revision="0" * 40)
    snapshot = fake_hf_cache(tmp_path, REPO, {"model_index.json": b"{}"}, revision=REV)
    found = find_snapshot(REPO, caches=[tmp_path])
    assert found.path == snapshot and found.revision == REV
    assert find_snapshot(REPO, revision="0" * 40, caches=[tmp_path]).revision == "0" * 40


def test_an_absent_repo_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelStoreError) as absent:
        find_snapshot(REPO)
    message = str(absent.value)
    assert f"{tmp_path}/models--black-forest-labs--FLUX.1-schnell/refs/main" in message
    assert "never downloads" in message and "huggingface-cli download" in message


@pytest.mark.parametrize("bad", ["../x", "a/b/c", "a/.."])
def test_a_repo_id_cannot_walk_out_of_the_cache(tmp_path: Path, bad: str):
    with pytest.raises(ModelStoreError, match="not a Hugging Face repository id"):
        find_snapshot(bad, caches=[tmp_path])
