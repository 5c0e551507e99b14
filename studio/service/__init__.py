"""The studio service: the one place every front end's client events are handled (see
:mod:`studio.service.service`), with the views it builds (:mod:`studio.service.views`) and
where each front end keeps the graph it edits (:mod:`studio.service.editors`)."""

from studio.service.editors import GraphEditor, LiveGraph, SavedGraph
from studio.service.service import (
    NO_ASSEMBLER,
    NO_ENGINE,
    EngineAccess,
    GivenEngine,
    KernelEngine,
    NoEngine,
    StudioService,
    project_link,
)
from studio.service.views import (
    LAB_MEDIA_ROUTE,
    MediaLink,
    inline_link,
    kernel_link,
    settings_view,
)

__all__ = [
    "LAB_MEDIA_ROUTE",
    "NO_ASSEMBLER",
    "NO_ENGINE",
    "EngineAccess",
    "GivenEngine",
    "GraphEditor",
    "KernelEngine",
    "LiveGraph",
    "MediaLink",
    "NoEngine",
    "SavedGraph",
    "StudioService",
    "inline_link",
    "kernel_link",
    "project_link",
    "settings_view",
]
