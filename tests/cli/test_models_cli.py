"""``studio models ...`` through the real CLI, on real folders and a real project."""

from __future__ import annotations

import json
from pathlib import Path

from studio import Project, Workspace
from tests.conftest import git_out, run_studio
from tests.models.hf import fake_hf_cache


def models(*args: str, workspace: Workspace, env: dict[str, str] | None = None):
    return run_studio("models", *args, "--workspace", str(workspace.path), env=env)


def test_add_list_verify_remove(workspace: Workspace, tmp_path: Path):
    source = tmp_path / "FLUX.1-schnell"
    source.mkdir()
    (source / "model_index.json").write_text("{}")
    added = models("add", "flux1-schnell", str(source), workspace=workspace)
    assert added.returncode == 0, added.stderr
    assert "flux1-schnell: 1 files" in added.stdout
    again = models("add", "flux1-schnell", str(source), workspace=workspace)
    assert again.returncode == 1 and "--replace" in again.stderr
    listed = models("list", "--json", workspace=workspace)
    [row] = json.loads(listed.stdout)
    assert row["id"] == "flux1-schnell"
    assert row["path"] == str(workspace.path / "Models" / "flux1-schnell")
    assert models("verify", workspace=workspace).returncode == 0
    (workspace.path / "Models" / "flux1-schnell" / "model_index.json").write_text('{"x": 1}')
    broken = models("verify", workspace=workspace)
    assert broken.returncode == 1
    assert "model_index.json does not match its recorded sha256" in broken.stderr
    removed = models("remove", "flux1-schnell", workspace=workspace)
    assert removed.returncode == 0
    assert json.loads(models("list", "--json", workspace=workspace).stdout) == []


def test_from_the_hf_cache_without_network(workspace: Workspace, tmp_path: Path):
    fake_hf_cache(tmp_path / "hf" / "hub", "org/tiny", {"a.bin": b"a"}, revision="b" * 40)
    env = {"HF_HOME": str(tmp_path / "hf")}
    done = models("add", "tiny", "--from-hf-cache", "org/tiny", workspace=workspace, env=env)
    assert done.returncode == 0, done.stderr
    absent = models("add", "other", "--from-hf-cache", "org/other", workspace=workspace, env=env)
    assert absent.returncode == 1
    stderr = " ".join(absent.stderr.split())
    assert f"{tmp_path}/hf/hub/models--org--other/refs/main" in stderr
    assert "never downloads" in stderr


def test_a_traversal_id_is_refused(workspace: Workspace, tmp_path: Path):
    done = models("add", "../../etc", str(tmp_path), workspace=workspace)
    assert done.returncode == 1 and "invalid model id" in done.stderr


def test_a_projects_own_model_is_committed(project: Project, tmp_path: Path):
    lora = tmp_path / "style.safetensors"
    lora.write_bytes(b"\0" * 32)
    ws = Workspace(project.path.parent.parent)
    done = models("add", "style", str(lora), "--project", project.name, workspace=ws)
    assert done.returncode == 0, done.stderr
    assert git_out(project.path, "log", "-1", "--format=%s").strip() == "Add model style"
    listed = models("list", "--json", "--project", project.name, workspace=ws)
    assert [r["id"] for r in json.loads(listed.stdout)] == ["style"]
    assert json.loads(models("list", "--json", workspace=ws).stdout) == []  # not the shared one


def test_doctor_names_the_models_an_installed_pipeline_lacks(workspace: Workspace, tmp_path: Path):
    pipelines = Path(__file__).resolve().parents[1] / "runner" / "pipelines"
    env = {"STUDIO_PIPELINE_DIRS": json.dumps([str(pipelines)])}
    done = run_studio("doctor", "--workspace", str(workspace.path), env=env)
    stderr = " ".join(done.stderr.split())
    assert done.returncode == 0, done.stderr  # a warning: other pipelines still work
    assert "reads-model needs model tiny-model: studio models add tiny-model" in stderr
    source = tmp_path / "tiny"
    source.mkdir()
    (source / "config.json").write_text("{}")
    assert models("add", "tiny-model", str(source), workspace=workspace).returncode == 0
    done = run_studio("doctor", "--workspace", str(workspace.path), env=env)
    assert "tiny-model" not in done.stderr
