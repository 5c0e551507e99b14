"""The URL table of the studio's server extension (handlers live one module per role)."""

from __future__ import annotations

from typing import Any


def setup_routes(serverapp: Any) -> None:
    """Register the studio's REST and WebSocket handlers on ``serverapp``'s web app."""
    serverapp.log.info("studio_jupyter: no routes yet")
