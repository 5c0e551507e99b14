"""Notebook widgets: the Production Canvas (an anywidget)."""

from studio.widgets.canvas import Canvas

__all__ = ["Canvas"]
