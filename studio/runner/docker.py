"""DockerRunner: one container per job, locked down by default.

Security defaults (see :func:`container_options`): no network, the job folder read-only with
only ``outputs/`` writable, a read-only root filesystem with a private ``/tmp``, a non-root
user, every capability dropped, no-new-privileges, memory (without swap), CPU and PID limits,
and a GPU device request only when the job was given GPUs.

No orphans: every container carries ``studio.*`` labels naming its owner; it is removed when
its job ends (success, failure, cancel, timeout, an exception in the caller); a watchdog
process removes the owner's containers if the caller dies without cleaning up; and each new
runner reaps containers whose owner process is gone.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from studio.config import load_settings
from studio.errors import StudioError
from studio.pipelines import Pipeline, Resources
from studio.runner.base import EventCollector, Exit, LineSplitter, Runner
from studio.runner.contract import (
    MODELS_MOUNT,
    OUTPUTS_DIR,
    ErrorCode,
    JobSpec,
    ProgressEvent,
    container_models,
    failure,
    models_env,
)
from studio.runner.reaper import LABEL_JOB, LABEL_OWNER, LABEL_PIPELINE, LABEL_RUNNER, Watchdog

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

JOB_MOUNT: Final = "/job"
POLL_S: Final = 0.1


def docker_client(*, timeout: int = 120) -> DockerClient:
    """A client for the daemon of ``DOCKER_HOST`` (default: the local socket), or a
    StudioError saying how to start one."""
    import docker

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:
        raise StudioError(
            f"no Docker daemon is reachable ({type(exc).__name__}: {exc})",
            hint="start it (Debian: apt-get install docker.io; dockerd &), or use the local "
            "process runner: STUDIO_RUNNER=process",
        ) from None
    return client


def docker_available() -> bool:
    try:
        docker_client(timeout=5).close()
    except StudioError:
        return False
    return True


def owner_id() -> str:
    """host:pid:random — the reaper checks whether that pid still lives on this host."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def container_user(setting: str) -> tuple[str, int | None, int | None]:
    """The container's ``uid:gid``: the caller's own ids, unless the caller is root (then the
    configured non-root user, and the outputs folder is handed to it)."""
    uid = os.getuid()
    if uid != 0:
        return f"{uid}:{os.getgid()}", None, None
    user, _, group = setting.partition(":")
    return setting, int(user), int(group or user)


def container_options(
    pipeline: Pipeline,
    spec: JobSpec,
    *,
    resources: Resources,
    user: str,
    owner: str,
    pids_limit: int,
    mounts: list[Any],
    host_cpus: int,
) -> dict[str, Any]:
    """The ``containers.create`` keyword arguments of a job: the security model in one place."""
    from docker.types import DeviceRequest

    memory = int(resources.memory_gb * 1024**3)
    options: dict[str, Any] = {
        "user": user,
        "network_mode": "none",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "read_only": True,
        # the container's own private tmpfs, not the host's /tmp
        "tmpfs": {"/tmp": "rw,nosuid,nodev,size=1g,mode=1777"},  # noqa: S108
        "environment": {
            "HOME": "/tmp",  # noqa: S108
            "TMPDIR": "/tmp",  # noqa: S108
            "PYTHONUNBUFFERED": "1",
            # the libraries look nowhere else, and there is no network to look on anyway
            "HF_HUB_OFFLINE": "1",
            **models_env(container_models(spec.models)),
        },
        "mem_limit": memory,
        "memswap_limit": memory,  # equal: no swap, so an overrun is an OOM kill, not a crawl
        "nano_cpus": int(min(resources.cpus, host_cpus) * 1e9),
        "pids_limit": pids_limit,
        "mounts": mounts,
        "labels": {
            LABEL_RUNNER: "1",
            LABEL_OWNER: owner,
            LABEL_JOB: spec.job_id,
            LABEL_PIPELINE: pipeline.id,
        },
        "device_requests": [],
    }
    if spec.gpus:
        options["device_requests"] = [
            DeviceRequest(device_ids=list(spec.gpus), capabilities=[["gpu"]])
        ]
    return options


