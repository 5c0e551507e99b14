"""``studio pipeline ...`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.pipelines import load_pipeline
from studio.runner.build import image_platform, pip_platform_tags, stage_wheelhouse
from tests.conftest import run_studio


def test_list_json():
    done = run_studio("pipeline", "list", "--json")
    assert done.returncode == 0, done.stderr
    ids = {p["id"] for p in json.loads(done.stdout)}
    assert {"t2i-draft", "i2v-draft", "sr-lanczos", "restore-ffmpeg"} <= ids


def test_new_then_run_with_the_process_runner(tmp_path: Path):
    done = run_studio("pipeline", "new", "my-model", "--dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "my-model"
    run = run_studio("pipeline", "run", str(folder), "-i", "prompt=hi", "-i", "steps=2",
                     "--runner", "process", "--out", str(tmp_path / "job"), "--json")  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "[2/2] generating" in run.stderr
    result = json.loads(run.stdout)
    assert result["ok"] and (tmp_path / "job" / result["outputs"]["image"]).stat().st_size > 0


def test_run_rejects_bad_inputs_with_a_hint(tmp_path: Path):
    done = run_studio("pipeline", "run", "t2i-draft", "-i", "seed=x", "--runner", "process",
                      "--out", str(tmp_path / "job"))  # fmt: skip
    assert done.returncode == 1
    stderr = " ".join(done.stderr.split())  # rich wraps long lines
    assert "prompt: required" in stderr and "seed: expects a whole number" in stderr
    assert "hint:" in stderr
    assert not (tmp_path / "job").exists()


@pytest.mark.slow
def test_air_gapped_build_from_a_wheelhouse_then_run_in_docker(
    tmp_path: Path, docker_client, base_image
):
    assert run_studio("pipeline", "new", "gapped", "--dir", str(tmp_path)).returncode == 0
    folder = tmp_path / "gapped"
    info = image_platform(docker_client, base_image)
    wheels = stage_wheelhouse(
        folder / "requirements.txt",
        python=info["python"],
        platforms=pip_platform_tags(machine=info["machine"], glibc=info["glibc"]),
        on_log=lambda line: None,
    )
    build = run_studio("pipeline", "build", str(folder), "--wheelhouse", str(wheels),
                       "--base-image", base_image)  # fmt: skip
    assert build.returncode == 0, build.stderr
    image = load_pipeline(folder).manifest.image_name
    assert build.stdout.startswith(image)
    run = run_studio("pipeline", "run", str(folder), "-i", "prompt=hi", "--runner", "docker",
                     "--out", str(tmp_path / "job"))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "[8/8] generating" in run.stderr
    docker_client.images.remove(image, force=True)
