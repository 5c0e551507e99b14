"""A take's provenance sidecar: how it was made, and the creative fingerprint behind ``vNN``."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from studio.documents import FiniteJSON
from studio.quality import Quality


def utc_now() -> datetime:
    return datetime.now(UTC)


def creative_fingerprint(
    *,
    pipeline: str | None,
    prompt: str | None,
    inputs: dict[str, Any],
    quality: Quality | None,
) -> str:
    """A hash of what shapes the picture: pipeline, prompt, inputs and quality.

    The seed, the worker and timings are left out: re-rolling the seed is another *take* of the
    same *version*; changing any creative input starts a new version (see takes.py)."""
    canonical = json.dumps(
        {"pipeline": pipeline, "prompt": prompt, "inputs": inputs, "quality": quality},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


class SweepMark(BaseModel):
    """Which sweep made a take, and the values of its cell (``project.sweep``): the take's
    own record of where it sits in the sweep's grid, readable without the sweep file."""

    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False)

    id: str = Field(description="the sweep's id (its file: 04_Project_Files/Sweeps/<id>.json)")
    cell: int = Field(ge=0, description="the cell's index in the sweep, from 0")
    values: FiniteJSON = Field(default_factory=dict)
    """Axis name -> this cell's value (``prompt``, ``seed``, ``quality``, pipeline inputs)."""


class Provenance(BaseModel):
    """``SHOT-XXX_vNN_takeNN.take.json``, written when the take is reserved and completed
    when it is made. Unknown keys are kept."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    take: str = Field(description="file name of the take this sidecar describes")
    creative_fingerprint: str
    pipeline: str | None = None
    image_digest: str | None = None
    """The ID (``sha256:...``) of the Docker image that made the take, see
    :attr:`studio.runner.contract.JobResult.image_digest`; None for a local process."""
    prompt: str | None = None
    inputs: FiniteJSON = Field(default_factory=dict)
    seed: int | None = None
    quality: Quality | None = None
    worker: str | None = None
    job_id: str | None = None
    """The engine job that reserved the take: a retried job recognises its own leftovers."""
    reservation: str | None = None
    """A random token of this reservation: a process whose reservation was reclaimed (it
    outlived its lease) cannot write into a later reservation of the same number."""
    reserved_at: datetime = Field(default_factory=utc_now)
    lease_s: float | None = Field(default=None, gt=0)
    """How long the reserver may take to fill the take (its job's lifetime). An empty
    reservation older than that is abandoned: the next reservation reclaims it. None (a take
    reserved by hand): never reclaimed automatically."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    recovered_at: datetime | None = None
    """Set when the studio committed this take after the process that made it died (the
    take was complete; only its commit was missing)."""
    recovered_by: Literal["retry", "settle", "repair"] | None = None
    """Who committed it then: the job's Dask retry, the settling of a lost job, or
    ``studio repair``."""
    sweep: SweepMark | None = None
    """Set for a take made by a cell of a sweep (absent in older sidecars, and for takes
    generated one at a time)."""

    def lease_expired(self, now: datetime) -> bool:
        """Pure: is this an unfinished reservation past its lease?"""
        if self.lease_s is None or self.finished_at is not None:
            return False
        return now - self.reserved_at > timedelta(seconds=self.lease_s)
