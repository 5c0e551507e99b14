"""The model store on real folders: add, list, verify, remove; a project's store in git LFS."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from pathlib import Path

import pytest

from studio import Project, Workspace
from studio.errors import InvalidInput
from studio.models import ModelStore, ModelStoreError, project_store, workspace_store
from studio.models.places import workspace_models_dir
from tests.conftest import git_out
from tests.models.hf import fake_hf_cache


def weights(folder: Path, files: dict[str, bytes] | None = None) -> Path:
    for rel, data in (
        files or {"config.json": b'{"dim": 4}', "unet/w.safetensors": b"\0" * 64}
    ).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


def test_add_list_verify_remove(tmp_path: Path):
    store = ModelStore(tmp_path / "store")
    source = weights(tmp_path / "src")
    (source / ".cache").mkdir()  # a local-dir download's bookkeeping: not weights
    (source / ".cache" / "x.lock").write_text("")
    record = store.add("tiny", source)
    assert sorted(record.files) == ["config.json", "unet/w.safetensors"]
    assert record.files["config.json"].sha256 == hashlib.sha256(b'{"dim": 4}').hexdigest()
    assert (store.path("tiny") / "unet" / "w.safetensors").read_bytes() == b"\0" * 64
    assert [m.id for m in store.list()] == ["tiny"] and store.has("tiny")
    metadata = json.loads((tmp_path / "store" / "models.json").read_text())
    assert metadata["models"]["tiny"]["source"] == str(source.resolve())
    assert store.verify() == []
    store.remove("tiny")
    assert store.list() == [] and not store.path("tiny").exists()
    with pytest.raises(ModelStoreError, match="no model tiny"):
        store.remove("tiny")


def test_a_single_file_is_a_model_too(tmp_path: Path):
    lora = tmp_path / "style.safetensors"
    lora.write_bytes(b"lora")
    record = ModelStore(tmp_path / "store").add("style-lora", lora)
    assert list(record.files) == ["style.safetensors"]


def test_an_existing_id_is_refused_unless_replaced(tmp_path: Path):
    store = ModelStore(tmp_path / "store")
    store.add("tiny", weights(tmp_path / "a"))
    with pytest.raises(ModelStoreError, match="already in") as taken:
        store.add("tiny", weights(tmp_path / "b", {"other.bin": b"2"}))
    assert "--replace" in (taken.value.hint or "")
    store.add("tiny", weights(tmp_path / "b", {"other.bin": b"2"}), replace=True)
    assert sorted(p.name for p in store.path("tiny").iterdir()) == ["other.bin"]
    assert list(store.get("tiny").files) == ["other.bin"]  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", ["../escape", "a/b", "x:y", ".."])
def test_traversal_ids_are_refused_and_nothing_is_written(tmp_path: Path, bad: str):
    store = ModelStore(tmp_path / "store")
    with pytest.raises(InvalidInput, match="invalid model id"):
        store.add(bad, weights(tmp_path / "src"))
    assert not (tmp_path / "store").exists() and not (tmp_path / "escape").exists()


def test_verify_finds_a_corrupted_and_a_missing_file(tmp_path: Path):
    store = ModelStore(tmp_path / "store")
    store.add("tiny", weights(tmp_path / "src"), link=False)
    (store.path("tiny") / "unet" / "w.safetensors").write_bytes(b"\1" * 64)  # a flipped disk
    (store.path("tiny") / "config.json").unlink()
    problems = store.verify()
    assert [(p.model, p.path, p.kind) for p in problems] == [
        ("tiny", "config.json", "missing"),
        ("tiny", "unet/w.safetensors", "mismatch"),
    ]


def test_from_the_hf_cache_follows_the_symlinks_into_blobs(tmp_path: Path):
    cache = tmp_path / "hub"
    rev = "a" * 40
    fake_hf_cache(cache, "org/tiny", {"model_index.json": b"{}", "vae/w.bin": b"vae"}, revision=rev)
    store = ModelStore(tmp_path / "store")
    record = store.add_from_hf_cache("tiny", "org/tiny", caches=[cache])
    assert record.source == f"hf:org/tiny@{rev}"
    stored = store.path("tiny") / "vae" / "w.bin"
    assert not stored.is_symlink() and stored.read_bytes() == b"vae"  # the blob, not a link
    blob = cache / "models--org--tiny" / "blobs" / hashlib.sha256(b"vae").hexdigest()
    assert stored.stat().st_ino == blob.stat().st_ino  # hard-linked: no second copy
    assert store.verify() == []


def _add(root: str, source: str, model_id: str) -> None:
    ModelStore(Path(root)).add(model_id, Path(source))


def test_concurrent_adds_keep_every_model(tmp_path: Path):
    source = weights(tmp_path / "src")
    ctx = multiprocessing.get_context("spawn")
    ids = [f"m{i}" for i in range(4)]
    procs = [ctx.Process(target=_add, args=(str(tmp_path / "s"), str(source), i)) for i in ids]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = ModelStore(tmp_path / "s")
    assert [m.id for m in store.list()] == ids and store.verify() == []


def test_the_shared_store_is_a_workspace_setting(workspace: Workspace, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch):  # fmt: skip
    assert workspace_models_dir(workspace.path) == workspace.path / "Models"
    config = workspace.path / "workspace.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "models_dir": "/srv/w"}))
    assert workspace_store(workspace.path).root == Path("/srv/w")
    monkeypatch.setenv("STUDIO_MODELS_DIR", str(tmp_path / "env"))
    assert workspace_store(workspace.path).root == tmp_path / "env"


def test_a_projects_model_is_committed_through_lfs(project: Project, tmp_path: Path):
    store = project_store(project.path)
    store.add("my-lora", weights(tmp_path / "lora", {"lora.bin": b"\0\1" * 100,
                                                     "README": b"readme"}))  # fmt: skip
    assert store.root == project.path / "01_Assets" / "AI_Models"
    assert "Add model my-lora" in git_out(project.path, "log", "-1", "--format=%s")
    lfs = git_out(project.path, "lfs", "ls-files", "--name-only").split()
    assert "01_Assets/AI_Models/my-lora/lora.bin" in lfs
    assert "01_Assets/AI_Models/my-lora/README" in lfs  # no extension: still LFS
    assert "01_Assets/AI_Models/models.json" not in lfs
    assert git_out(project.path, "status", "--porcelain") == ""
    assert store.verify() == []
    store.add("my-lora", weights(tmp_path / "v2", {"lora.bin": b"\2" * 100}), replace=True)
    tracked = git_out(project.path, "ls-files", "01_Assets/AI_Models/my-lora").split()
    assert tracked == ["01_Assets/AI_Models/my-lora/lora.bin"]  # the old README is gone too
    assert git_out(project.path, "status", "--porcelain") == ""
    store.remove("my-lora")
    assert "Remove model my-lora" in git_out(project.path, "log", "-1", "--format=%s")
    tracked = git_out(project.path, "ls-files", "01_Assets/AI_Models").split()
    assert not [t for t in tracked if "my-lora" in t]
    assert git_out(project.path, "status", "--porcelain") == ""
