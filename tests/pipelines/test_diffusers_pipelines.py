"""The seven diffusers pipelines run their real loading and inference code on tiny, randomly
initialised models (tests/pipelines/tiny_models.py) through the runner contract, in their
own environment (torch and diffusers never enter the studio's), offline."""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from studio.models import ModelStore
from studio.pipelines import get_pipeline
from studio.runner.base import create_job
from studio.runner.contract import ErrorCode, JobResult
from studio.runner.process import ProcessRunner
from tests.conftest import TINY_MODEL_IDS as MODELS

SMALL: dict[str, dict[str, Any]] = {
    "t2i-sd1.5": {"width": 64, "steps": 2},
    "t2i-flux-schnell": {"width": 64, "steps": 2},
    "t2i-flux-dev-fp16": {"width": 64, "steps": 2},
    "t2v-wan2.1-1.3b": {"width": 64, "steps": 2, "duration_s": 0.25},
    "t2v-wan2.1": {"width": 64, "steps": 2, "duration_s": 0.25},
    "i2v-ltx": {"width": 64, "steps": 2, "duration_s": 0.34},
    "t2v-ltx-13b": {"width": 96, "steps": 2, "duration_s": 0.34},
}
IMAGES = ["t2i-sd1.5", "t2i-flux-schnell", "t2i-flux-dev-fp16"]
VIDEOS = {  # pipeline -> (frames, fps) of SMALL's duration
    "t2v-wan2.1-1.3b": (5, 16),
    "t2v-wan2.1": (5, 16),
    "i2v-ltx": (9, 24),
    "t2v-ltx-13b": (9, 24),
}


def run(
    pipeline_id: str,
    tiny_models: ModelStore,
    job_dir: Path,
    *,
    on_event: Any = None,
    cancel: threading.Event | None = None,
    **inputs: Any,
) -> JobResult:
    pipeline = get_pipeline(pipeline_id)
    models = {model: tiny_models.path(model) for model in MODELS[pipeline_id]}
    values = {"prompt": "a red car in the city at night", **SMALL[pipeline_id], **inputs}
    job = create_job(pipeline, values, job_dir=job_dir, models=models)
    with ProcessRunner() as runner:
        return runner.run(pipeline, job, on_event=on_event, cancel=cancel)


def output(result: JobResult, job_dir: Path) -> Path:
    assert result.ok, result.error
    return job_dir / next(iter(result.outputs.values()))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("pipeline_id", IMAGES)
def test_an_image_pipeline_makes_a_png_of_the_asked_size_the_same_for_a_seed(
    pipeline_id: str, tiny_models: ModelStore, tmp_path: Path
) -> None:
    events: list[Any] = []
    first = run(pipeline_id, tiny_models, tmp_path / "a", seed=7, aspect_ratio="1:1",
                on_event=events.append)  # fmt: skip
    image = output(first, tmp_path / "a")
    with Image.open(image) as png:
        assert (png.format, png.size) == ("PNG", (64, 64))
    steps = [(e.step, e.total) for e in events if e.type == "progress" and e.total == 2]
    assert steps[-1] == (2, 2), steps  # each denoising step is reported
    recorded = json.loads((image.parent / "generation.json").read_text())
    assert recorded["seed"] == 7 and recorded["steps"] == 2 and recorded["scheduler"]
    again = run(pipeline_id, tiny_models, tmp_path / "b", seed=7, aspect_ratio="1:1")
    other = run(pipeline_id, tiny_models, tmp_path / "c", seed=8, aspect_ratio="1:1")
    assert digest(output(again, tmp_path / "b")) == digest(image)
    assert digest(output(other, tmp_path / "c")) != digest(image)


def test_the_frame_follows_the_projects_aspect_ratio(
    tiny_models: ModelStore, tmp_path: Path
) -> None:
    result = run("t2i-sd1.5", tiny_models, tmp_path / "j", aspect_ratio="16:9", width=128)
    with Image.open(output(result, tmp_path / "j")) as png:
        assert png.size == (128, 72)


def probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
         "stream=codec_name,width,height,r_frame_rate,nb_read_frames", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    stream: dict[str, Any] = json.loads(out)["streams"][0]
    return stream


