"""Socket data types (PRD §4.3) and which may feed which. Pure data, no I/O.

The same table drives Python validation and the canvas (it is sent to the widget), so a
connection the canvas allows is one the Graph accepts, and the other way round.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class SocketType(StrEnum):
    STRING = "String"
    INTEGER = "Integer"
    FLOAT = "Float"
    BOOLEAN = "Boolean"
    IMAGE = "Image"
    VIDEO = "Video"
    AUDIO = "Audio"
    ASSET_REFERENCE = "AssetReference"
    CONTROL_MAP = "ControlMap"
    MASK = "Mask"
    PIPELINE_REFERENCE = "PipelineReference"
    EDL = "EDL"


# Beyond "a type feeds itself": these widenings only. A depth map or a mask is an image, an
# integer is a float; nothing else converts implicitly (an Image never feeds a Video input).
EXTRA_FEEDS: Final[dict[SocketType, frozenset[SocketType]]] = {
    SocketType.INTEGER: frozenset({SocketType.FLOAT}),
    SocketType.MASK: frozenset({SocketType.IMAGE}),
    SocketType.CONTROL_MAP: frozenset({SocketType.IMAGE}),
}

# Canvas colours per type (UI hint shared with the widget; Okabe-Ito-like, colour-blind safe).
SOCKET_COLORS: Final[dict[SocketType, str]] = {
    SocketType.STRING: "#e69f00",
    SocketType.INTEGER: "#56b4e9",
    SocketType.FLOAT: "#0072b2",
    SocketType.BOOLEAN: "#999999",
    SocketType.IMAGE: "#009e73",
    SocketType.VIDEO: "#d55e00",
    SocketType.AUDIO: "#cc79a7",
    SocketType.ASSET_REFERENCE: "#f0e442",
    SocketType.CONTROL_MAP: "#44aa99",
    SocketType.MASK: "#88ccee",
    SocketType.PIPELINE_REFERENCE: "#aa4499",
    SocketType.EDL: "#882255",
}


def can_feed(source: SocketType, target: SocketType) -> bool:
    """May a value of type ``source`` flow into an input of type ``target``?"""
    return source == target or target in EXTRA_FEEDS.get(source, frozenset())


def sockets_compatible(sources: tuple[SocketType, ...], targets: tuple[SocketType, ...]) -> bool:
    """A socket may carry several types (``Image | Video``): compatible if any pair feeds."""
    return any(can_feed(s, t) for s in sources for t in targets)


def compatibility_table() -> dict[str, list[str]]:
    """``{source: [targets...]}`` for every type: what the widget uses to refuse connections."""
    return {
        source.value: [target.value for target in SocketType if can_feed(source, target)]
        for source in SocketType
    }