def job_mounts(job_dir: Path) -> list[Any]:
    """The job folder read-only at /job, its outputs/ writable on top of it."""
    from docker.types import Mount

    return [
        Mount(target=JOB_MOUNT, source=str(job_dir.resolve()), type="bind", read_only=True),
        Mount(
            target=f"{JOB_MOUNT}/{OUTPUTS_DIR}",
            source=str((job_dir / OUTPUTS_DIR).resolve()),
            type="bind",
            read_only=False,
        ),
    ]


def model_mounts(models: dict[str, str]) -> list[Any]:
    """Each of the job's models read-only at ``/models/<id>``: a pipeline reads its weights,
    it never changes the store."""
    from docker.types import Mount

    return [
        Mount(target=f"{MODELS_MOUNT}/{model_id}", source=folder, type="bind", read_only=True)
        for model_id, folder in sorted(models.items())
    ]


def stream_logs(
    client: DockerClient, container: Container, collector: EventCollector, *, stream: str
) -> threading.Thread:
    """Follow one of the container's streams into ``collector``, line by line."""

    def follow() -> None:
        splitter = LineSplitter(lambda line: collector.line(line, stream=stream))
        try:
            for chunk in client.api.logs(
                container.id,
                stdout=stream == "stdout",
                stderr=stream == "stderr",
                stream=True,
                follow=True,
            ):
                splitter.feed(chunk)
        except Exception as exc:  # the container was removed under us: nothing more to read
            collector.line(f"log stream ended: {exc}", stream="stderr")
        splitter.close()

    thread = threading.Thread(target=follow, daemon=True, name=f"logs-{stream}")
    thread.start()
    return thread


def docker_oom_verdict(state: dict[str, Any]) -> tuple[bool | None, str]:
    """Pure: (OOM-killed, who says so) from a container's ``State``. Docker's ``OOMKilled``
    is the evidence; a daemon that does not report it (an API without the field) cannot
    tell."""
    flag = state.get("OOMKilled")
    if not isinstance(flag, bool):
        return None, "the Docker daemon does not report out-of-memory kills (no OOMKilled)"
    if flag:
        return True, "Docker reports the container was killed by the out-of-memory killer"
    return False, "Docker reports no out-of-memory kill of the container"


def container_image_id(container: Container) -> str | None:
    """The ID (``sha256:...``) of the image the container was created from: the one it ran,
    even if its tag was moved to a rebuilt image since."""
    image = container.attrs.get("Image")
    return image if isinstance(image, str) and image.startswith("sha256:") else None


def remove_quietly(container: Container) -> None:
    import docker.errors

    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if "already in progress" not in str(exc):
            raise


