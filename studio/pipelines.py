"""Pipeline manifests (ARCHITECTURE.md contract 5): loading, input validation, the pipeline
registry and the canvas node type each manifest yields.

A pipeline is a folder ``<id>/`` with ``manifest.json``, a ``Dockerfile`` (``ARG BASE_IMAGE``)
and an entrypoint (``entrypoint.py``, using :mod:`studio.sdk`). ``pipelines/README.md`` is
the guide for writing one.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from studio.config import load_settings
from studio.documents import load_model
from studio.errors import StudioError
from studio.graph.registry import FieldKind, FieldSpec, NodeType, NodeTypeRegistry, NodeUI
from studio.graph.registry import SocketSpec as NodeSocket
from studio.graph.sockets import SocketType
from studio.quality import QUALITIES, Quality, QualityMap

logger = logging.getLogger(__name__)
MANIFEST_FILE: Final = "manifest.json"
TaskType = Literal[
    "generate-image", "generate-video", "generate-audio", "edit-image", "upscale", "restore"
]
_ID = r"^[a-z0-9][a-z0-9._-]{0,63}$"

SCALAR_TYPES: Final = frozenset(
    {SocketType.STRING, SocketType.INTEGER, SocketType.FLOAT, SocketType.BOOLEAN}
)
# File inputs/outputs: the extensions each media type accepts (lower case, with the dot).
MEDIA_EXTENSIONS: Final[dict[SocketType, frozenset[str]]] = {
    SocketType.IMAGE: frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}),
    SocketType.MASK: frozenset({".png", ".webp", ".tif", ".tiff"}),
    SocketType.CONTROL_MAP: frozenset({".png", ".jpg", ".jpeg", ".webp", ".exr"}),
    SocketType.VIDEO: frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi"}),
    SocketType.AUDIO: frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a"}),
    SocketType.EDL: frozenset({".edl", ".otio"}),
}


class InputInvalid(StudioError):
    """Inputs do not match the manifest; nothing was run. ``problems`` lists every one."""

    code: Final = "INPUT_INVALID"

    def __init__(self, pipeline: str, problems: list[str]) -> None:
        super().__init__(
            f"{pipeline}: invalid inputs: " + "; ".join(problems),
            hint=f"see `studio pipeline list --json` for the inputs of {pipeline}",
        )
        self.pipeline = pipeline
        self.problems = problems


class PipelineNotFound(StudioError):
    pass


LATEST: Final = "latest"
_TAG = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"


@dataclass(frozen=True)
class PipelineRef:
    """How anything names a pipeline (the quality map, a Pipeline node, the CLI): its id with
    an optional ``:tag``. The tag is the image tag, which is the manifest's version; no tag
    or ``latest`` means whatever version is installed."""

    id: str
    tag: str = LATEST

    @classmethod
    def parse(cls, text: str) -> PipelineRef:
        ident, colon, tag = text.strip().partition(":")
        if not re.match(_ID, ident) or (colon and not re.match(_TAG, tag)):
            raise PipelineNotFound(
                f"{text!r} is not a pipeline reference",
                hint="write ID or ID:TAG, e.g. t2i-draft or t2i-draft:0.1.0 (TAG is the "
                "pipeline's version; latest means the installed one)",
            )
        return cls(ident, tag or LATEST)

    def accepts(self, manifest: Manifest) -> bool:
        return manifest.id == self.id and self.tag in (LATEST, manifest.version)

    def __str__(self) -> str:
        return self.id if self.tag == LATEST else f"{self.id}:{self.tag}"


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

    id: str = Field(pattern=_ID)
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

    @model_validator(mode="after")
    def _check(self) -> Manifest:
        for group, names in (
            ("input", [i.name for i in self.inputs]),
            ("output", [o.name for o in self.outputs]),
        ):
            if len(set(names)) != len(names):
                raise ValueError(f"duplicate {group} names in {names}")
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


# validation (pure apart from checking that input files exist) ---------------------------------
def check_value(spec: InputSpec, value: Any, *, files_root: Path | None) -> str | None:
    """Why ``value`` is not acceptable for ``spec`` (None when it is). File values are paths,
    relative to ``files_root`` when given."""
    kind = spec.type[0]
    if kind == SocketType.BOOLEAN:
        return None if isinstance(value, bool) else f"expects true or false, not {value!r}"
    if kind in (SocketType.INTEGER, SocketType.FLOAT):
        ok = (int,) if kind == SocketType.INTEGER else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok):
            whole = "a whole number" if kind == SocketType.INTEGER else "a number"
            return f"expects {whole}, not {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"expects a finite number, not {value!r}"
        if spec.minimum is not None and value < spec.minimum:
            return f"must be at least {spec.minimum:g}, not {value}"
        if spec.maximum is not None and value > spec.maximum:
            return f"must be at most {spec.maximum:g}, not {value}"
    elif kind == SocketType.STRING and not isinstance(value, str):
        return f"expects text, not {value!r}"
    if spec.choices is not None and value not in spec.choices:
        return f"must be one of {', '.join(map(str, spec.choices))}, not {value!r}"
    if spec.is_file:
        if not isinstance(value, str | Path):
            return f"expects a file path, not {value!r}"
        path = Path(value)
        allowed = set().union(*(MEDIA_EXTENSIONS.get(t, frozenset()) for t in spec.type))
        if allowed and path.suffix.lower() not in allowed:
            kinds = " or ".join(t.value for t in spec.type)
            found = path.suffix or "file without extension"
            return f"expects {kinds} ({', '.join(sorted(allowed))}), not a {found}"
        if files_root is not None:
            full = path if path.is_absolute() else files_root / path
            if not full.is_file():
                return f"file {path} does not exist"
            if full.stat().st_size == 0:
                return f"file {path} is empty"
    return None


def _parse_scalar(spec: InputSpec, text: str) -> Any:
    kind = spec.type[0]
    try:
        if kind == SocketType.INTEGER:
            return int(text)
        if kind == SocketType.FLOAT:
            return float(text)
    except ValueError:
        return text  # left for check_value to report, with the input's name
    if kind == SocketType.BOOLEAN:
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
    return text


def parse_cli_inputs(manifest: Manifest, pairs: list[str]) -> dict[str, Any]:
    """``["prompt=a cat", "seed=3"]`` -> typed values (the CLI's ``--input k=v``)."""
    values: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        name, sep, text = pair.partition("=")
        spec = manifest.input(name.strip())
        if not sep:
            problems.append(f"{pair!r} is not NAME=VALUE")
        elif spec is None:
            problems.append(f"unknown input {name!r}")
        else:
            values[spec.name] = text if spec.is_file else _parse_scalar(spec, text)
    if problems:
        raise InputInvalid(manifest.id, problems)
    return values


def validate_inputs(
    manifest: Manifest, values: dict[str, Any], *, files_root: Path | None = None
) -> dict[str, Any]:
    """Every input with its value or default, or ``InputInvalid`` listing every problem."""
    problems = [f"unknown input {name!r}" for name in values if manifest.input(name) is None]
    resolved: dict[str, Any] = {}
    for spec in manifest.inputs:
        value = values.get(spec.name, spec.default)
        if value is None:
            if spec.required:
                problems.append(f"{spec.name}: required")
            continue
        problem = check_value(spec, value, files_root=files_root)
        if problem:
            problems.append(f"{spec.name}: {problem}")
        resolved[spec.name] = str(value) if isinstance(value, Path) else value
    if problems:
        raise InputInvalid(manifest.id, problems)
    return resolved


# canvas node types ------------------------------------------------------------------------
def _field_kind(spec: InputSpec) -> FieldKind:
    kind = spec.type[0]
    if spec.choices is not None:
        return "choice"
    if kind == SocketType.BOOLEAN:
        return "boolean"
    if kind == SocketType.INTEGER:
        return "integer"
    if kind == SocketType.FLOAT:
        bounded = spec.minimum is not None and spec.maximum is not None
        return "slider" if bounded else "float"
    return "textarea" if spec.multiline else "text"


def node_type_for(manifest: Manifest) -> NodeType:
    """The canvas node type of a pipeline: one socket per input and output; scalar inputs
    are also editable fields (used when nothing is connected)."""
    inputs = tuple(
        NodeSocket(
            name=i.name, label=i.label or i.name, types=i.type, required=i.required and i.is_file
        )
        for i in manifest.inputs
    )
    outputs = tuple(
        NodeSocket(name=o.name, label=o.label or o.name, types=o.type) for o in manifest.outputs
    )
    fields = tuple(
        FieldSpec(
            name=i.name,
            label=i.label or i.name,
            kind=_field_kind(i),
            default=i.default,
            minimum=i.minimum,
            maximum=i.maximum,
            choices=tuple(str(c) for c in i.choices) if i.choices is not None else None,
            help=i.description,
        )
        for i in manifest.inputs
        if not i.is_file
    )
    label = f"{manifest.title} (draft)" if manifest.draft else manifest.title
    return NodeType(
        name=f"pipeline.{manifest.id}",
        label=label,
        description=manifest.description,
        inputs=inputs,
        outputs=outputs,
        fields=fields,
        ui=NodeUI(component="generic", category="Pipelines", icon="⚙", draft=manifest.draft),
        pipeline_id=manifest.id,
    )


# loading and the registry -----------------------------------------------------------------
def builtin_pipelines_dir() -> Path:
    """``pipelines/`` of a source checkout, or the copy shipped inside the wheel."""
    packaged = Path(__file__).parent / "builtin_pipelines"
    return packaged if packaged.is_dir() else Path(__file__).parents[1] / "pipelines"


_loaded: dict[tuple[Path, int, int, int, int], Pipeline] = {}
_LOADED_LIMIT: Final = 512


def _load_unchanged(folder: Path) -> Pipeline:
    """:func:`load_pipeline`, reusing the last result while the manifest is unchanged (every
    job and every dispatch discovers the pipelines)."""
    stat = (folder / MANIFEST_FILE).stat()
    # ctime and inode too: a copy that keeps the mtime (cp -p, rsync -a) still changes them
    key = (folder, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_size)
    pipeline = _loaded.get(key)
    if pipeline is None or not pipeline.entrypoint.is_file():
        if len(_loaded) >= _LOADED_LIMIT:
            _loaded.clear()
        pipeline = _loaded[key] = load_pipeline(folder)
    return pipeline


def load_pipeline(folder: Path) -> Pipeline:
    manifest = load_model(folder / MANIFEST_FILE, Manifest)
    if manifest.id != folder.name:
        raise StudioError(
            f"{folder / MANIFEST_FILE}: id {manifest.id!r} differs from the folder name",
            hint=f"rename the folder to {manifest.id} or change the id",
        )
    if not (folder / manifest.entrypoint).is_file():
        raise StudioError(f"{folder}: entrypoint {manifest.entrypoint} is missing")
    return Pipeline(manifest=manifest, folder=folder.resolve())


def search_path() -> list[Path]:
    """Where pipelines are found: ``STUDIO_PIPELINE_DIRS`` first, then the built-ins."""
    return [*load_settings().pipeline_dirs, builtin_pipelines_dir()]


@dataclass(frozen=True)
class Installed:
    """What a search of the pipeline folders found: the pipelines by id (the first folder
    of an id wins) and, by folder name, the folders whose manifest is broken."""

    pipelines: dict[str, Pipeline]
    broken: dict[str, StudioError]


def scan(dirs: list[Path] | None = None) -> Installed:
    """Every pipeline folder in ``dirs`` (default :func:`search_path`). A broken one never
    hides the others: it is listed in ``broken`` instead."""
    found: dict[str, Pipeline] = {}
    broken: dict[str, StudioError] = {}
    for root in search_path() if dirs is None else dirs:
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            if not (folder / MANIFEST_FILE).is_file() or folder.name in found:
                continue
            try:
                found[folder.name] = _load_unchanged(folder)
            except StudioError as exc:
                broken.setdefault(folder.name, exc)
    return Installed(found, broken)


def discover(dirs: list[Path] | None = None) -> dict[str, Pipeline]:
    """The pipelines that load (see :func:`scan` for the broken ones)."""
    installed = scan(dirs)
    for name, problem in installed.broken.items():
        _warn_once(name, problem)
    return installed.pipelines


_warned: set[str] = set()


def _warn_once(name: str, problem: StudioError) -> None:
    if str(problem) not in _warned:
        _warned.add(str(problem))
        logger.warning("pipeline %s is skipped: %s", name, problem)


def not_installed(ref: PipelineRef, installed: Pipeline | None) -> str:
    """Why ``ref`` names nothing installed, in words."""
    if installed is None:
        return f"{ref}, which is not installed"
    return f"{ref}, but {ref.id} {installed.manifest.version} is installed"


def get_pipeline(ref: str | Path, *, dirs: list[Path] | None = None) -> Pipeline:
    """A pipeline by reference (``id`` or ``id:tag``), or by the path of its folder."""
    path = Path(ref)
    if (path / MANIFEST_FILE).is_file():
        return load_pipeline(path)
    installed = scan(dirs)
    wanted = PipelineRef.parse(str(ref))
    if wanted.id not in installed.pipelines and wanted.id in installed.broken:
        raise installed.broken[wanted.id]  # say what is wrong with it, not "not installed"
    return find_pipeline(str(ref), installed=installed.pipelines)


def find_pipeline(ref: str, *, installed: Mapping[str, Pipeline]) -> Pipeline:
    """The installed pipeline ``ref`` names, or ``PipelineNotFound`` saying what is there."""
    wanted = PipelineRef.parse(ref)
    found = installed.get(wanted.id)
    if found is None or not wanted.accepts(found.manifest):
        refs = ", ".join(p.manifest.ref for p in installed.values()) or "none"
        raise PipelineNotFound(
            f"no pipeline {not_installed(wanted, found)}",
            hint=f"installed: {refs}; or give a folder path",
        )
    return found


def cell_problem(
    task: str, quality: Quality, pipeline: str, *, installed: Mapping[str, Pipeline]
) -> str | None:
    """Pure: why the quality-map cell ``task``/``quality`` naming ``pipeline`` cannot be
    served (not installed, another version installed, not a reference), or None."""
    try:
        ref = PipelineRef.parse(pipeline)
    except PipelineNotFound as exc:
        return f"quality map: {task}/{quality}: {exc.message}"
    found = installed.get(ref.id)
    if found is not None and ref.accepts(found.manifest):
        return None
    return (
        f"quality map: {task}/{quality} names {not_installed(ref, found)} — "
        "install it or override the cell in workspace.json"
    )


def quality_map_problems(
    quality_map: QualityMap, *, installed: Mapping[str, Pipeline]
) -> list[str]:
    """Pure: a sentence for every cell of the map that names no installed pipeline."""
    return [
        problem
        for task, cells in quality_map.items()
        for quality, cell in cells.items()
        if (problem := cell_problem(task, quality, cell.pipeline, installed=installed))
    ]


def register_node_types(
    target: NodeTypeRegistry | None = None, *, dirs: list[Path] | None = None
) -> list[NodeType]:
    """Register (or update) one node type per discovered pipeline in the Node API."""
    if target is None:
        from studio.graph.registry import registry

        target = registry
    return [
        target.register(node_type_for(p.manifest), replace=True) for p in discover(dirs).values()
    ]


# scaffolding -------------------------------------------------------------------------------
TEMPLATE_DIR: Final = Path(__file__).parent / "pipeline_template"


def scaffold(name: str, *, parent: Path) -> Path:
    """Create ``parent/name`` from the template: a working pipeline to edit."""
    if not re.match(_ID, name):
        raise StudioError(
            f"{name!r} is not a valid pipeline id",
            hint="use lower-case letters, digits, '-', '_' or '.', starting with a letter or digit",
        )
    target = parent / name
    if target.exists():
        raise StudioError(f"{target} already exists", hint="choose another name or folder")
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".{name}.new"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(TEMPLATE_DIR, staging, ignore=shutil.ignore_patterns("__pycache__"))
    for file in staging.iterdir():
        file.write_text(file.read_text(encoding="utf-8").replace("{{id}}", name), encoding="utf-8")
    staging.rename(target)  # appears complete or not at all
    return target
