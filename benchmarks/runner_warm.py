"""Warm vs one-shot: a synthetic pipeline with a 2 s setup and 0.1 s per job, 20 jobs.

Prints warm / ideal (setup + 20 x job: what a perfect warm worker would take) and
one-shot / warm, for local processes and, when a Docker daemon answers, for containers.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from studio.pipelines import Pipeline, load_pipeline
from studio.runner.base import Runner, create_job
from studio.runner.process import ProcessRunner
from studio.runner.warm import WarmRunner

JOBS = 20
SETUP_S, JOB_S = 2.0, 0.1
FOLDER = Path(__file__).parent / "pipelines" / "synthetic"


def run_jobs(runner: Runner, pipeline: Pipeline, root: Path, name: str) -> float:
    started = time.perf_counter()
    for i in range(JOBS):
        job = create_job(pipeline, {"work_s": JOB_S}, job_dir=root / f"{name}-{i}")
        result = runner.run(pipeline, job)
        assert result.ok, result.error
    return time.perf_counter() - started


def compare(label: str, one_shot: Runner, warm: Runner, pipeline: Pipeline, root: Path) -> None:
    with one_shot, warm:
        warm_s = run_jobs(warm, pipeline, root, f"{label}-warm")
        one_shot_s = run_jobs(one_shot, pipeline, root, f"{label}-one-shot")
    ideal = SETUP_S + JOBS * JOB_S
    print(
        f"{label}: {JOBS} jobs warm {warm_s:.2f} s, one-shot {one_shot_s:.2f} s, "
        f"ideal {ideal:.2f} s -> warm/ideal {warm_s / ideal:.2f}x, "
        f"one-shot/warm {one_shot_s / warm_s:.2f}x"
    )


def main() -> None:
    pipeline = load_pipeline(FOLDER)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        compare("process", ProcessRunner(), WarmRunner("process"), pipeline, root)
        from benchmarks.runner_overhead import docker_or_none

        docker = docker_or_none(pipeline)
        if docker is None:
            print("docker: no daemon reachable, skipped")
            return
        compare("docker", docker, WarmRunner("docker"), pipeline, root)


if __name__ == "__main__":
    main()
