"""Pipeline images on demand: the first job that needs an image builds it, once per host.

* :func:`ensure_image` returns a pipeline's image, building it when it is missing or was
  built from other sources (the ``studio.sources`` label). Builds of one image on one host
  are serialized by a file lock, so however many jobs ask at once, one builds and the others
  wait, following the builder's progress.
* :func:`ensure_base_image` finds the ``BASE_IMAGE`` of the build: ``STUDIO_BASE_IMAGE``
  when set, else one already present, else ``python:3.12-slim`` pulled, else a local Debian
  image made with debootstrap (machines that reach no registry). When nothing can work it
  says what to install.

Progress goes to ``on_progress`` as ordinary :class:`ProgressEvent` s ("building image
t2i-draft: step 4/9"), so a job shows why its first run takes longer.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

from filelock import FileLock, Timeout

from studio.atomic import atomic_write_bytes
from studio.config import load_settings
from studio.errors import StudioError
from studio.pipelines import Pipeline
from studio.runner.build import LABEL_SOURCES, build_base_image, build_image, sources_digest
from studio.runner.contract import ProgressEvent

if TYPE_CHECKING:
    from docker import DockerClient

ProgressSink = Callable[[ProgressEvent], None]

REGISTRY_BASE_IMAGE: Final = "python:3.12-slim"
"""What real deployments build from (or a CUDA base, through STUDIO_BASE_IMAGE)."""
LOCAL_BASE_IMAGE: Final = "studio-base:bookworm"
"""Made here with debootstrap when no registry answers."""
WAIT_POLL_S: Final = 0.5
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")


class ImageUnavailable(StudioError):
    """A pipeline image is missing and cannot be built here."""


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


def image_labels(client: DockerClient, name: str) -> dict[str, str] | None:
    """The labels of image ``name``, or None when there is no such image."""
    import docker.errors

    try:
        image = client.images.get(name)
    except docker.errors.ImageNotFound:
        return None
    return dict(image.labels or {})


def image_present(client: DockerClient, name: str) -> bool:
    return image_labels(client, name) is not None


def needs_build(pipeline: Pipeline, labels: dict[str, str] | None) -> str | None:
    """Why the pipeline's image must be (re)built, or None when the present one is current."""
    if labels is None:
        return "not built yet"
    if labels.get(LABEL_SOURCES) != sources_digest(pipeline):
        return "built from other sources"
    return None


# --- one build at a time per image on a host ---------------------------------------------------


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
def host_build_lock(name: str, *, on_progress: ProgressSink) -> Iterator[None]:
    """Hold the host-wide build lock of ``name``; while another process holds it, relay that
    builder's progress ("waiting for ...")."""
    lock = FileLock(_state_path(name, ".lock"))
    told = False
    while True:
        try:
            lock.acquire(timeout=WAIT_POLL_S)
            break
        except Timeout:
            last = _last_progress(name)
            detail = f": {last.message}" if last is not None and last.message else ""
            if last is not None or not told:
                on_progress(
                    ProgressEvent(
                        step=last.step if last else 0,
                        total=last.total if last else None,
                        message=f"waiting for another job's build of {name}{detail}",
                    )
                )
                told = True
    try:
        yield
    finally:
        _state_path(name, ".progress.json").unlink(missing_ok=True)
        lock.release()


# --- the base image ------------------------------------------------------------------------


def _pull(client: DockerClient, name: str, on_progress: ProgressSink) -> str | None:
    """Pull ``name``; None on success, else why it failed (no registry, unknown image)."""
    import docker.errors

    repository, _, tag = name.partition(":")
    on_progress(ProgressEvent(step=0, message=f"pulling the base image {name}"))
    try:
        for chunk in client.api.pull(repository, tag=tag or "latest", stream=True, decode=True):
            if "error" in chunk:
                return str(chunk["error"])
            if status := chunk.get("status"):
                on_progress(ProgressEvent(step=0, message=f"pulling {name}: {status}"))
    except (docker.errors.APIError, OSError) as exc:
        return str(getattr(exc, "explanation", None) or exc)
    return None if image_present(client, name) else f"{name} is not there after the pull"


