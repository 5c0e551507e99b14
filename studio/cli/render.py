"""``studio render PROJECT``: the Assembler's sequence exported as a new EDL version, then the
final video rendered from it (``render_final_video`` on a CPU worker of the Dask cluster).

Progress goes to stderr; stdout gets the film's path (or, with ``--json``, the result). Exit
status: 0 rendered, 1 refused or failed (the error and its hint on stderr; with ``--json`` an
``{"ok": false, ...}`` object on stdout too), 130 canceled with Ctrl+C (the render is stopped
and leaves no file in ``06_Exports``).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from studio.cli.app import app, err_console
from studio.cli.options import JsonOption, WorkspaceOption
from studio.errors import StudioError
from studio.quality import QUALITIES
from studio.workspace import existing_workspace

if TYPE_CHECKING:
    from studio.assembly.export import EDLExport
    from studio.engine.rendering import FinalVideo, RenderJob
    from studio.project.project import Project

CANCEL_WAIT_S: Final = 60.0
"""After Ctrl+C, how long to wait for the worker to confirm the render stopped."""
EXIT_CANCELED: Final = 130


def export_summary(root: Path, export: EDLExport) -> dict[str, Any]:
    """The JSON shape of an EDL export (``--edl-only``): project-relative paths."""
    return {
        "ok": True,
        "edl": export.edl.relative_to(root).as_posix(),
        "otio": export.otio.relative_to(root).as_posix(),
        "fcp_xml": export.fcp_xml.relative_to(root).as_posix(),
        "version": export.version,
        "commit": export.commit,
        "clips": len(export.sequence.clips),
        "frames": export.sequence.duration,
        "frame_rate": export.sequence.frame_rate.label,
    }


def film_summary(root: Path, job_id: str, film: FinalVideo) -> dict[str, Any]:
    """The JSON shape of a render: the film and the EDL it came from, project-relative."""

    def relative(path: Path | None) -> str | None:
        return path.relative_to(root).as_posix() if path is not None else None

    return {
        "ok": True,
        "job_id": job_id,
        "output": relative(film.path),
        "path": str(film.path),
        "version": film.version,
        "edl": relative(film.edl),
        "otio": relative(film.otio),
        "fcp_xml": relative(film.fcp_xml),
        "frames": film.frames,
        "duration_s": film.duration_s,
        "frame_rate": film.frame_rate,
        "width": film.width,
        "height": film.height,
        "render_s": film.render_s,
    }


def _show_progress(job: RenderJob) -> None:
    """Each new step of the job on stderr (one line each, as they change)."""
    shown: list[str] = []

    def watch(status: dict[str, Any]) -> None:
        state, step = status.get("state", "queued"), status.get("step", "")
        line = f"{state}: {step}" if step else str(state)
        if state in ("success", "failed", "canceled") or (shown and shown[-1] == line):
            return
        shown.append(line)
        err_console.print(line, markup=False, highlight=False)

    job.follow(watch)


def _wait(job: RenderJob) -> FinalVideo:
    """The film; Ctrl+C cancels the render and waits (bounded) until it stopped."""
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def wait() -> None:
        try:
            outcome["film"] = job.result()
        except BaseException as exc:  # handed to the main thread below
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=wait, daemon=True, name="render-wait").start()
    try:
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        err_console.print("canceling the render…", highlight=False)
        job.cancel()
        done.wait(CANCEL_WAIT_S)
        raise typer.Exit(EXIT_CANCELED) from None
    if "error" in outcome:
        raise outcome["error"]
    film: FinalVideo = outcome["film"]
    return film


def failure_summary(exc: StudioError) -> dict[str, Any]:
    """The JSON shape of a refusal or a failed render: ``code`` (the job's error code, or
    the refusal's kind), ``error``, ``hint``, and ``node_id`` when a node is to be fixed."""
    from studio.runner.contract import JobFailed

    if isinstance(exc, JobFailed):
        code, message = str(exc.code), exc.failure.message
    else:
        code, message = type(exc).__name__, exc.message
    summary: dict[str, Any] = {"ok": False, "code": code, "error": message, "hint": exc.hint}
    if node_id := getattr(exc, "node_id", None):
        summary["node_id"] = node_id
    return summary


def _render(
    project: Project, *, quality: str | None, assembler: str | None
) -> tuple[FinalVideo, str]:
    err_console.print("exporting the EDL and submitting the render…", highlight=False)
    job = project.render(quality=quality, assembler=assembler)  # type: ignore[arg-type]
    blueprint = job.export.edl.name if job.export else "the EDL, once its post nodes have run"
    err_console.print(f"{blueprint} → render job {job.id}", highlight=False)
    _show_progress(job)
    return _wait(job), job.id


@app.command()
def render(
    project: Annotated[str, typer.Argument(help="Project folder name, uuid or title.")],
    edl_only: Annotated[
        bool, typer.Option("--edl-only", help="Write the EDL, OTIO and FCP XML only.")
    ] = False,
    assembler: Annotated[
        str | None,
        typer.Option(help="The Assembler node's id (default: the canvas's only one)."),
    ] = None,
    quality: Annotated[
        str | None, typer.Option(help="low, standard or high (default: the project's).")
    ] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Render the final video: the sequence exported as a new EDL version (committed), then
    rendered from that EDL into 06_Exports/<title>_v###.mp4 (versioned, never overwritten)
    on the Dask cluster (STUDIO_SCHEDULER, else a local one)."""
    if quality is not None and quality not in QUALITIES:
        raise typer.BadParameter(f"quality must be one of {', '.join(QUALITIES)}")
    opened = existing_workspace(workspace).open_project(project)
    try:
        if edl_only:
            export = opened.export_edl(assembler)
        else:
            film, job_id = _render(opened, quality=quality, assembler=assembler)
    except StudioError as exc:
        if as_json:  # the refusal as data too; the message and hint go to stderr as always
            typer.echo(json.dumps(failure_summary(exc), ensure_ascii=False))
        raise
    if edl_only:
        if as_json:
            typer.echo(json.dumps(export_summary(opened.path, export), ensure_ascii=False))
        else:
            for path in export.paths:
                typer.echo(str(path))
        return
    if as_json:
        typer.echo(json.dumps(film_summary(opened.path, job_id, film), ensure_ascii=False))
    else:
        err_console.print(repr(film), markup=False, highlight=False)
        typer.echo(str(film.path))
