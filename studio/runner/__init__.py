"""The Function Runner: runs pipeline jobs (ARCHITECTURE.md contract 5) in Docker containers
or local processes, one-shot or in warm workers. See ``pipelines/README.md``."""

from studio.runner.base import Runner, create_job, default_runner
from studio.runner.contract import ErrorCode, JobFailed, JobResult, JobSpec

__all__ = [
    "ErrorCode",
    "JobFailed",
    "JobResult",
    "JobSpec",
    "Runner",
    "create_job",
    "default_runner",
]
