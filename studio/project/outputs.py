"""Post outputs: what a post node (Video restoration, Super resolution) makes of a take,
stored as immutable, versioned files beside it in the shot's render folder.

Naming (documented in README "Takes" and ``pipelines/README.md``): an output is named after
its source, the take (or the earlier output) it was made from, plus the post step's *kind*
(``restore``, ``sr``) and its own version and number::

    03_Renders/SCENE_01/SHOT_010/
      SHOT-010_v01_take03.mp4                                   the shot's take
      SHOT-010_v01_take03.restore_v01_take01.mp4                Video restoration of it
      SHOT-010_v01_take03.restore_v01_take01.sr_v01_take01.mp4  Super resolution of that
      SHOT-010_v01_take03.restore_v01_take01.take.json          each with its sidecar

so the chain an output came from is its name, read left to right, and no output's name can
collide with a take's (a take's name has no second dot). Everything else is the take
machinery (:mod:`studio.project.takes`): the sidecar is the reservation (``link(2)``), the
media file is created empty with ``O_EXCL`` and filled once, a job's reservation has a
lease, and the same version rule applies per (source, kind): an output keeps the newest
output's version when its creative fingerprint (pipeline and inputs: the source's name and
the post settings) is the same, and bumps it when the settings or the pipeline changed.
Outputs are committed like takes (``project.commit_takes``: media through LFS).

The sidecar (:class:`~studio.project.provenance.Provenance`) also records ``source`` (the
source file's name), ``post_node`` and ``node_type`` (the post node that made it) and
``settings`` (the node's settings passed to the pipeline).
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from studio.errors import InvalidInput
from studio.project.provenance import Provenance, creative_fingerprint, utc_now
from studio.project.takes import (
    SIDECAR_SUFFIX,
    Take,
    TakeId,
    claim,
    next_number,
    next_version,
    normalize_ext,
    reclaim_lock,
    shot_folder,
)
from studio.quality import Quality

KIND_PATTERN: Final = r"[a-z][a-z0-9]{0,15}"
_STEP = rf"{KIND_PATTERN}_v\d{{2,}}_take\d{{2,}}"
_OUTPUT = (
    rf"(?P<source>SHOT-\d{{3,}}_v\d{{2,}}_take\d{{2,}}(?:\.{_STEP})*)"
    rf"\.(?P<kind>{KIND_PATTERN})_v(?P<version>\d{{2,}})_take(?P<number>\d{{2,}})"
)
_MEDIA_RE: Final = re.compile(_OUTPUT + r"\.(?P<ext>[a-z0-9]{1,10})")
_SIDECAR_RE: Final = re.compile(_OUTPUT + re.escape(SIDECAR_SUFFIX))
_KIND_RE: Final = re.compile(KIND_PATTERN)
_SOURCE_RE: Final = re.compile(rf"SHOT-\d{{3,}}_v\d{{2,}}_take\d{{2,}}(?:\.{_STEP})*")


# --- naming (pure) -------------------------------------------------------------------------


def output_stem(*, source_stem: str, kind: str, version: int, number: int) -> str:
    """``SHOT-010_v01_take03.sr_v01_take01`` for the first ``sr`` output of that take."""
    if not _SOURCE_RE.fullmatch(source_stem):
        raise InvalidInput(
            f"{source_stem!r} is not the name of a take or an output (SHOT-010_v01_take03…)"
        )
    if not _KIND_RE.fullmatch(kind):
        raise InvalidInput(f"a post kind is 1-16 lower-case letters or digits, not {kind!r}")
    return f"{source_stem}.{kind}_v{version:02d}_take{number:02d}"


def output_file_name(*, source_stem: str, kind: str, version: int, number: int, ext: str) -> str:
    stem = output_stem(source_stem=source_stem, kind=kind, version=version, number=number)
    return f"{stem}.{normalize_ext(ext)}"


@dataclass(frozen=True, order=True)
class OutputId:
    """Which output of which source: ``(source stem, kind, version, number)``."""

    source: str
    kind: str
    version: int
    number: int

    @property
    def take_id(self) -> TakeId:
        return TakeId(self.version, self.number)


def parse_output_file(name: str) -> tuple[OutputId, str] | None:
    """(id, ext) of a media file named like an output, else None (a take is not one)."""
    match = _MEDIA_RE.fullmatch(name)
    if not match:
        return None
    return _id(match), match["ext"]


def parse_output_sidecar(name: str) -> OutputId | None:
    match = _SIDECAR_RE.fullmatch(name)
    return _id(match) if match else None


def _id(match: re.Match[str]) -> OutputId:
    return OutputId(match["source"], match["kind"], int(match["version"]), int(match["number"]))


# --- the output ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostOutput(Take):
    """An output of a post step: a take of its source (same sidecar, same immutability),
    named after it. ``version``/``number`` are the output's own."""

    source: str = ""
    """The stem of what it was made from (a take's, or an earlier output's)."""
    kind: str = ""


@dataclass
class OutputScan:
    """The outputs in one shot folder (one ``scandir``)."""

    outputs: dict[OutputId, str] = field(default_factory=dict)
    """Media files that are outputs (with a sidecar, or not empty), id -> extension."""
    sidecars: set[OutputId] = field(default_factory=set)


def scan_outputs(folder: Path) -> OutputScan:
    scan = OutputScan()
    named: dict[OutputId, str] = {}
    try:
        entries = os.scandir(folder)
    except FileNotFoundError:
        return scan
    with entries:
        for entry in entries:
            if parsed := parse_output_file(entry.name):
                named.setdefault(*parsed)
            elif (sidecar := parse_output_sidecar(entry.name)) is not None:
                scan.sidecars.add(sidecar)
    for output_id, ext in sorted(named.items()):
        if output_id in scan.sidecars or _size(folder / _name(output_id, ext)) > 0:
            scan.outputs[output_id] = ext
    return scan


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _name(output_id: OutputId, ext: str) -> str:
    return output_file_name(
        source_stem=output_id.source, kind=output_id.kind, version=output_id.version,
        number=output_id.number, ext=ext,
    )  # fmt: skip


