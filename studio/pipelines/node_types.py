"""The canvas node type each pipeline manifest yields, registered in the Node API."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from studio.graph.builtin_types import PIPELINE, SUPER_RESOLUTION, VIDEO_RESTORATION
from studio.graph.registry import (
    FieldKind,
    FieldSpec,
    NodeType,
    NodeTypeRegistry,
    NodeUI,
    PalettePreset,
)
from studio.graph.registry import SocketSpec as NodeSocket
from studio.graph.sockets import SocketType
from studio.pipelines.discovery import discover
from studio.pipelines.schema import InputSpec, Manifest


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


POST_NODE_FOR_TASK: Final = {"upscale": SUPER_RESOLUTION, "restore": VIDEO_RESTORATION}
"""The post node that runs a pipeline of this task (its palette entry adds that node)."""


def palette_preset(manifest: Manifest) -> PalettePreset:
    """What the pipeline's palette entry adds: a pipeline node does not run on its own, so a
    post pipeline's entry adds the post node of its task and any other pipeline's entry adds
    a Pipeline node choosing it (connected to a Shot's Pipeline socket, it runs)."""
    post = POST_NODE_FOR_TASK.get(manifest.task)
    if post is not None:
        return PalettePreset(node_type=post)
    return PalettePreset(node_type=PIPELINE, data={"pipeline_id": manifest.id})


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
        ui=NodeUI(
            component="generic",
            category="Pipelines",
            icon="⚙",
            draft=manifest.draft,
            preset=palette_preset(manifest),
        ),
        pipeline_id=manifest.id,
    )


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
