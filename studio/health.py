"""A project's health: what a killed process, a hand edit or a stray file left in the render
folders (``studio doctor PROJECT`` reports it, ``studio repair PROJECT`` fixes it).

Findings, by kind:

* ``untracked_take``: a complete take that is not committed (a clone or a push loses it);
  repair commits it, marked recovered in its provenance. A post node's outputs
  (:mod:`studio.project.outputs`) are examined and repaired as takes.
* ``orphan_reservation``: an empty reservation (or a sidecar without its media) whose job is
  over, or whose lease ran out; repair removes it.
* ``stray_file``: an empty file named like a take, without a sidecar (not a take: ignored for
  numbering); repair removes it.
* ``dangling_active_take``: ``active_take.json`` names a take that is not there (or does not
  read); repair removes it (the newest ready take is then active, as with no choice).
* ``lost_job``: the job log says a job runs, but no cluster holds it; repair settles it.
* ``canvas_numbers``: the canvas file holds numbers that are not standard JSON (``NaN``,
  ``Infinity``, ``1e999``, as older versions wrote them) or integers past ±(2^53 - 1) (which
  a browser rounds), so it does not open; repair removes each such field (a node position's
  ``x``/``y`` becomes 0, an item of a list becomes null), keeps the file as it was beside it
  (``main_canvas.json.before-repair-<time>``) and writes the result atomically under the
  canvas lock, one version up.
* ``broken_sidecar`` and ``missing_media``: need a person (the message says what to do).

Examining reads only (git ls-tree, the job log, the folders); the classification is pure.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from filelock import FileLock

from studio.atomic import atomic_write_bytes
from studio.documents import (
    NonStandardNumber,
    dump_json,
    load_model,
    strict_loads,
)
from studio.errors import ManifestError, StudioError
from studio.numbers import is_safe_integer
from studio.project import active_take, repo
from studio.project.layout import RENDERS_DIR
from studio.project.outputs import list_outputs, output_stem, scan_outputs
from studio.project.project import Project
from studio.project.provenance import Provenance, utc_now
from studio.project.takes import SIDECAR_SUFFIX, Take, scan_folder, take_stem

FindingKind = Literal[
    "untracked_take", "orphan_reservation", "stray_file", "dangling_active_take", "lost_job",
    "canvas_numbers", "broken_sidecar", "missing_media", "other_file",
]  # fmt: skip
REPAIRABLE: Final = frozenset(
    {
        "untracked_take",
        "orphan_reservation",
        "stray_file",
        "dangling_active_take",
        "lost_job",
        "canvas_numbers",
    }
)


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    path: str
    """Relative to the project (a take, a sidecar, a shot's active_take.json), or a job id."""
    message: str
    repairable: bool
    """``studio repair`` fixes it; otherwise the message says what a person should do."""
    scene: int | None = None
    shot: int | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# --- pure classification --------------------------------------------------------------------


def classify_reservation(
    provenance: Provenance, *, job_running: bool, now: datetime
) -> FindingKind | None:
    """An empty take (or a lone sidecar): orphaned when its job is over or its lease ran
    out; None while its job runs, or for one reserved by hand (no job, no lease)."""
    if job_running:
        return None
    if provenance.job_id is not None or provenance.lease_expired(now):
        return "orphan_reservation"
    return None


def classify_take(
    *, ready: bool, tracked: bool, provenance: Provenance | None, job_running: bool, now: datetime
) -> FindingKind | None:
    """A take (media present): untracked when complete and not committed (unless its job is
    still storing it), else what :func:`classify_reservation` says of an empty one."""
    if ready:
        return "untracked_take" if not tracked and not job_running else None
    if provenance is None:  # an empty file without a sidecar is a stray, not a take
        return None
    return classify_reservation(provenance, job_running=job_running, now=now)


# --- examining (reads only) -----------------------------------------------------------------


def bad_number(value: Any) -> bool:
    """Pure: a number not every JSON reader reads the same (NaN, ±infinity, an integer past
    ±(2^53 - 1))."""
    if isinstance(value, float):
        return not math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool) and not is_safe_integer(value)


