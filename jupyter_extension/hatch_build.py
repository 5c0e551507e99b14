"""Hatch build hook: ship the lab extension and the server extension's config in the wheel.

A standard wheel gets them as shared data (``pip install`` puts them in
``<prefix>/share/jupyter/labextensions/generative-media-studio/`` and
``<prefix>/etc/jupyter/jupyter_server_config.d/``) and fails loudly when the lab extension was
not built (run ``make build``). The editable install (``make``'s dev venv) gets neither: `make`
links the build output into the venv instead (like ``jupyter labextension develop``), so a
rebuild shows up without reinstalling and a fresh checkout installs before anything is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LAB_EXTENSION = "generative-media-studio"
BUILT = "jupyter_extension/studio_jupyter/labextension"
SERVER_CONFIG = "jupyter_extension/jupyter-config/server-config/studio_jupyter.json"


class StudioJupyterBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        built = root / BUILT
        if not (built / "package.json").is_file() or not list(
            (built / "static").glob("remoteEntry.*.js")
        ):
            raise RuntimeError(
                f"the lab extension is not built ({BUILT} is missing or incomplete): "
                "run `make build` (or `make labextension`) before building the wheel"
            )
        build_data["shared_data"][str(built)] = f"share/jupyter/labextensions/{LAB_EXTENSION}"
        build_data["shared_data"][str(root / SERVER_CONFIG)] = (
            "etc/jupyter/jupyter_server_config.d/studio_jupyter.json"
        )
