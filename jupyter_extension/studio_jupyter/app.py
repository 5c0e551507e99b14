"""The extension as a Jupyter ``ExtensionApp``: its load and shutdown hooks."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp


class StudioExtension(ExtensionApp):
    name = "studio_jupyter"
    load_other_extensions = True

    def initialize_handlers(self) -> None:
        from studio_jupyter import _load_jupyter_server_extension

        _load_jupyter_server_extension(self.serverapp)

    async def stop_extension(self) -> None:
        from studio_jupyter import _unload_jupyter_server_extension

        _unload_jupyter_server_extension(self.serverapp)
