"""The import rules `lint-imports` cannot state generically (its contracts are in
pyproject.toml): no cycle among the modules of the studio and its server extension, and the
SDK on the standard library alone. Lazy (function-level) imports are edges, as grimp sees
them; type-only imports (``if TYPE_CHECKING:``) are not, as in the contracts."""

from __future__ import annotations

import sys

import grimp
import pytest

PACKAGES = ("studio", "studio_jupyter")
OPTIONAL_IN_SDK = {"imageio_ffmpeg", "tqdm"}
"""Imported by the SDK only when the pipeline's image has them (guarded by ImportError)."""


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        *PACKAGES,
        include_external_packages=True,
        exclude_type_checking_imports=True,
        cache_dir=None,
    )


def _internal(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    cycles = set()
    for importer in sorted(m for m in graph.modules if _internal(m)):
        for imported in graph.find_modules_directly_imported_by(importer):
            if not _internal(imported):
                continue
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycles.add(" -> ".join((importer, *back)))
    assert not cycles, "import cycles:\n" + "\n".join(sorted(cycles))


def test_sdk_imports_only_the_standard_library(graph: grimp.ImportGraph) -> None:
    sdk = {"studio.sdk", *graph.find_descendants("studio.sdk")}
    outside = {
        (module, imported)
        for module in sdk
        for imported in graph.find_modules_directly_imported_by(module)
        if imported not in sdk
        and imported.split(".")[0] not in sys.stdlib_module_names
        and imported not in OPTIONAL_IN_SDK
    }
    assert not outside, f"the SDK imports beyond the standard library: {sorted(outside)}"


MODEL_LIBRARIES = {"torch", "diffusers", "transformers", "accelerate", "peft", "safetensors"}


def test_the_studio_never_imports_a_model_library(graph: grimp.ImportGraph) -> None:
    """Models live in their pipelines' own environments (containers or local venvs)."""
    found = {
        (module, imported)
        for module in graph.modules
        if _internal(module)
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.split(".")[0] in MODEL_LIBRARIES
    }
    assert not found, f"the studio imports model libraries: {sorted(found)}"
