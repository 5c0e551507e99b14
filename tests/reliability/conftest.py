"""The fault suite (issue 11): kill -9 at bad moments, corrupted files, hostile messages.

Server cases run a real Jupyter Server with the studio extension, through the same fixtures as
``tests/jupyter_extension``; runner cases run both runners (a local process and a Docker
container) as ``tests/runner`` does. The fixtures are imported here, so they are registered
for this folder too."""

from __future__ import annotations

from tests.jupyter_extension.conftest import (  # noqa: F401 - pytest fixtures
    _studio_env,
    api,
    connect,
    film,
    jp_server_config,
    studio_server,
    ws_root,
)
from tests.runner.conftest import make_runner, misbehave, runner_kind  # noqa: F401
