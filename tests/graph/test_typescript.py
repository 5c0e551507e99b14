"""The canvas front end's node-type names, components and field kinds come from the registry
(``widgets/src/lib/nodeTypes.ts`` is generated, as ``events.ts`` is)."""

from __future__ import annotations

from pathlib import Path

from studio.graph.builtin_types import BUILTIN_TYPES
from studio.graph.typescript import typescript_module

WIDGETS = Path(__file__).resolve().parents[2] / "widgets/src"


def test_front_end_node_types_are_generated_from_the_registry() -> None:
    assert (WIDGETS / "lib/nodeTypes.ts").read_text() == typescript_module(), (
        "widgets/src/lib/nodeTypes.ts is stale: run "
        "`python -m studio.graph.typescript > widgets/src/lib/nodeTypes.ts`"
    )


def test_every_builtin_node_type_has_its_component_folder() -> None:
    missing = [t.name for t in BUILTIN_TYPES if not (WIDGETS / "nodes" / t.name).is_dir()]
    assert not missing, f"no widgets/src/nodes/<Type>/ for {missing}"
