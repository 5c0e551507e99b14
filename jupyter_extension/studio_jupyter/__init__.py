"""The studio inside Jupyter Server: PRD Table 5 (REST) under ``{base_url}studio/api/v1/``,
Table 6 (WebSocket) under ``{base_url}studio/ws/{project_id}``, and the lab extension
(launcher tile, side panel) shipped beside it.

The core (``studio``) never imports this package; this package only calls the core.
"""

from __future__ import annotations

from typing import Any

LAB_EXTENSION_NAME = "generative-media-studio"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "studio_jupyter"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": LAB_EXTENSION_NAME}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from studio_jupyter.routes import setup_routes

    setup_routes(serverapp)