class DockerRunner(Runner):
    name = "docker"

    def __init__(self, *, client: DockerClient | None = None, grace_s: float | None = None) -> None:
        settings = load_settings()
        self.client = client or docker_client()
        self.grace_s = settings.cancel_grace_s if grace_s is None else grace_s
        self.owner = owner_id()
        self._user, self._uid, self._gid = container_user(settings.container_user)
        self._pids_limit = settings.container_pids_limit
        self._host_cpus = os.cpu_count() or 1
        self._current_images: set[tuple[str, str]] = set()
        """(image name, sources digest) pairs found current by :meth:`prepare`."""
        from studio.runner.reaper import reap_orphans

        reap_orphans(self.client)

    @cached_property
    def watchdog(self) -> Watchdog:
        # Started on first use: removes this runner's containers if this process dies.
        return Watchdog.start(self.owner)

    def close(self) -> None:
        from studio.runner.reaper import reap

        reap(self.client, owner=self.owner)
        if "watchdog" in self.__dict__:
            self.watchdog.stop()

    def prepare(
        self,
        pipeline: Pipeline,
        *,
        on_progress: Callable[[ProgressEvent], None],
        cancel: threading.Event,
    ) -> None:
        """Build the pipeline's image on first use (once per host, see studio.runner.images);
        an image this runner already found current is not asked about again."""
        import docker.errors

        from studio.runner.build import sources_digest
        from studio.runner.images import ImageUnavailable, ensure_image

        try:
            checked = (pipeline.manifest.image_name, sources_digest(pipeline))
            if checked not in self._current_images:
                ensure_image(pipeline, client=self.client, on_progress=on_progress, cancel=cancel)
                self._current_images.add(checked)
        except (docker.errors.DockerException, OSError, subprocess.SubprocessError) as exc:
            raise ImageUnavailable(
                f"could not make the image of {pipeline.id}: {type(exc).__name__}: {exc}",
                hint="check the Docker daemon (`docker info`), the disk space and the studio's "
                "cache folder (STUDIO_CACHE_DIR), then generate again",
            ) from None

    def options(self, pipeline: Pipeline, spec: JobSpec, mounts: list[Any]) -> dict[str, Any]:
        return container_options(
            pipeline,
            spec,
            resources=pipeline.manifest.resources_for(spec.quality),
            user=self._user,
            owner=self.owner,
            pids_limit=self._pids_limit,
            mounts=[*mounts, *model_mounts(spec.models)],
            host_cpus=self._host_cpus,
        )

    def hand_over(self, folder: Path) -> None:
        """Make a host folder writable by the container's non-root user."""
        if self._uid is not None and self._gid is not None:
            os.chown(folder, self._uid, self._gid)

    def create(self, pipeline: Pipeline, command: list[str], options: dict[str, Any]) -> Container:
        import docker.errors

        self.watchdog  # noqa: B018 - make sure the watchdog runs before any container exists
        try:
            container: Container = self.client.containers.create(
                pipeline.manifest.image_name, command, **options
            )
        except docker.errors.ImageNotFound:
            # removed since it was checked: the next job builds it again
            self._current_images = {
                c for c in self._current_images if c[0] != pipeline.manifest.image_name
            }
            raise StudioError(
                f"image {pipeline.manifest.image_name} was removed while in use",
                hint="generate again: the next job builds it again",
            ) from None
        return container

    def _execute(
        self,
        pipeline: Pipeline,
        job_dir: Path,
        spec: JobSpec,
        *,
        collector: EventCollector,
        cancel: threading.Event,
        deadline: float,
    ) -> Exit:
        import docker.errors

        self.hand_over(job_dir / OUTPUTS_DIR)
        options = self.options(pipeline, spec, job_mounts(job_dir))
        try:
            container = self.create(pipeline, ["--job", JOB_MOUNT], options)
        except (StudioError, docker.errors.APIError) as exc:
            return Exit(None, problem=failure(ErrorCode.SETUP_FAILED, str(exc)))
        try:
            return self._supervise(container, collector, cancel=cancel, deadline=deadline)
        finally:
            remove_quietly(container)

    def _supervise(
        self,
        container: Container,
        collector: EventCollector,
        *,
        cancel: threading.Event,
        deadline: float,
    ) -> Exit:
        container.start()
        pumps = [
            stream_logs(self.client, container, collector, stream=s) for s in ("stdout", "stderr")
        ]
        exited = threading.Event()

        def wait() -> None:
            # removed or daemon gone: the state check below says which
            with contextlib.suppress(Exception):
                container.wait()
            exited.set()

        threading.Thread(target=wait, daemon=True, name="container-wait").start()
        canceled = timed_out = False
        while not exited.wait(POLL_S):
            if cancel.is_set() or time.monotonic() > deadline:
                canceled, timed_out = cancel.is_set(), not cancel.is_set()
                # SIGTERM (the SDK reports CANCELED and exits), SIGKILL after the grace period
                container.stop(timeout=max(1, round(self.grace_s)))
                exited.wait(self.grace_s + 10)
                break
        for pump in pumps:
            pump.join(timeout=10)
        container.reload()
        state = container.attrs["State"]
        oom, evidence = docker_oom_verdict(state)
        return Exit(
            exit_code=state.get("ExitCode"),
            oom_killed=oom,
            oom_evidence=evidence,
            canceled=canceled,
            timed_out=timed_out,
            image_digest=container_image_id(container),
        )
