"""The one settings object. Everything configurable is read here, from the environment
(``STUDIO_*``); per-workspace choices live in the workspace's ``workspace.json``
(:mod:`studio.workspace`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Process-wide settings, from ``STUDIO_<NAME>`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="STUDIO_", extra="ignore", frozen=True)

    workspace: Path = Path("workspace")
    """Workspace folder used when none is given (``STUDIO_WORKSPACE``)."""

    git_author_name: str | None = None
    """Author of the studio's commits; default: git's own config, else "Generative Media Studio"."""

    git_author_email: str | None = None

    git_timeout_s: float = 300.0
    """Upper bound for one git command (a commit of large takes hashes them all)."""

    # --- Function Runner (studio.runner, studio.pipelines) ---
    pipeline_dirs: list[Path] = []
    """Folders searched for pipelines before the built-ins (``STUDIO_PIPELINE_DIRS='["a"]'``)."""

    runner: Literal["auto", "docker", "process"] = "auto"
    """auto: Docker when a daemon answers, else local processes."""

    base_image: str | None = None
    """``BASE_IMAGE`` build argument of pipeline Dockerfiles. Unset: an image already here
    (``python:3.12-slim``, else the local ``studio-base:bookworm``), else ``python:3.12-slim``
    pulled, else ``studio-base:bookworm`` made with debootstrap (machines without a registry)."""

    build_on_demand: bool = True
    """Build a pipeline's image the first time a job needs it (else fail with a hint)."""

    build_timeout_s: float = 3600.0
    """How long a job may spend making (or waiting for) its pipeline's image."""

    cache_dir: Path = Path.home() / ".cache" / "studio"
    """Staged wheelhouses, pipeline environments and other rebuildable files."""

    pip_constraints: Path | None = None
    """A pip constraints file applied wherever the studio installs a pipeline's requirements
    (its local environment, its image's wheelhouse): pin a CPU build of torch here, say."""

    container_user: str = "1000:1000"
    """uid:gid that pipeline containers run as when the studio runs as root (else its own)."""

    container_pids_limit: int = 512

    cancel_grace_s: float = 5.0
    """After a cancel or timeout request, how long a job may clean up before it is killed."""

    warm_memory_budget_gb: float | None = None
    """Memory the warm workers may hold together (default: half of the machine's RAM)."""

    warm_vram_budget_gb: float = 0.0
    """GPU memory the warm workers may hold together."""

    models_dir: Path | None = None
    """The shared model store (``STUDIO_MODELS_DIR``); unset: the workspace's ``models_dir``
    in ``workspace.json`` (default ``<workspace>/Models``)."""

    # --- Generative Engine (studio.engine) ---
    scheduler: str | None = None
    """Dask scheduler address (``tcp://host:8786``); unset: start a local cluster."""

    dispatch_policy: Literal["queue", "fallback"] = "fallback"
    """When no worker has the GPU memory a quality needs: wait for one, or fall back to the
    best pipeline that fits (a project's ``project_settings.dispatch_policy`` wins)."""

    autoscaler: bool = False
    """True when the cluster can add larger workers on demand (then ``queue`` may wait)."""


_SETTINGS_CACHE_SIZE = 64
_by_environment: dict[tuple[tuple[str, str], ...], Settings] = {}


def load_settings() -> Settings:
    """The settings for the environment as it is now: call it where a value is needed (so a
    changed ``STUDIO_*`` variable is seen). Parsed once per distinct set of ``STUDIO_*``
    variables: building a ``Settings`` costs milliseconds, and hot paths (every git call,
    every job) ask for it."""
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith("STUDIO_")))
    settings = _by_environment.get(key)
    if settings is None:
        if len(_by_environment) >= _SETTINGS_CACHE_SIZE:
            _by_environment.clear()
        settings = _by_environment[key] = Settings()
    return settings
