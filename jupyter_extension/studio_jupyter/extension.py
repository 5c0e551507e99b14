"""Loading the studio into a Jupyter Server and stopping it with the server: the one module
that knows both the route table and its OpenAPI description (which describes the table, so
the table's handlers cannot import it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio_jupyter.handlers.status import OPENAPI_DOCUMENT
from studio_jupyter.notebook_hook import register_notebook_hook
from studio_jupyter.openapi import openapi_document
from studio_jupyter.routes import handlers
from studio_jupyter.state import API_PREFIX, StudioState, choose_workspace


def setup_routes(serverapp: Any) -> None:
    """Create the studio state (workspace, engine on demand, hubs), register the studio's
    REST and WebSocket handlers on ``serverapp``'s web app and the canvas notebook's
    pre-save hook on its contents manager."""
    from studio.pipelines import register_node_types

    web_app = serverapp.web_app
    base_url: str = web_app.settings["base_url"]
    root_dir = Path(serverapp.root_dir)
    # Pipelines add node types: a graph using them must load here as it does in a kernel.
    register_node_types()
    state = StudioState(
        workspace=choose_workspace(root_dir=root_dir),  # nothing written until a POST
        root_dir=root_dir,
        base_url=base_url,
        log=serverapp.log,
    )
    web_app.settings["studio"] = state
    web_app.settings[OPENAPI_DOCUMENT] = openapi_document
    web_app.add_handlers(".*$", handlers(base_url))
    register_notebook_hook(serverapp)
    serverapp.log.info("studio_jupyter: workspace %s, API at %s%s", state.workspace_path,
                       base_url, API_PREFIX)  # fmt: skip


def stop_studio(serverapp: Any) -> None:
    """Stop the studio with the server: engine subscriptions, the Dask client (and a local
    cluster it started), the thread pool. Safe to call twice."""
    state = serverapp.web_app.settings.get("studio")
    if state is not None:
        state.close()
