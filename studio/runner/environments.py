"""Pipeline environments for the local process runner: each pipeline runs in a virtual
environment made from its own ``requirements.txt`` the first time a job needs it, so the
studio's environment never holds a model's packages (torch, diffusers ...).

* An environment is keyed by what it is made from — the requirements (comments, blank lines
  and order ignored), the Python version and the constraints file
  (``STUDIO_PIP_CONSTRAINTS``) — so pipelines with the same requirements (the seven diffusers
  pipelines) share one environment, as their Docker images share one layer.
* Made once per host under ``<cache>/envs/<key>/``: one maker at a time (a file lock; the
  others wait, following its progress, as for an image build), reported as progress lines
  ("making the environment of t2i-sd1.5: Collecting torch ..."), cancelable, within
  ``STUDIO_BUILD_TIMEOUT_S``. It counts as made only once its ``.complete`` marker is
  written: a maker killed half-way leaves a folder the next one removes and makes again.
* pip installs into it from outside (``pip --python``), so an environment holds only what
  the pipeline asked for, and no copy of pip.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Final

from studio.config import load_settings
from studio.errors import StudioError
from studio.pipelines import Pipeline
from studio.runner.build import REQUIREMENTS, pip_constraints, run_streaming
from studio.runner.images import BuildProgress, ProgressSink, build_progress, host_build_lock

ENVS_DIR: Final = "envs"
COMPLETE: Final = ".complete"
RECORD: Final = "environment.json"
"""What the environment was made from, beside it (for `ls` and `studio doctor`)."""


class EnvironmentUnavailable(StudioError):
    """A pipeline's environment could not be made (a package pip cannot find or build)."""


def requirement_lines(text: str) -> list[str]:
    """Pure: the requirements that matter — comments and blank lines dropped, sorted."""
    lines = (line.split(" #", 1)[0].strip() for line in text.splitlines())
    return sorted({line for line in lines if line and not line.startswith("#")})


def environment_key(*, requirements: list[str], python: str, constraints: str) -> str:
    """Pure: the name of the environment made from these."""
    blob = json.dumps({"requirements": requirements, "python": python, "constraints": constraints})
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def python_of(folder: Path) -> Path:
    """The interpreter of the environment in ``folder``."""
    return folder / "bin" / "python"


def environment_folder(pipeline: Pipeline) -> Path:
    """Where the environment of ``pipeline`` is (made or not)."""
    path = pipeline.folder / REQUIREMENTS
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    key = environment_key(
        requirements=requirement_lines(text),
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        constraints=pip_constraints()[1],
    )
    return load_settings().cache_dir / ENVS_DIR / key


def ensure_environment(
    pipeline: Pipeline, *, on_progress: ProgressSink, cancel: threading.Event | None = None
) -> Path:
    """The interpreter of the pipeline's environment, made first if it is not there yet
    (see the module doc). Raises :class:`EnvironmentUnavailable`, or ``BuildCanceled`` on
    cancel or at the time limit."""
    folder = environment_folder(pipeline)
    if (folder / COMPLETE).is_file():
        return python_of(folder)
    progress = build_progress(on_progress, cancel, making="pipeline environment")
    with host_build_lock(f"env-{folder.name}", progress=progress):
        if not (folder / COMPLETE).is_file():  # another job may have made it meanwhile
            _make(pipeline, folder, progress=progress)
    return python_of(folder)


def _make(pipeline: Pipeline, folder: Path, *, progress: BuildProgress) -> None:
    label = f"making the environment of {pipeline.id}"
    shutil.rmtree(folder, ignore_errors=True)  # a maker that died half-way
    folder.parent.mkdir(parents=True, exist_ok=True)
    progress.say(f"{label} (first use; later jobs reuse it)", now=True)
    made = subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        raise EnvironmentUnavailable(
            f"{label} failed: python -m venv said {made.stderr.strip()[-400:]}",
            hint="install the venv module (Debian: apt-get install python3-venv)",
        )
    requirements = pipeline.folder / REQUIREMENTS
    constraints, _ = pip_constraints()
    if requirements.is_file() and requirement_lines(requirements.read_text(encoding="utf-8")):
        command = [
            sys.executable, "-m", "pip", "--python", str(python_of(folder)), "install",
            "--disable-pip-version-check", "--progress-bar", "off", "--no-input",
            "-r", str(requirements),
            *(["-c", str(constraints)] if constraints is not None else []),
        ]  # fmt: skip
        try:
            code, tail = run_streaming(
                command, on_line=lambda line: progress.say(f"{label}: {line}"), check=progress.check
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        if code != 0:
            shutil.rmtree(folder, ignore_errors=True)
            raise EnvironmentUnavailable(
                f"{label} failed: pip install -r {requirements} said: {' | '.join(tail[-6:])}",
                hint="check the pipeline's requirements.txt; on a machine without a package "
                "index point pip at a wheelhouse (PIP_FIND_LINKS=DIR PIP_NO_INDEX=1)",
            )
    text = requirements.read_text(encoding="utf-8") if requirements.is_file() else ""
    made_from = {
        "first made for": pipeline.id,
        "requirements": requirement_lines(text),
        "python": sys.version.split()[0],
        "constraints": str(constraints or ""),
    }
    (folder / RECORD).write_text(json.dumps(made_from, indent=2), encoding="utf-8")
    (folder / COMPLETE).touch()
    progress.say(f"{label}: done", now=True)