def _token(value: Any) -> str:
    """Pure: a bad number as its file spelled it (``NaN``, ``-Infinity``, the digits)."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, float):
        return "Infinity" if value > 0 else "-Infinity"
    return str(value)


def clean_numbers(document: Any) -> tuple[Any, list[str]]:
    """Pure: ``document`` without its bad numbers, and what was changed (one line each): a
    field holding one is removed, except a position's ``x``/``y`` (required: it becomes 0);
    a list item becomes null."""
    changes: list[str] = []

    def clean(item: Any, path: str, parent_key: str) -> Any:
        if isinstance(item, dict):
            out: dict[str, Any] = {}
            for key, value in item.items():
                where = f"{path}.{key}" if path else key
                if bad_number(value):
                    if parent_key == "position" and key in ("x", "y"):
                        out[key] = 0
                        changes.append(f"{where}: {_token(value)} -> 0")
                    else:
                        changes.append(f"{where}: {_token(value)} removed")
                    continue
                out[key] = clean(value, where, key)
            return out
        if isinstance(item, list):
            cleaned: list[Any] = []
            for index, value in enumerate(item):
                if bad_number(value):
                    changes.append(f"{path}[{index}]: {_token(value)} -> null")
                    cleaned.append(None)
                else:
                    cleaned.append(clean(value, f"{path}[{index}]", parent_key))
            return cleaned
        return item

    return clean(document, "", ""), changes


def examine_canvas(project: Project) -> list[Finding]:
    """A ``canvas_numbers`` finding when the canvas file holds numbers that are not standard
    JSON or past 2^53 (its other problems are the canvas's own error when it is opened)."""
    path = project.canvas_path
    try:
        text = path.read_text(encoding="utf-8")
        strict_loads(text, exact_integers=False)  # as the canvas is opened
        strict_loads(text)
    except NonStandardNumber as exc:
        found = "a number that is not JSON" if exc.reason.endswith("finite)") else "an integer"
        return [Finding("canvas_numbers", _rel(project, path), f"the canvas holds {found}: {exc}",
                        True)]  # fmt: skip
    except (OSError, ValueError, RecursionError):
        pass  # missing or malformed otherwise: its own error says so; not repair's to fix
    return []


def tracked_renders(project: Project) -> set[str]:
    """Paths under 03_Renders that HEAD holds (one ``git ls-tree``): a take only staged (a
    commit killed before it moved HEAD) is not committed yet."""
    return repo.committed_paths(project.path, under=RENDERS_DIR)


def _rel(project: Project, path: Path) -> str:
    return path.relative_to(project.path).as_posix()


def examine_shot(
    project: Project,
    *,
    scene: int,
    shot: int,
    tracked: set[str],
    running_jobs: set[str],
    now: datetime,
) -> list[Finding]:
    """What is wrong in one shot's render folder."""
    folder = project.shot_path(scene=scene, shot=shot)
    where = {"scene": scene, "shot": shot}
    findings = []
    scan = scan_folder(folder)
    for name in scan.strays:
        rel = _rel(project, folder / name)
        message = "an empty file named like a take, without a sidecar: not a take, ignored"
        findings.append(Finding("stray_file", rel, message, rel not in tracked, **where))
    for name, take_name in sorted(scan.others.items()):
        rel = _rel(project, folder / name)
        message = (f"named like the take {take_name} with another extension: not a take, ignored; "
                   "rename or move it (the studio never removes it)")  # fmt: skip
        findings.append(Finding("other_file", rel, message, False, **where))
    view = project.shot_view(scene=scene, shot=shot)
    for take in view.takes:
        found = _examine_take(project, take, tracked=tracked, running=running_jobs, now=now)
        findings += [Finding(kind, rel, message, kind in REPAIRABLE, **where)
                     for kind, rel, message in found]  # fmt: skip
    for output in list_outputs(project.path, scene=scene, shot=shot):  # checked as takes
        found = _examine_take(project, output, tracked=tracked, running=running_jobs, now=now)
        findings += [Finding(kind, rel, message, kind in REPAIRABLE, **where)
                     for kind, rel, message in found]  # fmt: skip
    outputs = scan_outputs(folder)
    lone = [take_stem(shot=shot, version=i.version, number=i.number)
            for i in sorted(scan.sidecars - set(scan.takes))]  # fmt: skip
    lone += [output_stem(source_stem=i.source, kind=i.kind, version=i.version, number=i.number)
             for i in sorted(outputs.sidecars - set(outputs.outputs))]  # fmt: skip
    for stem in lone:
        sidecar = folder / (stem + SIDECAR_SUFFIX)
        found = _examine_lone_sidecar(project, sidecar, tracked=tracked, running=running_jobs,
                                      now=now)  # fmt: skip
        findings += [Finding(kind, rel, message, kind in REPAIRABLE, **where)
                     for kind, rel, message in found]  # fmt: skip
    if view.active_problem:
        rel = _rel(project, folder / active_take.ACTIVE_FILE)
        findings.append(Finding("dangling_active_take", rel, view.active_problem, True, **where))
    return findings


Found = list[tuple[FindingKind, str, str]]
"""(kind, path, message) of one file's problems."""


def _examine_take(
    project: Project, take: Take, *, tracked: set[str], running: set[str], now: datetime
) -> Found:
    rel = _rel(project, take.path)
    provenance, error = take.read_provenance()
    if error is not None:
        sidecar = _rel(project, take.sidecar_path)
        hint = (
            f"restore it with `git checkout -- {sidecar}`"
            if sidecar in tracked
            else ("fix it by hand (it is plain JSON)")
        )
        return [("broken_sidecar", sidecar, f"{error} ({hint})")]
    job_running = provenance is not None and provenance.job_id in running
    kind = classify_take(
        ready=take.ready, tracked=rel in tracked, provenance=provenance,
        job_running=job_running, now=now,
    )  # fmt: skip
    if kind == "untracked_take":
        return [(kind, rel, "a complete take that is not committed: a clone or a push would "
                 "lose it")]  # fmt: skip
    if kind == "orphan_reservation":
        why = "its job is over" if provenance and provenance.job_id else "its lease ran out"
        return [(kind, rel, f"an empty reservation nobody will fill ({why})")]
    return []


def _examine_lone_sidecar(
    project: Project, sidecar: Path, *, tracked: set[str], running: set[str], now: datetime
) -> Found:
    rel = _rel(project, sidecar)
    try:
        provenance = load_model(sidecar, Provenance)
    except ManifestError as exc:
        return [("broken_sidecar", rel, exc.message)]
    if rel in tracked:
        return [("missing_media", rel, f"the media of {provenance.take} is missing (it was "
                 "committed: restore it with `git checkout`)")]  # fmt: skip
    kind = classify_reservation(provenance, job_running=provenance.job_id in running, now=now)
    if kind is None:
        return []
    return [(kind, rel, "a reservation's sidecar without its media file")]


def examine(project: Project) -> list[Finding]:
    """Everything wrong with the project's takes and jobs (reads only; running jobs are told
    from lost ones by asking the clusters, as settling does)."""
    from studio.engine import jobs as job_log
    from studio.engine.settling import held_job_ids, recently_queued

    now = utc_now()
    unfinished = [
        state
        for state in job_log.jobs(project.path)
        if not state.finished and not recently_queued(state, now)
    ]
    alive = held_job_ids(unfinished) if unfinished else set()
    lost = [state for state in unfinished if state.job_id not in alive]
    running = {state.job_id for state in unfinished} - {state.job_id for state in lost}
    findings = [
        Finding("lost_job", state.job_id, f"the job log says job {state.job_id} is "
                f"{state.state}, but no cluster holds it", True)
        for state in lost
    ]  # fmt: skip
    findings += examine_canvas(project)
    tracked = tracked_renders(project)
    for scene, shot in project.shots():
        findings += examine_shot(
            project, scene=scene, shot=shot, tracked=tracked, running_jobs=running, now=now
        )
    return findings


# --- repairing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Repair:
    finding: Finding
    action: str
    """What was (or, in a dry run, would be) done."""
    error: str | None = None
    """Why it could not be done (the finding stays)."""

    def as_json(self) -> dict[str, Any]:
        return {"finding": self.finding.as_json(), "action": self.action, "error": self.error}


_ACTIONS: Final[dict[FindingKind, str]] = {
    "lost_job": "settle the lost job",
    "untracked_take": "commit the take (marked recovered)",
    "orphan_reservation": "remove the reservation",
    "stray_file": "remove the empty stray file",
    "dangling_active_take": "remove the stale active-take choice",
    "canvas_numbers": "remove the canvas's non-standard numbers (the old file kept beside it)",
}


def repair(project: Project, *, dry_run: bool = False) -> tuple[list[Repair], list[Finding]]:
    """Fix what :func:`examine` finds that can be fixed: lost jobs are settled first (their
    complete takes committed, their leftovers removed, as a retry would), then the rest.
    Returns what was done (with ``dry_run``: what would be; nothing changes) and what is
    still wrong afterwards."""
    from studio.engine import settle

    findings = examine(project)
    if dry_run:
        return [Repair(f, f"would {_ACTIONS[f.kind]}") for f in findings if f.repairable], findings
    done = []
    lost = [f for f in findings if f.kind == "lost_job"]
    if lost:
        settled = set(settle(project))
        done += [_outcome(f, ok=f.path in settled, error="no cluster could be asked")
                 for f in lost]  # fmt: skip
        findings = examine(project)
    for finding in findings:
        if finding.repairable and finding.kind != "lost_job":
            done.append(_repair_one(project, finding))
    return done, examine(project)


def _outcome(finding: Finding, *, ok: bool, error: str) -> Repair:
    action = _ACTIONS[finding.kind]
    return Repair(finding, action) if ok else Repair(finding, f"could not {action}", error)


def _repair_one(project: Project, finding: Finding) -> Repair:
    try:
        detail = _FIXES[finding.kind](project, finding)
    except (StudioError, OSError, ValueError) as exc:
        return _outcome(finding, ok=False, error=getattr(exc, "message", None) or str(exc))
    done = _outcome(finding, ok=True, error="")
    return Repair(finding, f"{done.action}: {detail}") if detail else done


def _take_of(project: Project, finding: Finding) -> Take | None:
    """The take a finding names (None when it is gone meanwhile)."""
    if finding.scene is None or finding.shot is None:
        return None
    name = Path(finding.path).name
    scene, shot = finding.scene, finding.shot
    outputs = list_outputs(project.path, scene=scene, shot=shot)  # a post node's, as takes
    for take in [*project.takes(scene=scene, shot=shot), *outputs]:
        if take.name == name:
            return take
    return None


def _commit_untracked(project: Project, finding: Finding) -> None:
    take = _take_of(project, finding)
    if take is None or not take.ready:
        return
    if take.read_provenance()[0] is not None:  # a hand-copied take has no sidecar to mark
        take.record(recovered_at=utc_now(), recovered_by="repair")
    project.commit_takes([take], message=f"Repair: commit {take.name}, left uncommitted")


def _remove_reservation(project: Project, finding: Finding) -> None:
    take = _take_of(project, finding)
    if take is not None:
        if take.ready:  # written meanwhile: a take now, not a reservation
            return
        take.path.unlink(missing_ok=True)  # media first: a lone sidecar still holds the number
        take.sidecar_path.unlink(missing_ok=True)
    elif finding.path.endswith(SIDECAR_SUFFIX):
        (project.path / finding.path).unlink(missing_ok=True)


def _remove_stray(project: Project, finding: Finding) -> None:
    path = project.path / finding.path
    if path.is_file() and path.stat().st_size == 0 and not _sidecar_beside(path).exists():
        path.unlink()


def _sidecar_beside(media: Path) -> Path:
    return media.with_name(media.name.rsplit(".", 1)[0] + SIDECAR_SUFFIX)


def _remove_active_choice(project: Project, finding: Finding) -> None:
    path = project.path / finding.path
    tracked = repo.is_committed(project.path, path)
    path.unlink(missing_ok=True)
    if tracked:  # the removal is committed too, so a clone does not bring the stale choice back
        repo.commit_paths(project.path, [path], message="Repair: remove a stale active-take choice")


def _repair_canvas_numbers(project: Project, finding: Finding) -> str | None:
    path = project.path / finding.path
    # the lock Graph.save takes: no save lands between this read and this write
    with FileLock(path.with_name(f".{path.name}.lock")):
        document = json.loads(path.read_bytes())  # Python's own reader takes NaN, 1e999
        cleaned, changes = clean_numbers(document)
        if not changes:
            return None  # fixed meanwhile
        if isinstance(cleaned, dict):
            version = cleaned.get("version", 1)
            valid = isinstance(version, int) and not isinstance(version, bool) and version >= 1
            cleaned["version"] = version + 1 if valid else 1
        content = dump_json(cleaned, where=path)
        backup = _free_name(path, f"before-repair-{utc_now().strftime('%Y%m%dT%H%M%SZ')}")
        shutil.copy2(path, backup)
        atomic_write_bytes(path, content)
    return f"{'; '.join(changes)} (the file as it was: {_rel(project, backup)})"


def _free_name(path: Path, tag: str) -> Path:
    """``<name>.<tag>``, or ``<name>.<tag>-2``... when taken: a backup never overwrites one."""
    candidate = path.with_name(f"{path.name}.{tag}")
    for n in itertools.count(2):
        if not candidate.exists():
            return candidate
        candidate = path.with_name(f"{path.name}.{tag}-{n}")
    raise AssertionError("unreachable")


_FIXES: Final[dict[FindingKind, Callable[[Project, Finding], str | None]]] = {
    "untracked_take": _commit_untracked,
    "orphan_reservation": _remove_reservation,
    "stray_file": _remove_stray,
    "dangling_active_take": _remove_active_choice,
    "canvas_numbers": _repair_canvas_numbers,
}
