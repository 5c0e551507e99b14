"""The active take of a shot, persisted as ``active_take.json`` in the shot's render folder.

The rule for a new take (``Project.commit_takes``): it becomes the shot's active take unless
the user pinned the chosen one (``pinned``); a choice that is not pinned is what is shown
until the next take arrives. Without any choice the newest ready take is active."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from studio.documents import load_model, write_model
from studio.project.provenance import utc_now

ACTIVE_FILE: Final = "active_take.json"


class ActiveTake(BaseModel):
    model_config = ConfigDict(extra="allow")

    take: str = Field(description="file name of the active take, in the same folder")
    selected_at: datetime = Field(default_factory=utc_now)
    pinned: bool = Field(default=False, description="new takes do not replace this choice")


def read_active(shot_dir: Path) -> str | None:
    """The chosen take's file name, None without a choice; ``ManifestError`` when the file
    does not read."""
    path = shot_dir / ACTIVE_FILE
    return load_model(path, ActiveTake).take if path.exists() else None


def read_choice(shot_dir: Path) -> ActiveTake | None:
    """The persisted choice (take and pin), None without one; ``ManifestError`` when the file
    does not read."""
    path = shot_dir / ACTIVE_FILE
    return load_model(path, ActiveTake) if path.exists() else None


def dangling_reason(chosen: str | None, ready_takes: list[str]) -> str | None:
    """Pure: why ``active_take.json``'s choice is no usable active take (None when it is)."""
    if chosen is None or chosen in ready_takes:
        return None
    return f"{ACTIVE_FILE} names {chosen}, which is not a written take of this shot"


def write_active(shot_dir: Path, take_name: str, *, pinned: bool = False) -> Path:
    path = shot_dir / ACTIVE_FILE
    write_model(path, ActiveTake(take=take_name, pinned=pinned))
    return path
