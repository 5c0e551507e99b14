"""The one settings object. Everything configurable is read here, from the environment
(``STUDIO_*``); per-workspace choices live in the workspace's ``workspace.json``
(:mod:`studio.workspace`)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Process-wide settings, from ``STUDIO_<NAME>`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="STUDIO_", extra="ignore")

    workspace: Path = Path("workspace")
    """Workspace folder used when none is given (``STUDIO_WORKSPACE``)."""

    git_author_name: str | None = None
    """Author of the studio's commits; default: git's own config, else "Generative Media Studio"."""

    git_author_email: str | None = None

    git_timeout_s: float = 300.0
    """Upper bound for one git command (a commit of large takes hashes them all)."""


def load_settings() -> Settings:
    """Read the settings now (cheap; call it where a value is needed, so tests can set env)."""
    return Settings()
