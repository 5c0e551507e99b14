"""Sweeps (issue 14 item 1): one shot generated over axes of values on the cluster.

:mod:`~studio.sweeps.cells` expands and checks the axes (pure), :mod:`~studio.sweeps.grid`
places the cells in a labelled grid (pure; the gallery and the contact sheet draw it),
:mod:`~studio.sweeps.sheet` draws the contact sheet, :mod:`~studio.sweeps.store` keeps a
sweep in ``04_Project_Files/Sweeps/<id>.json``, :mod:`~studio.sweeps.sweep` submits its
cells as ordinary engine jobs and follows them in the job log (``Sweep``).
"""

from studio.sweeps.cells import Axis, Cell, Mode, SweepError, expand, sweep_axes
from studio.sweeps.sweep import Sweep, SweepProgress, open_sweep, project_sweeps, start_sweep

__all__ = [
    "Axis",
    "Cell",
    "Mode",
    "Sweep",
    "SweepError",
    "SweepProgress",
    "expand",
    "open_sweep",
    "project_sweeps",
    "start_sweep",
    "sweep_axes",
]
