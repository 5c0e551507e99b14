"""Runners under test: every behaviour is checked through ProcessRunner and DockerRunner."""

from __future__ import annotations

import pytest

from studio.pipelines import Pipeline, get_pipeline, load_pipeline
from studio.runner.base import Runner
from studio.runner.environments import ensure_environment
from studio.runner.process import ProcessRunner
from tests.runner.media import MISBEHAVE


@pytest.fixture(scope="session")
def misbehave() -> Pipeline:
    return load_pipeline(MISBEHAVE)


@pytest.fixture(params=["process", "docker"])
def runner_kind(request) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def make_runner(runner_kind, request):
    """``make_runner(*pipelines) -> Runner`` of the parametrized kind, images (or local
    environments) made."""
    made: list[Runner] = []

    def make(*pipelines: Pipeline, **kwargs) -> Runner:
        if runner_kind == "docker":
            from studio.runner.docker import DockerRunner

            client = request.getfixturevalue("docker_client")
            build = request.getfixturevalue("build_pipeline_image")
            for pipeline in pipelines:
                build(pipeline)
            runner: Runner = DockerRunner(client=client, **kwargs)
        else:
            for pipeline in pipelines:  # made ahead, as images are: jobs then report no setup
                ensure_environment(pipeline, on_progress=lambda event: None)
            runner = ProcessRunner(**kwargs)
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.close()


@pytest.fixture
def builtin():
    return get_pipeline
