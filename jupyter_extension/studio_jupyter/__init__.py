"""The studio inside Jupyter Server: PRD Table 5 (REST) under ``{base_url}studio/api/v1/``,
Table 6 (WebSocket) under ``{base_url}studio/ws/{project_id}``, and the lab extension
(launcher tile, side panel) shipped beside it.

The core (``studio``) never imports this package; this package only calls the core.
"""

from __future__ import annotations

from typing import Any

LAB_EXTENSION_NAME = "generative-media-studio"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    # An ExtensionApp: module-style extensions get no shutdown hook from jupyter_server, and
    # the engine (a Dask client, maybe a local cluster) must stop with the server.
    from studio_jupyter.app import StudioExtension

    return [{"module": "studio_jupyter", "app": StudioExtension}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": LAB_EXTENSION_NAME}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Register the studio's state and routes on ``serverapp`` (no filesystem writes)."""
    from studio_jupyter.extension import setup_routes

    setup_routes(serverapp)


def _unload_jupyter_server_extension(serverapp: Any) -> None:
    """Stop the studio with the server (:func:`studio_jupyter.extension.stop_studio`)."""
    from studio_jupyter.extension import stop_studio

    stop_studio(serverapp)