def _output(folder: Path, *, scene: int, shot: int, output_id: OutputId, ext: str) -> PostOutput:
    return PostOutput(
        folder / _name(output_id, ext), scene, shot, output_id.version, output_id.number, ext,
        source=output_id.source, kind=output_id.kind,
    )  # fmt: skip


def list_outputs(
    project_root: Path,
    *,
    scene: int,
    shot: int,
    source: str | None = None,
    kind: str | None = None,
) -> list[PostOutput]:
    """The shot folder's outputs (of ``source``'s stem and ``kind`` when given), sorted by
    (source, kind, version, number): within one source and kind, newest last."""
    folder = project_root / shot_folder(scene=scene, shot=shot)
    return [
        _output(folder, scene=scene, shot=shot, output_id=output_id, ext=ext)
        for output_id, ext in sorted(scan_outputs(folder).outputs.items())
        if (source is None or output_id.source == source)
        and (kind is None or output_id.kind == kind)
    ]


def post_fingerprint(*, pipeline: str, inputs: dict[str, Any]) -> str:
    """The creative fingerprint of an output: its pipeline and its inputs (the source's name
    and the post settings). Quality and seed are left out (as the seed is for takes): the
    same step on the same source is the same output, re-made."""
    return creative_fingerprint(pipeline=pipeline, prompt=None, inputs=inputs, quality=None)


def _readable(path: Path) -> Provenance | None:
    from studio.documents import load_model
    from studio.errors import ManifestError

    try:
        return load_model(path, Provenance) if path.exists() else None
    except ManifestError:
        return None


def _expired(folder: Path, scan: OutputScan) -> list[OutputId]:
    now, found = utc_now(), []
    for output_id in sorted(scan.sidecars):
        ext = scan.outputs.get(output_id)
        if ext is not None and _size(folder / _name(output_id, ext)) > 0:
            continue
        stem = output_stem(source_stem=output_id.source, kind=output_id.kind,
                           version=output_id.version, number=output_id.number)  # fmt: skip
        sidecar = _readable(folder / (stem + SIDECAR_SUFFIX))
        if sidecar is not None and sidecar.lease_expired(now):
            found.append(output_id)
    return found


def reclaim_expired_outputs(project_root: Path, folder: Path) -> list[str]:
    """Remove output reservations whose lease ran out while still empty (their job died);
    re-checked under the takes' reclaim lock, media first, then the sidecar, so a fresh
    reservation of the same number is never touched. Returns the sidecar names removed."""
    if not _expired(folder, scan_outputs(folder)):
        return []
    removed = []
    with reclaim_lock(project_root):
        scan = scan_outputs(folder)
        for output_id in _expired(folder, scan):
            if (ext := scan.outputs.get(output_id)) is not None:
                (folder / _name(output_id, ext)).unlink(missing_ok=True)
            stem = output_stem(source_stem=output_id.source, kind=output_id.kind,
                               version=output_id.version, number=output_id.number)  # fmt: skip
            (folder / (stem + SIDECAR_SUFFIX)).unlink(missing_ok=True)
            removed.append(stem + SIDECAR_SUFFIX)
    return removed


def reserve_output(
    project_root: Path,
    *,
    source: Take,
    kind: str,
    ext: str,
    pipeline: str,
    inputs: dict[str, Any],
    quality: Quality | None = None,
    job_id: str | None = None,
    lease_s: float | None = None,
    recorded: dict[str, Any] | None = None,
) -> PostOutput:
    """Reserve the next output of ``source`` (a take or an output of its shot) for the post
    step ``kind``; the rules are the takes' (see the module doc). ``recorded``: more
    provenance (``post_node``, ``node_type``, ``settings``)."""
    ext = normalize_ext(ext)
    folder = project_root / shot_folder(scene=source.scene, shot=source.shot)
    folder.mkdir(parents=True, exist_ok=True)
    fingerprint = post_fingerprint(pipeline=pipeline, inputs=inputs)
    reclaim_expired_outputs(project_root, folder)
    scan = scan_outputs(folder)
    mine = {i for i in scan.outputs if i.source == source.stem and i.kind == kind}
    used = {
        i.take_id for i in {*mine, *scan.sidecars} if i.source == source.stem and i.kind == kind
    }
    newest = max(mine, default=None)
    newest_provenance = None
    if newest is not None:
        stem = output_stem(source_stem=newest.source, kind=kind, version=newest.version,
                           number=newest.number)  # fmt: skip
        newest_provenance = _readable(folder / (stem + SIDECAR_SUFFIX))
    version = next_version(newest_provenance, newest.version if newest else None, fingerprint)
    number = next_number(used, version)
    token = secrets.token_hex(8)
    while True:
        name = output_file_name(source_stem=source.stem, kind=kind, version=version,
                                number=number, ext=ext)  # fmt: skip
        output = PostOutput(folder / name, source.scene, source.shot, version, number, ext,
                            reservation=token, source=source.stem, kind=kind)  # fmt: skip
        sidecar = Provenance.model_validate(
            {
                **(recorded or {}),
                "take": name,
                "creative_fingerprint": fingerprint,
                "pipeline": pipeline,
                "inputs": inputs,
                "quality": quality,
                "job_id": job_id,
                "reservation": token,
                "lease_s": lease_s,
                "source": source.name,
            }
        )
        if claim(output, sidecar):
            return output
        number += 1
