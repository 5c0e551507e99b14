"""Batch renders (issue 14 item 3): a notebook run with papermill in a project's folder, its
executed copy saved in ``04_Project_Files/Batch/`` and committed. ``studio.batch(...)`` is
the call (the package is plural, as ``studio.sweeps``, so it does not shadow it).

:mod:`~studio.batches.naming` is the pure part (names, ``-p`` values, the failed cell's line),
:mod:`~studio.batches.execute` runs papermill, :mod:`~studio.batches.store` saves, commits and
logs the run (a job of kind ``batch``), :mod:`~studio.batches.batch` puts them together.
"""

from studio.batches.batch import BatchFailed, BatchResult, batch_project, run_batch
from studio.batches.naming import BATCH_DIR, BATCH_KIND, FailedCell, parse_parameters, parse_value

__all__ = [
    "BATCH_DIR",
    "BATCH_KIND",
    "BatchFailed",
    "BatchResult",
    "FailedCell",
    "batch_project",
    "parse_parameters",
    "parse_value",
    "run_batch",
]
