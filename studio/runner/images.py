"""Pipeline images on demand: the first job that needs an image builds it, once per host.

* :func:`ensure_image` returns once a pipeline's image is there and current, building it
  when it is missing or the studio built it from other sources or another base image (its
  ``studio.sources`` / ``studio.base`` labels). Images the studio did not build (pulled, or
  loaded by hand) are used as they are. Builds of one image are serialized by a file lock,
  so however many jobs ask at once, one builds and the others wait, following its progress.
* :func:`ensure_base_image` finds the ``BASE_IMAGE`` of the build: ``STUDIO_BASE_IMAGE``
  when set, else one already present, else ``python:3.12-slim`` pulled, else a local Debian
  image made with debootstrap (machines that reach no registry). When nothing can work it
  says what to install.

Progress goes to ``on_progress`` as ordinary :class:`ProgressEvent` s ("building image
t2i-draft: step 4/9") — without a total, so they never drive a job's percentage — at most
about one a second, and to a file next to the lock for the jobs waiting on the same build.
A cancel or the build time limit (``STUDIO_BUILD_TIMEOUT_S``) stops a build or a wait.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from filelock import FileLock, Timeout

from studio.atomic import atomic_write_bytes
from studio.config import load_settings
from studio.errors import StudioError
from studio.pipelines import Pipeline
from studio.runner.build import (
    LABEL_BASE,
    LABEL_SOURCES,
    build_base_image,
    build_image,
    sources_digest,
)
from studio.runner.contract import ProgressEvent

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.images import Image

ProgressSink = Callable[[ProgressEvent], None]

REGISTRY_BASE_IMAGE: Final = "python:3.12-slim"
"""What real deployments build from (or a CUDA base, through STUDIO_BASE_IMAGE)."""
LOCAL_BASE_IMAGE: Final = "studio-base:bookworm"
"""Made here with debootstrap when no registry answers."""
LABEL_PIPELINE: Final = "studio.pipeline"
WAIT_POLL_S: Final = 0.5
PROGRESS_INTERVAL_S: Final = 1.0
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")


class ImageUnavailable(StudioError):
    """A pipeline image is missing and cannot be built here."""


class BuildCanceled(StudioError):
    """The job waiting for (or making) an image was canceled."""


def parse_build_step(line: str) -> tuple[int, int, str] | None:
    """``"Step 4/9 : RUN pip install ..."`` (the daemon's build log) -> (4, 9, instruction)."""
    match = _STEP.match(line.strip())
    return (int(match[1]), int(match[2]), match[3]) if match else None


def choose_present_base(*, configured: str | None, present: Callable[[str], bool]) -> str | None:
    """The base image to use without building or pulling anything, or None. A configured
    one is the only choice (None when absent: the caller pulls it or says why not)."""
    if configured:
        return configured if present(configured) else None
    return next((c for c in (REGISTRY_BASE_IMAGE, LOCAL_BASE_IMAGE) if present(c)), None)


def needs_build(
    pipeline: Pipeline, labels: dict[str, str] | None, *, base: str | None = None
) -> str | None:
    """Why the pipeline's image must be (re)built, or None when the present one will do:
    the studio's own build of these sources (from ``base``, when one is configured), or an
    image the studio did not build at all. Raises when the name belongs to another
    pipeline's build."""
    if labels is None:
        return "not built yet"
    owner = labels.get(LABEL_PIPELINE)
    if owner is None:
        return None  # pulled or loaded by hand under this name: used as it is
    if owner != pipeline.id:
        raise ImageUnavailable(
            f"image {pipeline.manifest.image_name} is pipeline {owner}'s build, not "
            f"{pipeline.id}'s",
            hint=f"give {pipeline.id} its own image name (the manifest's 'image', or none)",
        )
    if labels.get(LABEL_SOURCES) != sources_digest(pipeline):
        return "built from other sources"
    if base is not None and labels.get(LABEL_BASE, base) != base:
        return f"built from {labels[LABEL_BASE]}, not STUDIO_BASE_IMAGE={base}"
    return None


def find_image(client: DockerClient, name: str) -> Image | None:
    """Image ``name``, or None when there is no such image."""
    import docker.errors

    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        return None


def image_labels(client: DockerClient, name: str) -> dict[str, str] | None:
    """The labels of image ``name``, or None when there is no such image."""
    image = find_image(client, name)
    return None if image is None else dict(image.labels or {})


def image_present(client: DockerClient, name: str) -> bool:
    return find_image(client, name) is not None


# --- progress, cancel and the time limit -----------------------------------------------------


@dataclass
class BuildProgress:
    """One job's view of the builds it makes or waits for: ``say`` reports (unchanged
    messages dropped, at most one a ``PROGRESS_INTERVAL_S`` unless ``now``), also to the
    waiters of every build it holds the lock of; ``check`` raises on cancel or time out."""

    sink: ProgressSink
    cancel: threading.Event | None = None
    deadline: float = float("inf")
    shared_with: list[str] = field(default_factory=list)
    making: str = "pipeline image"
    """What is being made, for the messages ("pipeline environment" for the process runner)."""
    _last: str = ""
    _sent_at: float = 0.0

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise BuildCanceled(f"the job was canceled while its {self.making} was being made")
        if time.monotonic() > self.deadline:
            ahead = "`studio pipeline build ID`" if self.making == "pipeline image" else (
                "a first job with the process runner"
            )  # fmt: skip
            raise ImageUnavailable(
                f"making the {self.making} took longer than STUDIO_BUILD_TIMEOUT_S allows",
                hint=f"raise STUDIO_BUILD_TIMEOUT_S, or make it ahead with {ahead}",
            )

    def say(self, message: str, *, now: bool = False) -> None:
        self.check()
        moment = time.monotonic()
        if message == self._last or (not now and moment - self._sent_at < PROGRESS_INTERVAL_S):
            return
        self._last, self._sent_at = message, moment
        event = ProgressEvent(step=0, message=message)
        for name in self.shared_with:
            _publish(name, event)
        self.sink(event)


def _state_path(name: str, suffix: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    folder = load_settings().cache_dir / "builds"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{safe}{suffix}"


def _publish(name: str, event: ProgressEvent) -> None:
    """Where the builder's latest progress is, for jobs waiting on the same build."""
    atomic_write_bytes(_state_path(name, ".progress.json"), event.model_dump_json().encode())


def _last_progress(name: str) -> ProgressEvent | None:
    try:
        return ProgressEvent.model_validate_json(_state_path(name, ".progress.json").read_bytes())
    except (OSError, ValueError):
        return None


@contextmanager
def host_build_lock(name: str, *, progress: BuildProgress) -> Iterator[None]:
    """Hold the build lock of ``name`` on this host; while another process (a job, `studio
    lab`'s background build, `studio pipeline build`) holds it, relay that builder's
    progress. Stops waiting on cancel or at the deadline."""
    lock = FileLock(_state_path(name, ".lock"))
    while True:
        progress.check()
        try:
            lock.acquire(timeout=WAIT_POLL_S)
            break
        except Timeout:
            last = _last_progress(name)
            detail = f": {last.message}" if last is not None and last.message else ""
            progress.say(f"waiting for another build of {name}{detail}")
    _state_path(name, ".progress.json").unlink(missing_ok=True)  # a killed builder's
    progress.shared_with.append(name)
    try:
        yield
    finally:
        progress.shared_with.remove(name)
        _state_path(name, ".progress.json").unlink(missing_ok=True)
        lock.release()


# --- the base image ------------------------------------------------------------------------


def _pull(client: DockerClient, name: str, progress: BuildProgress) -> str | None:
    """Pull ``name``; None on success, else why it failed (no registry, unknown image)."""
    import docker.errors

    repository, _, tag = name.partition(":")
    progress.say(f"pulling the base image {name}", now=True)
    try:
        for chunk in client.api.pull(repository, tag=tag or "latest", stream=True, decode=True):
            if "error" in chunk:
                return str(chunk["error"])
            if status := chunk.get("status"):
                progress.say(f"pulling {name}: {status}")
    except (docker.errors.APIError, OSError) as exc:
        return str(getattr(exc, "explanation", None) or exc)
    return None if image_present(client, name) else f"{name} is not there after the pull"


def _base_image(client: DockerClient, progress: BuildProgress) -> str:
    configured = load_settings().base_image
    present = choose_present_base(
        configured=configured, present=lambda name: image_present(client, name)
    )
    if present is not None:
        return present
    if configured:
        with host_build_lock(configured, progress=progress):
            if image_present(client, configured):
                return configured
            problem = _pull(client, configured, progress)
        if problem is None:
            return configured
        raise ImageUnavailable(
            f"the base image STUDIO_BASE_IMAGE={configured} is not on this machine and cannot "
            f"be pulled: {problem}",
            hint=f"`docker pull {configured}` or `docker load` it, or unset STUDIO_BASE_IMAGE "
            "so the studio finds or makes one",
        )
    with host_build_lock(LOCAL_BASE_IMAGE, progress=progress):
        again = choose_present_base(configured=None, present=lambda n: image_present(client, n))
        if again is not None:
            return again
        problem = _pull(client, REGISTRY_BASE_IMAGE, progress)
        if problem is None:
            return REGISTRY_BASE_IMAGE
        fixes = (
            "load an image and set STUDIO_BASE_IMAGE to it (`docker load`), or use the local "
            "process runner: STUDIO_RUNNER=process"
        )
        if shutil.which("debootstrap") is None or os.geteuid() != 0:
            raise ImageUnavailable(
                f"no base image for pipeline builds: {REGISTRY_BASE_IMAGE} cannot be pulled "
                f"({problem}) and {LOCAL_BASE_IMAGE} cannot be made here (it needs debootstrap "
                "and root)",
                hint=f"install debootstrap and run as root (Debian: apt-get install "
                f"debootstrap), or {fixes}",
            )
        progress.say(
            f"making the base image {LOCAL_BASE_IMAGE} with debootstrap (no registry answered: "
            f"{problem}); a minute or two",
            now=True,
        )
        try:
            build_base_image(
                client=client,
                tag=LOCAL_BASE_IMAGE,
                on_log=lambda line: progress.say(f"making the base image: {line}"),
                check=progress.check,
            )
        except (BuildCanceled, ImageUnavailable):
            raise
        except StudioError as exc:
            raise ImageUnavailable(
                f"{exc.message} (and {REGISTRY_BASE_IMAGE} cannot be pulled: {problem})",
                hint=f"{exc.hint}; or {fixes}",
            ) from None
        return LOCAL_BASE_IMAGE


def ensure_base_image(
    *, client: DockerClient, on_progress: ProgressSink, cancel: threading.Event | None = None
) -> str:
    """The ``BASE_IMAGE`` for pipeline builds, found, pulled or made (see the module doc)."""
    return _base_image(client, build_progress(on_progress, cancel))


def build_progress(
    on_progress: ProgressSink, cancel: threading.Event | None, *, making: str = "pipeline image"
) -> BuildProgress:
    deadline = time.monotonic() + load_settings().build_timeout_s
    return BuildProgress(sink=on_progress, cancel=cancel, deadline=deadline, making=making)


# --- pipeline images ---------------------------------------------------------------------------


def ensure_image(
    pipeline: Pipeline,
    *,
    client: DockerClient,
    on_progress: ProgressSink,
    cancel: threading.Event | None = None,
    base_image: str | None = None,
    wheelhouse: Path | None = None,
    force: bool = False,
) -> None:
    """Make sure the pipeline's image exists and will do (see :func:`needs_build`), building
    it if not — or always, with ``force`` — once per host: concurrent callers wait for the
    one build. Raises ``ImageUnavailable`` (with what to do) or ``BuildCanceled``."""
    name = pipeline.manifest.image_name
    configured = base_image or load_settings().base_image

    def why() -> str | None:
        if force:
            return "asked for"
        return needs_build(pipeline, image_labels(client, name), base=configured)

    if why() is None:
        return
    if not force and not load_settings().build_on_demand:
        raise ImageUnavailable(
            f"image {name} is not built (or is out of date)",
            hint=f"studio pipeline build {pipeline.id}, or set STUDIO_BUILD_ON_DEMAND=1",
        )
    progress = build_progress(on_progress, cancel)
    with host_build_lock(name, progress=progress):
        reason = why()
        if reason is None:  # another job built it while this one waited
            return
        base = base_image or _base_image(client, progress)
        label = f"building image {pipeline.id}"
        progress.say(f"{label} ({reason}) from {base}", now=True)

        def relay(line: str) -> None:
            step = parse_build_step(line)
            if step is not None:
                number, total, instruction = step
                progress.say(f"{label}: step {number}/{total} ({instruction[:60]})", now=True)
            elif line.startswith("downloading wheels"):
                progress.say(f"{label}: {line}")

        replaced = find_image(client, name)
        previous: str | None = replaced.id if replaced is not None else None
        try:
            built = build_image(
                pipeline,
                client=client,
                base_image=base,
                wheelhouse=wheelhouse,
                on_log=relay,
                check=progress.check,
            )
        except (BuildCanceled, ImageUnavailable):
            raise
        except StudioError as exc:
            raise ImageUnavailable(exc.message, hint=exc.hint) from None
        if previous is not None and previous != built:
            _remove_unused(client, previous)  # else every edit of a pipeline leaves an image
        progress.say(f"{label}: done", now=True)


def _remove_unused(client: DockerClient, image_id: str) -> None:
    """Remove a replaced build unless something still uses it (a running warm worker's
    container, another tag): then it stays, as Docker decides."""
    import docker.errors

    with contextlib.suppress(docker.errors.APIError):
        client.images.remove(image_id, noprune=False)
