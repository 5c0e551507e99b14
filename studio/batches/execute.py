"""Running a notebook with papermill: its ``parameters`` cell's values replaced, in a given
folder, on the ``python3`` kernel (this environment's ipykernel). The executed notebook is
saved as it goes (after each cell), and with the error when a cell fails. A run can be
stopped: its kernel is interrupted until the cell it runs ends (papermill then stops)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Final

from studio.batches.naming import FailedCell, cell_label

KERNEL: Final = "python3"
INTERRUPT_EVERY_S: Final = 0.5
"""How often a stopped run's kernel is interrupted again (an interrupt that arrives between
two cells, or while the kernel starts, is lost: the next one ends the running cell)."""


def execute(
    notebook: Path,
    *,
    output: Path,
    parameters: dict[str, Any],
    cwd: Path,
    stop: threading.Event | None = None,
    env: dict[str, str] | None = None,
) -> FailedCell | None:
    """Run ``notebook`` into ``output``; None when every cell ran, else the cell that failed
    (``output`` then holds the notebook up to it, its error included). When ``stop`` is set
    the running cell is interrupted (it fails with ``KeyboardInterrupt``) and no further cell
    runs. ``env``: set in the kernel's environment. Errors outside the notebook's cells (no
    kernel, an unreadable notebook) raise."""
    import nbformat
    import papermill
    from jupyter_client.manager import KernelManager
    from papermill.exceptions import PapermillExecutionError

    # The run's own kernel manager (papermill would make one it keeps to itself), so a stop
    # can interrupt the kernel; shut down here, since papermill leaves a given one running.
    kernel = KernelManager(kernel_name=KERNEL)
    finished = threading.Event()
    interrupter = threading.Thread(
        target=_interrupt_when_stopped, args=(kernel, stop, finished), daemon=True,
        name="batch-stop",
    )  # fmt: skip
    if stop is not None:
        interrupter.start()
    try:
        # Started here in ``cwd`` (not by papermill's chdir: the process's folder, shared by
        # the threads of a Dask worker, stays as it is).
        kernel.start_kernel(cwd=str(cwd), env={**os.environ, **(env or {})})
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name=KERNEL,
            language="python",  # the kernel's: notebooks without language metadata run too
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=True,
            km=kernel,
        )
    except PapermillExecutionError as exc:
        executed = nbformat.read(output, as_version=4)  # type: ignore[no-untyped-call]
        return failed_cell(executed, exc.exec_count, exc.source, f"{exc.ename}: {exc.evalue}")
    finally:
        finished.set()
        if interrupter.is_alive():
            interrupter.join()
        if kernel.has_kernel:
            kernel.shutdown_kernel(now=True)
    return None


PAPERMILL_TAGS: Final = frozenset({"papermill-error-cell-tag", "injected-parameters"})
"""The cells papermill adds to the executed notebook (not counted in a cell's index)."""


def failed_cell(executed: Any, exec_count: int | None, source: str, error: str) -> FailedCell:
    """The failed cell, its index counted as in the notebook that was run (the cells
    papermill adds left out: the error notes, the injected parameters)."""
    index = 0
    for cell in executed.cells:
        tags = list(cell.get("metadata", {}).get("tags", []))
        if PAPERMILL_TAGS & set(tags):
            continue
        errored = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        if cell.cell_type == "code" and (
            errored or (exec_count is not None and cell.get("execution_count") == exec_count)
        ):
            return FailedCell(index=index, label=cell_label(cell.source, tags), error=error)
        index += 1
    return FailedCell(index=-1, label=cell_label(source, []), error=error)


def _interrupt_when_stopped(
    kernel: Any, stop: threading.Event | None, finished: threading.Event
) -> None:
    if stop is None:
        return
    while not finished.is_set():
        if not stop.wait(INTERRUPT_EVERY_S):
            continue
        if kernel.has_kernel:
            kernel.interrupt_kernel()
        finished.wait(INTERRUPT_EVERY_S)
