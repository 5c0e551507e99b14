"""Building pipeline images: the SDK copied into the build context, a host-staged wheelhouse
(``pip download`` on the host, ``pip install --no-index`` in the Dockerfile, the build itself
without network: air-gapped render farms work the same way), and a local base image made
with debootstrap for machines that cannot pull one."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from studio.config import load_settings
from studio.errors import StudioError
from studio.pipelines import Pipeline

if TYPE_CHECKING:
    from docker import DockerClient

SDK_DIR: Final = Path(__file__).parents[1] / "sdk"
CONTEXT_SDK: Final = "_studio_sdk"
"""Build-context folder holding the package ``studio`` with only ``studio.sdk`` in it."""
CONTEXT_WHEELS: Final = "wheels"
REQUIREMENTS: Final = "requirements.txt"


LABEL_SOURCES: Final = "studio.sources"
"""Image label: the digest of the build context's sources (pipeline folder + SDK)."""


class BuildFailed(StudioError):
    pass


def sources_digest(pipeline: Pipeline) -> str:
    """A digest of everything an image is built from that lives in this checkout (the
    pipeline folder and the SDK), so an image built from older sources is rebuilt even when
    the manifest version did not change."""
    refuse_escaping_links(pipeline.folder)
    digest = hashlib.sha256()
    files = [p for p in sorted(pipeline.folder.rglob("*")) if p.is_file()]
    sdk = sorted(SDK_DIR.glob("*.py"))
    for path in [*files, *sdk]:
        if "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        root = pipeline.folder if path.is_relative_to(pipeline.folder) else SDK_DIR.parent
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:32]


def run_streaming(
    command: list[str], *, on_line: Callable[[str], None], check: Callable[[], None]
) -> tuple[int, list[str]]:
    """Run ``command``, feeding its output lines to ``on_line``; ``check()`` is called at
    least every quarter second and may raise (a cancel, a deadline): the process is then
    killed, with every process it started (``pip --python`` runs a second pip; a build runs
    compilers). Returns the exit code and the last lines of output."""
    lines: queue.Queue[str | None] = queue.Queue()
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group, so a kill reaches its children
    )  # fmt: skip

    def pump() -> None:
        assert proc.stdout is not None  # noqa: S101 - stdout=PIPE above
        for line in proc.stdout:
            lines.put(line.rstrip())
        lines.put(None)

    threading.Thread(target=pump, daemon=True, name="build-output").start()
    tail: list[str] = []
    try:
        while True:
            check()
            try:
                line = lines.get(timeout=0.25)
            except queue.Empty:
                continue
            if line is None:
                break
            tail = [*tail[-19:], line]
            on_line(line)
        return proc.wait(), tail
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise


def refuse_escaping_links(folder: Path) -> None:
    """A pipeline folder is built into an image as it is: a symlink pointing out of it would
    put host files into the image, so it is refused."""
    root = folder.resolve()
    for path in folder.rglob("*"):
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            raise BuildFailed(
                f"{path} links to {path.resolve()}, outside the pipeline folder",
                hint="copy the file into the pipeline folder instead of linking to it",
            )


def stage_sdk(root: Path) -> Path:
    """Write a package ``studio`` containing only the SDK under ``root``; returns ``root``."""
    package = root / "studio"
    (package / "sdk").mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(
        '"""Only the pipeline SDK (studio.sdk) is installed here."""\n', encoding="utf-8"
    )
    for source in SDK_DIR.glob("*.py"):
        shutil.copy2(source, package / "sdk" / source.name)
    return root


def image_platform(client: DockerClient, image: str) -> dict[str, str]:
    """The Python version, machine and glibc of ``image`` (what its wheels must match)."""
    probe = (
        "import json, platform, sys; print(json.dumps({'python': '%d.%d' % sys.version_info[:2],"
        " 'machine': platform.machine(), 'glibc': platform.libc_ver()[1]}))"
    )
    out = client.containers.run(
        image, ["python3", "-c", probe], remove=True, network_mode="none", entrypoint=""
    )
    info: dict[str, str] = json.loads(out.decode() if isinstance(out, bytes) else str(out))
    return info


def pip_platform_tags(*, machine: str, glibc: str) -> list[str]:
    """manylinux tags a glibc of that version can run (pip download needs them spelled out)."""
    major, minor = (int(x) for x in (glibc or "2.17").split(".")[:2])
    tags = [f"manylinux_{major}_{m}_{machine}" for m in range(minor, 16, -1)]
    return [*tags, f"manylinux2014_{machine}", f"linux_{machine}"]


def pip_constraints() -> tuple[Path | None, str]:
    """``STUDIO_PIP_CONSTRAINTS`` and its text ((None, "") when unset), for every pip run that
    installs a pipeline's requirements: its local environment, its image's wheelhouse."""
    path = load_settings().pip_constraints
    if path is None:
        return None, ""
    try:
        return path, path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BuildFailed(
            f"STUDIO_PIP_CONSTRAINTS names {path}, which cannot be read: {exc.strerror}",
            hint="point STUDIO_PIP_CONSTRAINTS at a pip constraints file, or unset it",
        ) from None


