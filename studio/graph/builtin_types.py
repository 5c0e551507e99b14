"""PRD Table 2's nine node types, with the sockets the table gives, plus the EDL file that
feeds the Assembler's ``Sequence in``."""

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
EDL: Final = "EDL"

POST_TYPES: Final = frozenset({SUPER_RESOLUTION, VIDEO_RESTORATION})
"""The post nodes: between a Shot and the Assembler, each makes a new output of its input."""
POST_PIPELINES: Final[dict[str, str]] = {
    SUPER_RESOLUTION: "sr-lanczos",
    VIDEO_RESTORATION: "restore-ffmpeg",
}
"""Each post type's default pipeline (its ``pipeline_id`` field's default): a Thera or
SeedVR2 pipeline plugs into the same node by being chosen there (or becoming the default)."""
POST_TASKS: Final[dict[str, str]] = {SUPER_RESOLUTION: "upscale", VIDEO_RESTORATION: "restore"}
"""The pipeline task each post type runs (its Pipeline field offers the pipelines of it)."""
POST_KINDS: Final[dict[str, str]] = {SUPER_RESOLUTION: "sr", VIDEO_RESTORATION: "restore"}
"""The tag an output's file name carries for its step (see :mod:`studio.project.outputs`)."""
FRAME_RATE_CHOICES: Final = ("23.976", "24", "25", "29.97 DF", "30")
"""The Assembler's sequence rates (``studio.assembly.timecode.FRAME_RATES`` defines each), also
the choices of the project's ``frame_rate`` setting (a new Assembler's default)."""
DEFAULT_FRAME_RATE: Final = "24"
RESOLUTION_CHOICES: Final = ("480p", "720p", "1080p", "1440p", "2160p")
"""The sequence's short side in pixels; the long side follows the project's aspect ratio."""

SCENE = FieldSpec(name="scene", label="Scene", kind="integer", default=1, minimum=0, maximum=999)

BUILTIN_TYPES: tuple[NodeType, ...] = (
    NodeType(
        name=SHOT,
        label="Shot",
        description="One shot of the film: a prompt and its inputs generate takes.",
        inputs=(
            # Optional: without one the project's quality map chooses the pipeline.
            _in("pipeline", "Pipeline", T.PIPELINE_REFERENCE),
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
                name="shot",
                label="Shot",
                kind="integer",
                default=10,
                minimum=0,
                maximum=9999,
                step=10,
                help="a new Shot gets the next free number of its scene; two Shots never share "
                "one (scene and shot name the render folder)",
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
            FieldSpec(
                name="take_pinned",
                label="Pin take",
                kind="boolean",
                default=False,
                help="keep this take active when new takes arrive (else the newest is shown)",
            ),
        ),
        ui=NodeUI(component="shot", color="#2b6cb0", icon="■", category="Generate"),
        unique_fields=("scene", "shot"),
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
        description="Groups a scene's nodes into a subflow (children carry parentId); "
        "connected to an Assembler, its shots in scene/shot order.",
        outputs=(_out("shots", "Shots", T.VIDEO, T.IMAGE),),
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
            FieldSpec(
                name="pipeline_id",
                label="Pipeline",
                kind="pipeline",
                default=POST_PIPELINES[SUPER_RESOLUTION],
                help="the pipeline that runs this step (its settings are the node's fields)",
            ),
            FieldSpec(name="active_output", label="Output", kind="take", default=None),
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
            FieldSpec(
                name="pipeline_id",
                label="Pipeline",
                kind="pipeline",
                default=POST_PIPELINES[VIDEO_RESTORATION],
                help="the pipeline that runs this step (its settings are the node's fields)",
            ),
            FieldSpec(name="active_output", label="Output", kind="take", default=None),
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
            _in("music", "Music", T.AUDIO, multiple=True),
        ),
        outputs=(_out("final", "Final video", T.VIDEO),),
        fields=(
            FieldSpec(
                name="title",
                label="Title",
                kind="text",
                default="",
                help="names the EDL and the export (empty: the project's title)",
            ),
            FieldSpec(
                name="frame_rate",
                label="Frame rate",
                kind="choice",
                default=DEFAULT_FRAME_RATE,
                choices=FRAME_RATE_CHOICES,
                help="a new Assembler's is the project's frame rate",
            ),
            FieldSpec(
                name="resolution",
                label="Resolution",
                kind="choice",
                default="1080p",
                choices=RESOLUTION_CHOICES,
                help="the short side; the long side follows the project's aspect ratio",
            ),
            FieldSpec(
                name="start_timecode",
                label="Start timecode",
                kind="text",
                default="01:00:00:00",
            ),
            FieldSpec(
                name="still_duration",
                label="Still duration (s)",
                kind="float",
                default=4.0,
                minimum=0.1,
                maximum=3600.0,
                help="how long an image take stays on screen (a clip's own duration wins)",
            ),
            FieldSpec(
                name="order",
                label="Clip order",
                kind="order",
                default=None,
                help="the connected clips' node ids in edit order (empty: connection order)",
            ),
            FieldSpec(
                name="clip_settings",
                label="Clip settings",
                kind="settings",
                default=None,
                help="per clip node id: trim_in, trim_out, duration, handles, overlay, transition",
            ),
            FieldSpec(
                name="music_settings",
                label="Music settings",
                kind="settings",
                default=None,
                help="per Audio node id: track (A1/A2), level_db, start, trim_in, duration",
            ),
        ),
        ui=NodeUI(component="assembler", color="#276749", icon="≡", category="Assemble"),
    ),
    NodeType(
        name=EDL,
        label="EDL",
        description="A ready edit decision list (CMX 3600) for the Assembler's Sequence in, "
        "rendered as given.",
        outputs=(_out("edl", "EDL", T.EDL),),
        fields=(
            FieldSpec(
                name="file",
                label="EDL file",
                kind="file",
                default=None,
                help="a .edl file in the project, e.g. 04_Project_Files/EDLs/cut.edl",
            ),
        ),
        ui=NodeUI(component="edl", color="#882255", icon="☰", category="Assemble"),
    ),
)

for _node_type in BUILTIN_TYPES:
    registry.register(_node_type)
