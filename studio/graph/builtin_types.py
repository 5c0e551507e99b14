"""PRD Table 2's nine node types, with the sockets the table gives."""

from __future__ import annotations

from typing import Final

from studio.graph.registry import FieldSpec, NodeType, NodeUI, SocketSpec, registry
from studio.graph.sockets import SocketType as T


def _in(
    name: str, label: str, *types: T, multiple: bool = False, required: bool = False
) -> SocketSpec:
    return SocketSpec(name=name, label=label, types=types, multiple=multiple, required=required)


def _out(name: str, label: str, *types: T) -> SocketSpec:
    return SocketSpec(name=name, label=label, types=types)


# The built-in node type names: code that treats one type specially names it by these.
SHOT: Final = "Shot"
ASSET: Final = "Asset"
PIPELINE: Final = "Pipeline"
SCENE_GROUP: Final = "SceneGroup"
MOTION_SOURCE: Final = "MotionSource"
AUDIO: Final = "Audio"
SUPER_RESOLUTION: Final = "SuperResolution"
VIDEO_RESTORATION: Final = "VideoRestoration"
VSE_ASSEMBLER: Final = "VSEAssembler"

SCENE = FieldSpec(name="scene", label="Scene", kind="integer", default=1, minimum=0, maximum=999)

BUILTIN_TYPES: tuple[NodeType, ...] = (
    NodeType(
        name=SHOT,
        label="Shot",
        description="One shot of the film: a prompt and its inputs generate takes.",
        inputs=(
            _in("pipeline", "Pipeline", T.PIPELINE_REFERENCE, required=True),
            _in("prompt", "Prompt", T.STRING),
            _in("character", "Character", T.ASSET_REFERENCE),
            _in("style", "Style", T.ASSET_REFERENCE),
            _in("image", "Image", T.IMAGE),
            _in("control", "Control", T.CONTROL_MAP),
            _in("audio", "Audio", T.AUDIO),
        ),
        outputs=(_out("output", "Output", T.VIDEO, T.IMAGE),),
        fields=(
            FieldSpec(name="prompt", label="Prompt", kind="textarea", default=""),
            FieldSpec(name="negative_prompt", label="Negative prompt", kind="text", default=""),
            SCENE,
            FieldSpec(
                name="shot", label="Shot", kind="integer", default=10, minimum=0, maximum=9999
            ),
            FieldSpec(
                name="seed",
                label="Seed",
                kind="integer",
                default=None,
                minimum=0,
                maximum=2**32 - 1,
                help="empty: a new random seed for every take",
            ),
            FieldSpec(name="active_take", label="Take", kind="take", default=None),
        ),
        ui=NodeUI(component="shot", color="#2b6cb0", icon="■", category="Generate"),
    ),
    NodeType(
        name=ASSET,
        label="Asset",
        description="A generative asset (character, style, ...) used by shots.",
        outputs=(_out("asset", "Asset", T.ASSET_REFERENCE),),
        fields=(
            FieldSpec(name="name", label="Name", kind="text", default=""),
            FieldSpec(name="asset_id", label="Asset id", kind="text", default=""),
            FieldSpec(name="preview", label="Preview", kind="file", default=None),
        ),
        ui=NodeUI(component="asset", color="#b7791f", icon="●", category="Sources"),
    ),
    NodeType(
        name=PIPELINE,
        label="Pipeline",
        description="Chooses the containerized model a shot runs with.",
        outputs=(_out("pipeline", "Pipeline", T.PIPELINE_REFERENCE),),
        fields=(
            FieldSpec(name="pipeline_id", label="Pipeline", kind="pipeline", default="t2i-draft"),
            FieldSpec(name="version", label="Version", kind="text", default="latest"),
        ),
        ui=NodeUI(component="pipeline", color="#6b46c1", icon="⚙", category="Generate"),
    ),
    NodeType(
        name=SCENE_GROUP,
        label="Scene",
        description="Groups a scene's nodes into a subflow (children carry parentId).",
        fields=(
            FieldSpec(name="name", label="Name", kind="text", default="Scene"),
            SCENE,
            FieldSpec(name="collapsed", label="Collapsed", kind="boolean", default=False),
        ),
        ui=NodeUI(component="group", color="#4a5568", icon="▦", category="Structure"),
    ),
    NodeType(
        name=MOTION_SOURCE,
        label="Motion source",
        description="Turns a video into motion data (a control map) for action transfer.",
        inputs=(_in("source_video", "Source video", T.VIDEO),),
        outputs=(_out("motion", "Motion data", T.CONTROL_MAP),),
        fields=(FieldSpec(name="file", label="Video file", kind="file", default=None),),
        ui=NodeUI(component="motion", color="#c05621", icon="➤", category="Sources"),
    ),
    NodeType(
        name=AUDIO,
        label="Audio",
        description="An audio file, or speech generated from text (TTS).",
        inputs=(_in("source_audio", "Source audio", T.AUDIO), _in("text", "Text", T.STRING)),
        outputs=(_out("audio", "Audio", T.AUDIO),),
        fields=(
            FieldSpec(name="file", label="Audio file", kind="file", default=None),
            FieldSpec(name="text", label="Text to speak", kind="textarea", default=""),
        ),
        ui=NodeUI(component="audio", color="#97266d", icon="♪", category="Sources"),
    ),
    NodeType(
        name=SUPER_RESOLUTION,
        label="Super resolution",
        description="Upscales an image or a video.",
        inputs=(_in("input", "Input", T.IMAGE, T.VIDEO, required=True),),
        outputs=(_out("output", "Output", T.IMAGE, T.VIDEO),),
        fields=(
            FieldSpec(
                name="scale",
                label="Scale",
                kind="float",
                default=2.0,
                minimum=1.0,
                maximum=8.0,
                step=0.5,
            ),
        ),
        ui=NodeUI(component="upscale", color="#2c7a7b", icon="⤢", category="Post"),
    ),
    NodeType(
        name=VIDEO_RESTORATION,
        label="Video restoration",
        description="Cleans artifacts and noise from a video.",
        inputs=(_in("input", "Input", T.VIDEO, required=True),),
        outputs=(_out("output", "Output", T.VIDEO),),
        fields=(
            FieldSpec(
                name="strength",
                label="Strength",
                kind="slider",
                default=0.5,
                minimum=0.0,
                maximum=1.0,
                step=0.05,
            ),
        ),
        ui=NodeUI(component="restore", color="#285e61", icon="✚", category="Post"),
    ),
    NodeType(
        name=VSE_ASSEMBLER,
        label="Assembler",
        description="Compiles the connected shots' active takes to an EDL and renders the film.",
        inputs=(
            _in("sequence", "Sequence in", T.EDL),
            _in("clips", "Clips", T.VIDEO, T.IMAGE, multiple=True),
        ),
        outputs=(_out("final", "Final video", T.VIDEO),),
        fields=(
            FieldSpec(name="output_name", label="Output file", kind="text", default="final.mp4"),
            FieldSpec(name="fps", label="FPS", kind="integer", default=24, minimum=1, maximum=120),
        ),
        ui=NodeUI(component="assembler", color="#276749", icon="≡", category="Assemble"),
    ),
)

for _node_type in BUILTIN_TYPES:
    registry.register(_node_type)
