"""Takes (PRD §3.3, contract 2): naming, atomic reservation, and listing by folder scan.

Layout: ``03_Renders/SCENE_{scene:02d}/SHOT_{shot:03d}/`` holds
``SHOT-{shot:03d}_v{version:02d}_take{n:02d}.{ext}``, each with its sidecar
``SHOT-..._takeNN.take.json`` beside it.

* **Reservation.** The sidecar is the reservation token: it is published with ``link(2)``,
  which fails when the name exists, so of several writers (processes, or machines sharing the
  folder over NFS) exactly one gets a number. The media file is then created empty with
  ``O_EXCL``; :meth:`Take.write_bytes` fills it atomically, once. Nothing is ever overwritten.
* **What is a take.** A media file named like a take is a take when it has its sidecar, or
  when it is not empty (a take copied in by hand, provenance unknown). An *empty* file named
  like a take without a sidecar is a *stray* (nobody reserved it: reservations publish the
  sidecar first): it is not listed and counts for neither numbers nor versions, and
  ``studio doctor`` reports it.
* **Numbers.** Take numbers count up within a version: ``v01_take01, v01_take02, v02_take01``.
  The next number is one more than the highest take or reservation (a sidecar) found in the
  folder for that version. On a collision (another reservation took the name first) the
  version and number are chosen again from a fresh scan, so concurrent reservations of
  different creative inputs still land in versions of their own.
* **Versions.** ``vNN`` is the shot's creative version. A new take keeps the newest take's
  version when its creative fingerprint (pipeline, prompt, inputs, quality; not the seed) is
  the same (the newest take or reservation: one still being made counts), and bumps it by
  one when anything creative changed (or is unknown: no sidecar, or one that does not read).
  ``version=`` forces one.
* **Leases.** A reservation made by a job records its lifetime (``lease_s``); an empty one
  older than that was abandoned (its process died) and the next reservation reclaims it.
* **Listing** is a scan of the folder: every take, sorted by (version, number); one still
  empty is *reserved*, one whose sidecar does not read is *broken* (the rest still list).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from filelock import FileLock

from studio.atomic import atomic_write_bytes
from studio.documents import create_model, load_model, write_model
from studio.errors import InvalidInput, ManifestError, TakeError
from studio.project.layout import RENDERS_DIR
from studio.project.provenance import Provenance, creative_fingerprint, utc_now
from studio.quality import Quality

TakeState = Literal["ready", "reserved", "broken"]

SIDECAR_SUFFIX: Final = ".take.json"
MAX_SCENE: Final = 999
MAX_SHOT: Final = 9999
_STEM = r"SHOT-(?P<shot>\d{3,})_v(?P<version>\d{2,})_take(?P<number>\d{2,})"
_MEDIA_RE: Final = re.compile(_STEM + r"\.(?P<ext>[a-z0-9]{1,10})")
_SIDECAR_RE: Final = re.compile(_STEM + re.escape(SIDECAR_SUFFIX))
_EXT_RE: Final = re.compile(r"[a-z0-9]{1,10}")
_SCENE_DIR_RE: Final = re.compile(r"SCENE_(\d{2,})")
_SHOT_DIR_RE: Final = re.compile(r"SHOT_(\d{3,})")


# --- naming (pure) -------------------------------------------------------------------------


def _check_number(value: int, *, name: str, maximum: int, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidInput(
            f"{name} must be a whole number from {minimum} to {maximum}, not {value!r}"
        )
    return value


def normalize_ext(ext: str) -> str:
    """``".PNG"`` -> ``"png"``; refuse anything that is not a short alphanumeric extension."""
    clean = ext.lower().removeprefix(".")
    if not _EXT_RE.fullmatch(clean):
        raise InvalidInput(
            f"take extension must be 1-10 letters or digits (like 'png'), not {ext!r}"
        )
    return clean


def shot_folder(*, scene: int, shot: int) -> str:
    """``03_Renders/SCENE_01/SHOT_010`` (relative to the project root)."""
    _check_number(scene, name="scene", maximum=MAX_SCENE)
    _check_number(shot, name="shot", maximum=MAX_SHOT)
    return f"{RENDERS_DIR}/SCENE_{scene:02d}/SHOT_{shot:03d}"


def take_stem(*, shot: int, version: int, number: int) -> str:
    return f"SHOT-{shot:03d}_v{version:02d}_take{number:02d}"


def take_file_name(*, shot: int, version: int, number: int, ext: str) -> str:
    return f"{take_stem(shot=shot, version=version, number=number)}.{normalize_ext(ext)}"


@dataclass(frozen=True, order=True)
class TakeId:
    version: int
    number: int


def parse_take_file(name: str) -> tuple[TakeId, str] | None:
    """(id, ext) of a media file named like a take, else None."""
    match = _MEDIA_RE.fullmatch(name)
    if not match:
        return None
    return TakeId(int(match["version"]), int(match["number"])), match["ext"]


def parse_sidecar_file(name: str) -> TakeId | None:
    match = _SIDECAR_RE.fullmatch(name)
    return TakeId(int(match["version"]), int(match["number"])) if match else None


def next_version(newest: Provenance | None, newest_version: int | None, fingerprint: str) -> int:
    """The version rule: same creative fingerprint as the newest take -> same version."""
    if newest_version is None:
        return 1
    if newest is not None and newest.creative_fingerprint == fingerprint:
        return newest_version
    return newest_version + 1


def next_number(taken: set[TakeId], version: int) -> int:
    return max((t.number for t in taken if t.version == version), default=0) + 1


# --- the take --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Take:
    """One take: an immutable media file plus its provenance sidecar."""

    path: Path
    scene: int
    shot: int
    version: int
    number: int
    ext: str
    reservation: str | None = field(default=None, compare=False)
    """The token of the reservation this object made (None for a take found by listing)."""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def stem(self) -> str:
        """The name without its extension (``SHOT-010_v01_take03``): what a sidecar and an
        output made from this take are named after."""
        return self.path.name.removesuffix(f".{self.ext}")

    @property
    def sidecar_path(self) -> Path:
        return self.path.with_name(self.stem + SIDECAR_SUFFIX)

    @property
    def ready(self) -> bool:
        """True once the media has been written (a reserved take is an empty file)."""
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    @property
    def provenance(self) -> Provenance | None:
        """The sidecar, or None for a take that has none (e.g. copied in by hand). A sidecar
        that does not read raises ``ManifestError`` (see :meth:`read_provenance`)."""
        return _read_sidecar(self.sidecar_path)

    def read_provenance(self) -> tuple[Provenance | None, str | None]:
        """``(sidecar, None)``; ``(None, None)`` without one; ``(None, why)`` when the sidecar
        does not read, so one bad sidecar never stops a listing of the whole shot."""
        try:
            return self.provenance, None
        except ManifestError as exc:
            return None, exc.message

    @property
    def state(self) -> TakeState:
        """``ready`` (written), ``reserved`` (still empty) or ``broken`` (unreadable sidecar)."""
        if self.read_provenance()[1] is not None:
            return "broken"
        return "ready" if self.ready else "reserved"

    def write_bytes(self, data: bytes, *, sync_folder: bool = True) -> None:
        """Fill the reserved take with ``data``, atomically and exactly once.
        ``sync_folder=False``: the file is durable, its name only once the folder is synced
        (:meth:`record` does): until then a power cut may leave the reservation empty."""
        if not data:
            raise TakeError(f"refusing to write an empty take to {self.name}")
        if self.ready:
            raise TakeError(
                f"{self.name} is already written; takes are immutable",
                hint="reserve a new take with project.new_take(...)",
            )
        if not self._still_reserved():
            raise TakeError(
                f"{self.name} is no longer reserved by you: the reservation outlived its lease "
                "and was reclaimed (or its sidecar was removed)",
                hint="reserve a new take with project.new_take(...)",
            )
        atomic_write_bytes(self.path, data, sync_folder=sync_folder)

    def _still_reserved(self) -> bool:
        if self.reservation is None:  # found by listing: its sidecar must still be there
            return self.sidecar_path.exists()
        sidecar = _readable_sidecar(self.sidecar_path)
        return sidecar is not None and sidecar.reservation == self.reservation

    def write_from(self, source: Path, *, sync_folder: bool = True) -> None:
        """Fill the reserved take with a copy of ``source`` (``sync_folder``: see
        :meth:`write_bytes`)."""
        self.write_bytes(Path(source).read_bytes(), sync_folder=sync_folder)

    def record(self, **fields: Any) -> Provenance:
        """Update the sidecar (e.g. ``image_digest=``, ``finished_at=``); returns it."""
        current = self.provenance or Provenance(
            take=self.name,
            creative_fingerprint=creative_fingerprint(
                pipeline=None, prompt=None, inputs={}, quality=None
            ),
        )
        updated = Provenance.model_validate({**current.model_dump(), **fields})
        write_model(self.sidecar_path, updated)
        return updated

    def _repr_html_(self) -> str:
        from studio.project.display import take_html

        return take_html(self)


# --- folder scan and reservation ------------------------------------------------------------


def _read_sidecar(path: Path) -> Provenance | None:
    return load_model(path, Provenance) if path.exists() else None


def _sidecar_of(folder: Path, *, shot: int, take_id: TakeId) -> Path:
    stem = take_stem(shot=shot, version=take_id.version, number=take_id.number)
    return folder / (stem + SIDECAR_SUFFIX)


@dataclass
class FolderScan:
    """What one shot folder holds, by take id (one ``scandir``; sizes only where needed)."""

    takes: dict[TakeId, str] = field(default_factory=dict)
    """Media files that are takes (see the module doc), id -> extension."""
    sidecars: set[TakeId] = field(default_factory=set)
    strays: list[str] = field(default_factory=list)
    """Names like takes that are not takes: empty, no sidecar."""
    others: dict[str, str] = field(default_factory=dict)
    """Files named like a take that is another file (its extension differs), name -> the
    take's file name: never the take, never removed by the studio (they may be a user's)."""

    @property
    def used(self) -> set[TakeId]:
        """Ids a new reservation must not take: takes, and sidecars (reservations)."""
        return set(self.takes) | self.sidecars


def scan_folder(folder: Path) -> FolderScan:
    """Scan a shot folder (empty result when it does not exist)."""
    named: dict[TakeId, list[tuple[str, str]]] = {}
    scan = FolderScan()
    try:
        entries = os.scandir(folder)
    except FileNotFoundError:
        return scan
    with entries:
        for entry in entries:
            parsed = parse_take_file(entry.name)
            if parsed:
                named.setdefault(parsed[0], []).append((entry.name, parsed[1]))
            elif (sidecar_id := parse_sidecar_file(entry.name)) is not None:
                scan.sidecars.add(sidecar_id)
    for take_id, candidates in sorted(named.items()):
        name, ext = _the_take_file(folder, candidates, sidecar=take_id in scan.sidecars)
        scan.others.update({other: name for other, _ in candidates if other != name})
        if take_id in scan.sidecars or _size(folder / name) > 0:
            scan.takes[take_id] = ext
        else:
            scan.strays.append(name)
    return scan


def _the_take_file(
    folder: Path, candidates: list[tuple[str, str]], *, sidecar: bool
) -> tuple[str, str]:
    """Which of the files named like one take (``SHOT-010_v01_take01.png`` and a stray
    ``.jpg`` beside it) is the take, whatever order the folder lists them in: the one its
    sidecar names, else the first non-empty one by name, else the first by name."""
    if len(candidates) == 1:
        return candidates[0]
    ordered = sorted(candidates)
    if sidecar:
        stem = Path(ordered[0][0]).stem
        recorded = _readable_sidecar(folder / (stem + SIDECAR_SUFFIX))
        for name, ext in ordered:
            if recorded is not None and recorded.take == name:
                return name, ext
    return next(((n, e) for n, e in ordered if _size(folder / n) > 0), ordered[0])


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _take(folder: Path, *, scene: int, shot: int, take_id: TakeId, ext: str) -> Take:
    name = take_file_name(shot=shot, version=take_id.version, number=take_id.number, ext=ext)
    return Take(folder / name, scene, shot, take_id.version, take_id.number, ext)


def list_takes(project_root: Path, *, scene: int, shot: int) -> list[Take]:
    """Every take in the shot's folder, sorted by (version, number)."""
    folder = project_root / shot_folder(scene=scene, shot=shot)
    scan = scan_folder(folder)
    return [
        _take(folder, scene=scene, shot=shot, take_id=take_id, ext=ext)
        for take_id, ext in sorted(scan.takes.items())
    ]


