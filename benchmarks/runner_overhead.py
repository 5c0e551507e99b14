"""Per-job overhead of the runners on a no-op pipeline, against the bare minimum of each
mechanism measured in the same run: ``python -c pass`` for a process, ``docker run --rm``
(create, start, wait, remove through the same SDK) for a container."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.timing import median_seconds, report
from studio.pipelines import Pipeline, load_pipeline
from studio.runner.base import Runner, create_job
from studio.runner.docker import DockerRunner
from studio.runner.process import ProcessRunner
from studio.runner.warm import WarmRunner

FOLDER = Path(__file__).parent / "pipelines" / "noop"
REPEAT = 10


def docker_or_none(pipeline: Pipeline) -> DockerRunner | None:
    """A DockerRunner with ``pipeline``'s image built, or None without a daemon."""
    from studio.errors import StudioError
    from studio.runner.docker import docker_client
    from studio.runner.images import ensure_image

    try:
        client = docker_client(timeout=300)
    except StudioError:
        return None
    ensure_image(pipeline, client=client, on_progress=lambda event: print(event.message))
    return DockerRunner(client=client)


def per_job(runner: Runner, pipeline: Pipeline, root: Path) -> float:
    count = iter(range(10**6))

    def one() -> None:
        job = create_job(pipeline, {}, job_dir=root / f"{runner.name}-{next(count)}")
        assert runner.run(pipeline, job).ok

    return median_seconds(one, repeat=REPEAT)


def main() -> None:
    pipeline = load_pipeline(FOLDER)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bare_python = median_seconds(
            lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeat=REPEAT
        )
        with ProcessRunner() as process:
            report("ProcessRunner no-op job", per_job(process, pipeline, root),
                   "python -c pass", bare_python)  # fmt: skip
        with WarmRunner("process") as warm:
            report("warm process no-op job", per_job(warm, pipeline, root),
                   "python -c pass", bare_python)  # fmt: skip
        docker = docker_or_none(pipeline)
        if docker is None:
            print("docker: no daemon reachable, skipped")
            return
        image = pipeline.manifest.image_name
        bare_docker = median_seconds(
            lambda: docker.client.containers.run(
                image, ["--help"], remove=True, network_mode="none"
            ),
            repeat=REPEAT,
        )
        with docker:
            report("DockerRunner no-op job", per_job(docker, pipeline, root),
                   "docker run --rm (SDK)", bare_docker)  # fmt: skip
        with WarmRunner("docker") as warm:
            report("warm docker no-op job", per_job(warm, pipeline, root),
                   "docker run --rm (SDK)", bare_docker)  # fmt: skip


if __name__ == "__main__":
    main()
