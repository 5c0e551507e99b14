"""The Generative Engine (issue 5): a Dask cluster with GPU-memory resources, the pure
dispatcher, worker tasks, the durable job log and the kernel-side ``Engine``/``Job``.

>>> from studio.engine import generate
>>> job = generate(project, "shot-1")          # project.generate("shot-1") does the same
>>> job.result(timeout=120)                      # the Take
>>> generate(project, "restore-1").result()      # a post node: its output (a PostOutput)
>>> generate_pending(project, project.sequence().pending)  # the stale post steps, in order
"""

from studio.engine.dispatch import Dispatch, NoPipeline, NoWorkerFits, dispatch
from studio.engine.engine import (
    Engine,
    Job,
    JobRequest,
    default_engine,
    generate,
    generate_pending,
    project_jobs,
)
from studio.engine.inputs import Overrides
from studio.engine.jobs import JobState
from studio.engine.settling import settle

__all__ = [
    "Dispatch",
    "Engine",
    "Job",
    "JobRequest",
    "JobState",
    "NoPipeline",
    "NoWorkerFits",
    "Overrides",
    "default_engine",
    "dispatch",
    "generate",
    "generate_pending",
    "project_jobs",
    "settle",
]