def ensure_base_image(*, client: DockerClient, on_progress: ProgressSink) -> str:
    """The ``BASE_IMAGE`` for pipeline builds, found, pulled or made (see the module doc)."""
    configured = load_settings().base_image
    present = choose_present_base(
        configured=configured, present=lambda name: image_present(client, name)
    )
    if present is not None:
        return present
    if configured:
        with host_build_lock(configured, on_progress=on_progress):
            if image_present(client, configured):
                return configured
            problem = _pull(client, configured, on_progress)
        if problem is None:
            return configured
        raise ImageUnavailable(
            f"the base image STUDIO_BASE_IMAGE={configured} is not on this machine and cannot "
            f"be pulled: {problem}",
            hint=f"`docker pull {configured}` or `docker load` it, or unset STUDIO_BASE_IMAGE "
            "so the studio finds or makes one",
        )
    with host_build_lock(LOCAL_BASE_IMAGE, on_progress=on_progress):
        again = choose_present_base(configured=None, present=lambda n: image_present(client, n))
        if again is not None:
            return again
        problem = _pull(client, REGISTRY_BASE_IMAGE, on_progress)
        if problem is None:
            return REGISTRY_BASE_IMAGE
        if shutil.which("debootstrap") is None or os.geteuid() != 0:
            raise ImageUnavailable(
                f"no base image for pipeline builds: {REGISTRY_BASE_IMAGE} cannot be pulled "
                f"({problem}) and {LOCAL_BASE_IMAGE} cannot be made here (it needs debootstrap "
                "and root)",
                hint="install debootstrap and run as root (Debian: apt-get install debootstrap), "
                "or load an image and set STUDIO_BASE_IMAGE to it, or use the local process "
                "runner: STUDIO_RUNNER=process",
            )
        lines = 0

        def relay(line: str) -> None:
            nonlocal lines
            lines += 1
            event = ProgressEvent(
                step=lines, message=f"making the base image {LOCAL_BASE_IMAGE}: {line}"
            )
            _publish(LOCAL_BASE_IMAGE, event)
            on_progress(event)

        relay(f"no registry answered ({problem}); running debootstrap (a minute or two)")
        build_base_image(client=client, tag=LOCAL_BASE_IMAGE, on_log=relay)
        return LOCAL_BASE_IMAGE


# --- pipeline images ---------------------------------------------------------------------------


def ensure_image(
    pipeline: Pipeline,
    *,
    client: DockerClient,
    on_progress: ProgressSink,
    base_image: str | None = None,
) -> None:
    """Make sure the pipeline's image exists and matches its sources, building it if not
    (once per host: concurrent callers wait for the one build)."""
    name = pipeline.manifest.image_name
    if needs_build(pipeline, image_labels(client, name)) is None:
        return
    if not load_settings().build_on_demand:
        raise ImageUnavailable(
            f"image {name} is not built (or is out of date)",
            hint=f"studio pipeline build {pipeline.id}, or set STUDIO_BUILD_ON_DEMAND=1",
        )
    with host_build_lock(name, on_progress=on_progress):
        why = needs_build(pipeline, image_labels(client, name))
        if why is None:  # another job built it while this one waited
            return
        base = base_image or ensure_base_image(client=client, on_progress=on_progress)
        label = f"building image {pipeline.id}"

        def relay(line: str) -> None:
            step = parse_build_step(line)
            if step is not None:
                number, total, instruction = step
                event = ProgressEvent(
                    step=number,
                    total=total,
                    message=f"{label}: step {number}/{total} ({instruction[:60]})",
                )
            elif line.startswith("downloading wheels"):
                event = ProgressEvent(step=0, message=f"{label}: {line}")
            else:
                return
            _publish(name, event)
            on_progress(event)

        on_progress(ProgressEvent(step=0, message=f"{label} ({why}) from {base}"))
        try:
            build_image(pipeline, client=client, base_image=base, on_log=relay)
        except StudioError as exc:
            raise ImageUnavailable(exc.message, hint=exc.hint) from None
        on_progress(ProgressEvent(step=1, total=1, message=f"{label}: done"))