def _readable_sidecar(path: Path) -> Provenance | None:
    """The sidecar, or None when it is missing or does not read (versioning treats both as
    "provenance unknown")."""
    with contextlib.suppress(ManifestError):
        return _read_sidecar(path)
    return None


def reclaim_lock(project_root: Path) -> contextlib.AbstractContextManager[object]:
    """Serializes reclaiming between processes (a lock inside ``.git``, never a project
    change); a folder that is not a repository (a bare scan) needs none."""
    git_dir = project_root / ".git"
    if not git_dir.is_dir():
        return contextlib.nullcontext()
    (git_dir / "studio").mkdir(exist_ok=True)
    return FileLock(git_dir / "studio" / "takes-reclaim.lock")


def _expired_reservations(folder: Path, scan: FolderScan, *, shot: int) -> Iterator[TakeId]:
    now = utc_now()
    for take_id in sorted(scan.sidecars):
        ext = scan.takes.get(take_id)
        if ext is not None and _size(folder / _name(shot, take_id, ext)) > 0:
            continue  # written: a take, whatever its lease said
        sidecar = _readable_sidecar(_sidecar_of(folder, shot=shot, take_id=take_id))
        if sidecar is not None and sidecar.lease_expired(now):
            yield take_id


def _name(shot: int, take_id: TakeId, ext: str) -> str:
    return take_file_name(shot=shot, version=take_id.version, number=take_id.number, ext=ext)


