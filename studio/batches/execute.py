"""Running a notebook with papermill: its ``parameters`` cell's values replaced, in a given
folder, on the ``python3`` kernel (this environment's ipykernel). The executed notebook is
saved as it goes (after each cell), and with the error when a cell fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from studio.batches.naming import FailedCell, cell_label

KERNEL: Final = "python3"


def execute(
    notebook: Path, *, output: Path, parameters: dict[str, Any], cwd: Path
) -> FailedCell | None:
    """Run ``notebook`` into ``output``; None when every cell ran, else the cell that failed
    (``output`` then holds the notebook up to it, its error included). Errors outside the
    notebook's cells (no kernel, an unreadable notebook) raise."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name=KERNEL,
            language="python",  # the kernel's: notebooks without language metadata run too
            cwd=str(cwd),
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=True,
        )
    except PapermillExecutionError as exc:
        executed = nbformat.read(output, as_version=4)  # type: ignore[no-untyped-call]
        return failed_cell(executed, exc.exec_count, exc.source, f"{exc.ename}: {exc.evalue}")
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