@pytest.mark.parametrize("pipeline_id", list(VIDEOS))
def test_a_video_pipeline_makes_an_h264_mp4_at_the_models_fps_the_same_for_a_seed(
    pipeline_id: str, tiny_models: ModelStore, tmp_path: Path, make_png: Any
) -> None:
    extra: dict[str, Any] = {}
    if pipeline_id == "i2v-ltx":
        source = tmp_path / "still.png"
        source.write_bytes(make_png(96, 64))
        extra["image"] = str(source)
    else:
        extra["aspect_ratio"] = "16:9"
    video = output(run(pipeline_id, tiny_models, tmp_path / "a", seed=3, **extra), tmp_path / "a")
    frames, fps = VIDEOS[pipeline_id]
    stream = probe(video)
    assert stream["codec_name"] == "h264"
    assert stream["r_frame_rate"] == f"{fps}/1"
    assert int(stream["nb_read_frames"]) == frames
    assert stream["width"] > stream["height"]  # 16:9, or the still's 3:2
    again = run(pipeline_id, tiny_models, tmp_path / "b", seed=3, **extra)
    assert digest(output(again, tmp_path / "b")) == digest(video)


def test_a_cancel_stops_between_denoising_steps(tiny_models: ModelStore, tmp_path: Path) -> None:
    cancel = threading.Event()
    steps: list[int] = []

    def on_event(event: Any) -> None:
        if event.type == "progress" and event.total == 150:
            steps.append(event.step)
            if event.step == 2:
                cancel.set()

    result = run("t2i-sd1.5", tiny_models, tmp_path / "j", steps=150, on_event=on_event,
                 cancel=cancel)  # fmt: skip
    assert not result.ok and result.error is not None
    assert result.error.code == ErrorCode.CANCELED
    assert 2 <= max(steps) < 150  # stopped mid-way, not at the end


def test_a_missing_model_folder_is_a_setup_failure_naming_it(
    tiny_models: ModelStore, tmp_path: Path
) -> None:
    pipeline = get_pipeline("t2i-sd1.5")
    job = create_job(pipeline, {"prompt": "a cat", **SMALL["t2i-sd1.5"]}, job_dir=tmp_path / "j",
                     models={"sd1.5": tmp_path / "nowhere"})  # fmt: skip
    with ProcessRunner() as runner:
        result = runner.run(pipeline, job)
    assert not result.ok and result.error is not None
    assert result.error.code == ErrorCode.SETUP_FAILED
    assert "sd1.5" in result.error.message


@pytest.mark.slow
@pytest.mark.parametrize("pipeline_id", ["t2i-sd1.5", "t2v-wan2.1-1.3b"])
def test_in_docker_from_its_dockerfile_with_the_models_mounted_read_only(
    pipeline_id: str, tiny_models: ModelStore, tmp_path: Path, docker_client: Any,
    build_pipeline_image: Any,
) -> None:  # fmt: skip
    """Built with the local base image and a wheelhouse staged on the host (the build has
    no network); the container has none either, and the weights are a read-only mount."""
    from studio.runner.docker import DockerRunner

    pipeline = get_pipeline(pipeline_id)
    build_pipeline_image(pipeline)
    models = {model: tiny_models.path(model) for model in MODELS[pipeline_id]}
    values = {"prompt": "a red car", "seed": 5, "aspect_ratio": "1:1", **SMALL[pipeline_id]}
    job = create_job(pipeline, values, job_dir=tmp_path / "job", models=models)
    with DockerRunner(client=docker_client) as runner:
        result = runner.run(pipeline, job)
    made = output(result, tmp_path / "job")
    if pipeline_id in VIDEOS:
        frames, fps = VIDEOS[pipeline_id]
        stream = probe(made)
        assert (stream["codec_name"], stream["r_frame_rate"]) == ("h264", f"{fps}/1")
        assert (int(stream["nb_read_frames"]), stream["width"], stream["height"]) == (
            frames,
            64,
            64,
        )
    else:
        with Image.open(made) as png:
            assert (png.format, png.size) == ("PNG", (64, 64))
    local = run(pipeline_id, tiny_models, tmp_path / "local", seed=5, aspect_ratio="1:1")
    assert result.runner == "docker" and local.ok  # the same code, the other runner