def reclaim_expired(project_root: Path, folder: Path, *, shot: int) -> list[str]:
    """Remove the reservations of ``folder`` whose lease ran out while still empty (their
    process died); returns the sidecar names removed. Re-checked under the reclaim lock, media
    before sidecar, so a fresh reservation of the same number is never touched."""
    if not any(True for _ in _expired_reservations(folder, scan_folder(folder), shot=shot)):
        return []
    removed = []
    with reclaim_lock(project_root):
        scan = scan_folder(folder)
        for take_id in list(_expired_reservations(folder, scan, shot=shot)):
            if (ext := scan.takes.get(take_id)) is not None:
                (folder / _name(shot, take_id, ext)).unlink(missing_ok=True)
            sidecar = _sidecar_of(folder, shot=shot, take_id=take_id)
            sidecar.unlink(missing_ok=True)
            removed.append(sidecar.name)
    return removed


def reserve_take(
    project_root: Path,
    *,
    scene: int,
    shot: int,
    ext: str,
    pipeline: str | None = None,
    prompt: str | None = None,
    inputs: dict[str, Any] | None = None,
    seed: int | None = None,
    quality: Quality | None = None,
    version: int | None = None,
    job_id: str | None = None,
    lease_s: float | None = None,
) -> Take:
    """Reserve the next take of a shot (see the module doc for the rules) and return it.

    On return the sidecar holds the creative inputs and the media file exists, empty.
    ``lease_s``: how long the caller may take to fill it (a job's lifetime); past that an
    empty reservation is reclaimed by the next one. None: never."""
    ext = normalize_ext(ext)
    folder = project_root / shot_folder(scene=scene, shot=shot)
    folder.mkdir(parents=True, exist_ok=True)
    fingerprint = creative_fingerprint(
        pipeline=pipeline, prompt=prompt, inputs=inputs or {}, quality=quality
    )
    reclaim_expired(project_root, folder, shot=shot)
    token = secrets.token_hex(8)
    tried: set[tuple[int, int]] = set()
    while True:
        # After a collision another reservation got there first, and its take may be of
        # another creative version (a sweep's cells reserve at once): choose again.
        scan = scan_folder(folder)
        chosen = version if version is not None else _auto_version(folder, shot, scan, fingerprint)
        _check_number(chosen, name="version", minimum=1, maximum=999)
        number = next_number(scan.used, chosen)
        while (chosen, number) in tried:  # held by a file the scan does not count
            number += 1
        tried.add((chosen, number))
        name = take_file_name(shot=shot, version=chosen, number=number, ext=ext)
        take = Take(folder / name, scene, shot, chosen, number, ext, reservation=token)
        sidecar = Provenance(
            take=name,
            creative_fingerprint=fingerprint,
            pipeline=pipeline,
            prompt=prompt,
            inputs=inputs or {},
            seed=seed,
            quality=quality,
            job_id=job_id,
            reservation=token,
            lease_s=lease_s,
        )
        if claim(take, sidecar):
            return take