def stage_wheelhouse(
    requirements: Path,
    *,
    python: str,
    platforms: list[str],
    on_log: Callable[[str], None],
    check: Callable[[], None] = lambda: None,
) -> Path:
    """Wheels for ``requirements`` on the target platform, downloaded once into the cache
    (keyed by requirements, Python version and platform) and reused for every build."""
    text = requirements.read_text(encoding="utf-8")
    constraints, pins = pip_constraints()
    key = hashlib.sha256(json.dumps([text, python, platforms, pins]).encode()).hexdigest()[:16]
    target = load_settings().cache_dir / "wheelhouse" / key
    if (target / ".complete").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    platform_args = [arg for tag in platforms for arg in ("--platform", tag)]
    on_log(f"downloading wheels for {requirements} (python {python})")
    try:
        code, tail = run_streaming(
            [sys.executable, "-m", "pip", "download", "--progress-bar", "off",
             "--disable-pip-version-check", "--only-binary=:all:", "--python-version", python,
             "--implementation", "cp", *platform_args, "-r", str(requirements),
             *(["-c", str(constraints)] if constraints is not None else []),
             "--dest", str(staging)],
            on_line=lambda line: on_log(f"downloading wheels: {line}"),
            check=check,
        )  # fmt: skip
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if code != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildFailed(
            f"could not download the wheels of {requirements}: {' | '.join(tail[-6:])}",
            hint="on an air-gapped machine pass --wheelhouse DIR with the wheels staged elsewhere",
        )
    (staging / ".complete").touch()
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def build_context(pipeline: Pipeline, *, dest: Path, wheelhouse: Path | None) -> Path:
    """The build context: the pipeline folder, ``_studio_sdk/`` and ``wheels/``."""
    refuse_escaping_links(pipeline.folder)
    shutil.copytree(
        pipeline.folder,
        dest,
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    stage_sdk(dest / CONTEXT_SDK)
    wheels = dest / CONTEXT_WHEELS
    wheels.mkdir(exist_ok=True)
    if wheelhouse is not None:
        for wheel in sorted(wheelhouse.glob("*.whl")):
            shutil.copy2(wheel, wheels / wheel.name)
    return dest


LABEL_BASE: Final = "studio.base"
"""Image label: the BASE_IMAGE it was built from."""


def build_image(
    pipeline: Pipeline,
    *,
    client: DockerClient,
    base_image: str,
    wheelhouse: Path | None = None,
    on_log: Callable[[str], None] = lambda line: None,
    check: Callable[[], None] = lambda: None,
) -> str:
    """Build the pipeline's image (tag: the manifest's image name) ``FROM base_image``
    without network access. Wheels come from ``wheelhouse`` when given, else are staged on
    the host from the pipeline's ``requirements.txt``. ``check()`` is called between the
    build's steps and may raise to abandon it. Returns the image id."""
    sources = sources_digest(pipeline)  # before copying: an edit during the build rebuilds
    requirements = pipeline.folder / REQUIREMENTS
    if wheelhouse is None and requirements.is_file() and requirements.read_text().strip():
        info = image_platform(client, base_image)
        wheelhouse = stage_wheelhouse(
            requirements,
            python=info["python"],
            platforms=pip_platform_tags(machine=info["machine"], glibc=info["glibc"]),
            on_log=on_log,
            check=check,
        )
    with tempfile.TemporaryDirectory(prefix="studio-build-") as tmp:
        context = build_context(pipeline, dest=Path(tmp) / "context", wheelhouse=wheelhouse)
        errors: list[str] = []
        stream: Any = client.api.build(
            path=str(context),
            tag=pipeline.manifest.image_name,
            buildargs={"BASE_IMAGE": base_image},
            network_mode="none",
            rm=True,
            forcerm=True,
            decode=True,
            labels={
                "studio.pipeline": pipeline.id,
                "studio.version": pipeline.manifest.version,
                LABEL_SOURCES: sources,
                LABEL_BASE: base_image,
            },
        )
        for chunk in stream:
            check()
            if "stream" in chunk and chunk["stream"].strip():
                on_log(chunk["stream"].rstrip())
            if "error" in chunk:
                errors.append(chunk["error"].strip())
        if errors:
            raise BuildFailed(
                f"building {pipeline.manifest.image_name} failed: {errors[-1]}",
                hint="read the build log above; wheels missing from the wheelhouse show up as "
                "'No matching distribution'",
            )
    image_id: str = client.images.get(pipeline.manifest.image_name).id
    return image_id


def build_base_image(
    *,
    client: DockerClient,
    tag: str,
    suite: str = "bookworm",
    on_log: Callable[[str], None] = lambda line: None,
    check: Callable[[], None] = lambda: None,
) -> str:
    """A minimal Debian + python3 image made locally (debootstrap minbase, ``docker import``),
    for machines that cannot pull one. Needs root and debootstrap; ``on_log`` receives
    debootstrap's lines as they come (it takes a minute or two), ``check()`` may stop it."""
    if shutil.which("debootstrap") is None:
        raise StudioError("debootstrap is not installed", hint="apt-get install -y debootstrap")
    with tempfile.TemporaryDirectory(prefix="studio-rootfs-") as tmp:
        rootfs, tarball = Path(tmp) / "rootfs", Path(tmp) / "rootfs.tar"
        code, tail = run_streaming(
            ["debootstrap", "--variant=minbase", "--include=python3,python3-venv,python3-pip",
             suite, str(rootfs)],
            on_line=on_log,
            check=check,
        )  # fmt: skip
        if code != 0:
            raise StudioError(
                f"debootstrap failed (exit {code}): {' | '.join(tail[-5:])}",
                hint="debootstrap needs root and access to Debian's package mirror",
            )
        on_log(f"importing the root filesystem as {tag}")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], check=True)
        repository, _, version = tag.partition(":")
        client.api.import_image_from_file(str(tarball), repository=repository, tag=version or None)
    image_id: str = client.images.get(tag).id
    return image_id
