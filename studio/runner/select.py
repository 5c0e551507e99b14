"""Which runner a job gets when nothing says: its own module, because it knows the concrete
runners (docker, process), which build on :mod:`studio.runner.base`."""

from __future__ import annotations

from studio.config import load_settings
from studio.runner.base import Runner
from studio.runner.docker import DockerRunner, docker_available
from studio.runner.process import ProcessRunner


def default_runner() -> Runner:
    """The runner ``STUDIO_RUNNER`` asks for; ``auto``: Docker when a daemon answers, else
    local processes (the embedded default)."""
    choice = load_settings().runner
    if choice == "process":
        return ProcessRunner()
    if choice == "docker" or docker_available():
        return DockerRunner()
    return ProcessRunner()
