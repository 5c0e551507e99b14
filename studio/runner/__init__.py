"""The Function Runner: runs pipeline jobs (ARCHITECTURE.md contract 5) in Docker containers
or local processes, one-shot or in warm workers. See ``pipelines/README.md``."""

from studio.runner.base import Runner, create_job
from studio.runner.contract import ErrorCode, JobFailed, JobResult, JobSpec
from studio.runner.select import default_runner

__all__ = [
    "ErrorCode",
    "JobFailed",
    "JobResult",
    "JobSpec",
    "Runner",
    "create_job",
    "default_runner",
]
