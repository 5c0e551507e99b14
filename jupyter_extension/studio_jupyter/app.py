"""The extension as a Jupyter ``ExtensionApp``: its load and shutdown hooks."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp


class StudioExtension(ExtensionApp):
    name = "studio_jupyter"
    load_other_extensions = True

    def initialize_handlers(self) -> None:
        from studio_jupyter.extension import setup_routes

        setup_routes(self.serverapp)

    async def stop_extension(self) -> None:
        from studio_jupyter.extension import stop_studio

        stop_studio(self.serverapp)
