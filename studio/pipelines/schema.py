"""The manifest of a pipeline folder (ARCHITECTURE.md contract 5): its typed inputs and
outputs, resources per quality, and the folder it came from."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from studio.graph.sockets import SocketType
from studio.pipelines.validation import SCALAR_TYPES, check_value
from studio.quality import QUALITIES, Quality

MANIFEST_FILE: Final = "manifest.json"
TaskType = Literal[
    "generate-image", "generate-video", "generate-audio", "edit-image", "upscale", "restore"
]
ID_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{0,63}$"
"""A pipeline id (also its folder name)."""


def _types(value: Any) -> Any:
    # "Image" or ["Image", "Video"] in the manifest.
    return [value] if isinstance(value, str) else value


class InputSpec(BaseModel):
    """A typed input. Scalars carry default/range/choices; media inputs are files."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    type: tuple[SocketType, ...] = Field(min_length=1)
    label: str = ""
    description: str = ""
    required: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str | int | float, ...] | None = None
    multiline: bool = False

    _coerce_type = field_validator("type", mode="before")(_types)

    @model_validator(mode="after")
    def _consistent(self) -> InputSpec:
        scalar = [t for t in self.type if t in SCALAR_TYPES]
        if scalar and len(self.type) > 1:
            raise ValueError(f"input {self.name}: a scalar input has exactly one type")
        if self.default is not None:
            problem = check_value(self, self.default, files_root=None)
            if problem:
                raise ValueError(f"input {self.name}: default {problem}")
        return self

    @property
    def is_file(self) -> bool:
        return not (set(self.type) & SCALAR_TYPES)


class OutputSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    type: tuple[SocketType, ...] = Field(min_length=1)
    label: str = ""

    _coerce_type = field_validator("type", mode="before")(_types)


class Resources(BaseModel):
    """What one job needs at a quality level (the dispatcher and the warm pool budget on it;
    the DockerRunner enforces memory and CPU)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    vram_gb: float = Field(default=0, ge=0)
    cpus: float = Field(default=1, gt=0)
    memory_gb: float = Field(default=1, gt=0)


def _default_resources() -> dict[Quality, Resources]:
    return {"low": Resources()}


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    title: str
    task: TaskType
    description: str = ""
    version: str = "0.1.0"
    draft: bool = False
    """A built-in CPU stand-in, labelled as a draft wherever shown."""
    image: str = ""
    """Docker image name; default ``studio-pipeline/<id>:<version>``."""
    entrypoint: str = "entrypoint.py"
    inputs: tuple[InputSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = Field(min_length=1)
    resources: dict[Quality, Resources] = Field(default_factory=lambda: _default_resources())
    timeout_s: float = Field(default=600, gt=0)
    setup_timeout_s: float = Field(default=300, gt=0)
    mode: Literal["warm", "one-shot"] = "one-shot"
    """``warm``: a long-lived worker serves many jobs (setup paid once)."""
    models: tuple[Annotated[str, Field(pattern=ID_PATTERN)], ...] = ()
    """Ids of the model store's models the pipeline needs (weights are never fetched at run
    time): a Generate is refused before queueing while one is missing; each is mounted
    read-only (``/models/<id>`` in a container) and named in ``STUDIO_MODELS``."""

    @model_validator(mode="after")
    def _check(self) -> Manifest:
        for group, names in (
            ("input", [i.name for i in self.inputs]),
            ("output", [o.name for o in self.outputs]),
        ):
            if len(set(names)) != len(names):
                raise ValueError(f"duplicate {group} names in {names}")
        if len(set(self.models)) != len(self.models) or any(".." in m for m in self.models):
            raise ValueError(f"models must be distinct model ids without '..': {self.models}")
        if not self.resources:
            raise ValueError("resources needs at least one quality")
        return self

    @property
    def image_name(self) -> str:
        return self.image or f"studio-pipeline/{self.id}:{self.version}"

    @property
    def ref(self) -> str:
        """The pinned reference of this pipeline: ``id:version`` (the image's tag)."""
        return f"{self.id}:{self.version}"

    def resources_for(self, quality: Quality) -> Resources:
        """The entry for ``quality``, else the nearest lower one, else the lowest defined."""
        order = list(QUALITIES)
        for q in reversed(order[: order.index(quality) + 1]):
            if q in self.resources:
                return self.resources[q]
        return self.resources[next(q for q in order if q in self.resources)]

    def input(self, name: str) -> InputSpec | None:
        return next((i for i in self.inputs if i.name == name), None)


class Pipeline(BaseModel):
    """A manifest and the folder it came from."""

    model_config = ConfigDict(frozen=True)

    manifest: Manifest
    folder: Path

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def entrypoint(self) -> Path:
        return self.folder / self.manifest.entrypoint
