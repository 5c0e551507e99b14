"""Pipeline manifests (ARCHITECTURE.md contract 5): loading, input validation, the pipeline
registry and the canvas node type each manifest yields.

A pipeline is a folder ``<id>/`` with ``manifest.json``, a ``Dockerfile`` (``ARG BASE_IMAGE``)
and an entrypoint (``entrypoint.py``, using :mod:`studio.sdk`). ``pipelines/README.md`` is
the guide for writing one.

One module per role: :mod:`~studio.pipelines.schema` (the manifest),
:mod:`~studio.pipelines.validation` (input values), :mod:`~studio.pipelines.references`
(``id:tag`` references and quality-map cells), :mod:`~studio.pipelines.discovery` (the
installed pipelines), :mod:`~studio.pipelines.node_types` (canvas node types) and
:mod:`~studio.pipelines.scaffolding` (a new pipeline folder). Import from here.
"""

from studio.pipelines.discovery import (
    Installed,
    builtin_pipelines_dir,
    discover,
    get_pipeline,
    load_pipeline,
    scan,
    search_path,
)
from studio.pipelines.node_types import node_type_for, register_node_types
from studio.pipelines.references import (
    LATEST,
    PipelineNotFound,
    PipelineRef,
    cell_problem,
    find_pipeline,
    not_installed,
    quality_map_problems,
)
from studio.pipelines.scaffolding import TEMPLATE_DIR, scaffold
from studio.pipelines.schema import (
    ID_PATTERN,
    MANIFEST_FILE,
    InputSpec,
    Manifest,
    OutputSpec,
    Pipeline,
    Resources,
    TaskType,
)
from studio.pipelines.validation import (
    MEDIA_EXTENSIONS,
    SCALAR_TYPES,
    InputInvalid,
    check_value,
    parse_cli_inputs,
    validate_inputs,
)

__all__ = [
    "ID_PATTERN",
    "LATEST",
    "MANIFEST_FILE",
    "MEDIA_EXTENSIONS",
    "SCALAR_TYPES",
    "TEMPLATE_DIR",
    "InputInvalid",
    "InputSpec",
    "Installed",
    "Manifest",
    "OutputSpec",
    "Pipeline",
    "PipelineNotFound",
    "PipelineRef",
    "Resources",
    "TaskType",
    "builtin_pipelines_dir",
    "cell_problem",
    "check_value",
    "discover",
    "find_pipeline",
    "get_pipeline",
    "load_pipeline",
    "node_type_for",
    "not_installed",
    "parse_cli_inputs",
    "quality_map_problems",
    "register_node_types",
    "scaffold",
    "scan",
    "search_path",
    "validate_inputs",
]