def _auto_version(folder: Path, shot: int, scan: FolderScan, fingerprint: str) -> int:
    """The version rule applied to the folder as ``scan`` found it. Reservations count: a
    take being made (its sidecar published, its media file not yet) is the newest too."""
    newest = max(scan.used, default=None)
    return next_version(
        _readable_sidecar(_sidecar_of(folder, shot=shot, take_id=newest)) if newest else None,
        newest.version if newest else None,
        fingerprint,
    )


def claim(take: Take, sidecar: Provenance) -> bool:
    """Publish ``sidecar`` (the reservation token, with ``link(2)``), then create the take's
    media file empty with ``O_EXCL``; False (nothing left behind) when either name is
    taken. Shared by takes and the outputs made from them (:mod:`studio.project.outputs`)."""
    # The sidecar's content is synced; its name is, with the folder, when the take is
    # written (a reservation a power cut undoes was never a take).
    if not create_model(take.sidecar_path, sidecar, sync_folder=False):
        return False
    try:
        os.close(os.open(take.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        # A media file without a sidecar (copied in by hand, or a stray) holds it.
        take.sidecar_path.unlink()
        return False
    return True


def list_shots(project_root: Path) -> list[tuple[int, int]]:
    """(scene, shot) of every shot folder under 03_Renders, sorted."""
    found: list[tuple[int, int]] = []
    renders = project_root / RENDERS_DIR
    for scene_dir in renders.iterdir() if renders.is_dir() else []:
        scene_match = _SCENE_DIR_RE.fullmatch(scene_dir.name)
        if not scene_match or not scene_dir.is_dir():
            continue
        for shot_dir in scene_dir.iterdir():
            shot_match = _SHOT_DIR_RE.fullmatch(shot_dir.name)
            if shot_match and shot_dir.is_dir():
                found.append((int(scene_match[1]), int(shot_match[1])))
    return sorted(found)
