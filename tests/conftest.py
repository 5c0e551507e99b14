"""Shared fixtures: real workspaces and projects (real git + git-lfs) in temp folders."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

from studio import Project, Workspace

if TYPE_CHECKING:
    from studio.models import ModelStore

# Jupyter Server fixtures (jp_fetch, jp_ws_fetch, jp_serverapp...) for tests/jupyter_extension;
# pytest only accepts pytest_plugins in the root conftest.
pytest_plugins = ["pytest_jupyter.jupyter_server"]

# Rebuildable things (pipeline images' wheelhouses, pipeline environments) are made once per
# machine, as for a user: the Jupyter Server fixtures give each test a new HOME, which would
# otherwise make every such test install its pipelines' environments again.
os.environ.setdefault("STUDIO_CACHE_DIR", str(Path.home() / ".cache" / "studio"))


def _cpu_torch_constraint() -> str | None:
    """``torch==X`` for a CPU build of torch among pip's find-links folders (these machines
    keep one on disk), else None. Tests use it when found (a CUDA build is several GB); the
    product never depends on it: the pipelines ask for a range."""
    import configparser

    folders = os.environ.get("PIP_FIND_LINKS", "").split()
    for config in (Path("/etc/pip.conf"), Path("/etc/xdg/pip/pip.conf"),
                   Path.home() / ".config" / "pip" / "pip.conf"):  # fmt: skip
        parser = configparser.ConfigParser()
        parser.read(config)
        folders += parser.get("global", "find-links", fallback="").split()
    for folder in folders:
        for wheel in (
            sorted(Path(folder).glob("torch-*+cpu-*.whl")) if Path(folder).is_dir() else []
        ):
            return f"torch=={wheel.name.split('-')[1].split('+')[0]}"
    return None


if "STUDIO_PIP_CONSTRAINTS" not in os.environ and (_pin := _cpu_torch_constraint()):
    _constraints = Path(os.environ["STUDIO_CACHE_DIR"]) / "test-pip-constraints.txt"
    _constraints.parent.mkdir(parents=True, exist_ok=True)
    if not _constraints.is_file() or _constraints.read_text() != _pin + "\n":
        _constraints.write_text(_pin + "\n")
    os.environ["STUDIO_PIP_CONSTRAINTS"] = str(_constraints)


def _uses_jupyter_server(request: pytest.FixtureRequest) -> bool:
    return "jp_serverapp" in request.fixturenames


# The plugin's two autouse fixtures would run for EVERY test of the suite: a fresh event loop
# closed after each test (which breaks tests whose libraries keep a loop running, like
# Playwright's) and a ServerApp instance created just to clean it up. These overrides keep
# the plugin's behavior for the tests that start a Jupyter Server, and do nothing elsewhere.
@pytest.fixture(autouse=True)
def jp_asyncio_loop(request: pytest.FixtureRequest) -> Iterator[Any]:
    if not _uses_jupyter_server(request):
        yield None
        return
    from jupyter_core.utils import ensure_event_loop

    loop = ensure_event_loop(prefer_selector_loop=True)
    yield loop
    loop.close()


@pytest.fixture(autouse=True)
def jp_server_cleanup(request: pytest.FixtureRequest, jp_asyncio_loop: Any) -> Iterator[None]:
    yield
    if not _uses_jupyter_server(request):
        return
    from jupyter_server.serverapp import ServerApp

    app = ServerApp.instance()
    try:
        jp_asyncio_loop.run_until_complete(app._cleanup())
    except (RuntimeError, SystemExit) as exc:
        print("ignoring cleanup error", exc)
    if hasattr(app, "kernel_manager"):
        app.kernel_manager.context.destroy()
    ServerApp.clear_instance()


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def project(workspace: Workspace) -> Project:
    return workspace.create_project("Test Film", description="a test project")


@pytest.fixture
def make_png() -> Callable[..., bytes]:
    def make(
        width: int = 16, height: int = 9, color: tuple[int, int, int] = (200, 40, 40)
    ) -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", (width, height), color).save(buffer, format="PNG")
        return buffer.getvalue()

    return make


@pytest.fixture
def make_mp4(tmp_path: Path) -> Callable[..., bytes]:
    """A real H.264 MP4 (ffmpeg's lavfi colour source), in one colour."""
    import imageio_ffmpeg

    def make(color: str = "red", size: str = "64x36", seconds: float = 1.0) -> bytes:
        out = tmp_path / f"clip-{color}-{size}.mp4"
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
             f"color=c={color}:s={size}:d={seconds}:r=24", "-c:v", "libx264",
             "-pix_fmt", "yuv420p", str(out)],
            check=True,
        )  # fmt: skip
        return out.read_bytes()

    return make


@pytest.fixture
def path_without_git_lfs(tmp_path: Path) -> str:
    """A PATH on which git exists but git-lfs does not (git finds git-lfs through PATH)."""
    git = shutil.which("git")
    assert git, "git is required to run the tests"
    bin_dir = tmp_path / "bin-without-lfs"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(git)
    assert (
        subprocess.run(
            ["git", "lfs", "version"], env={**os.environ, "PATH": str(bin_dir)}, capture_output=True
        ).returncode
        != 0
    )
    return str(bin_dir)


def run_studio(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """Run the real CLI (``python -m studio``) in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
    )


def git_out(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def require_or_skip(kind: str, reason: str) -> None:
    """Skip a test that needs ``kind`` (DOCKER, BROWSER) here, or fail it when CI demands it
    with ``STUDIO_REQUIRE_<KIND>=1`` (so these tests can never skip silently in CI)."""
    if os.environ.get(f"STUDIO_REQUIRE_{kind}") == "1":
        pytest.fail(f"STUDIO_REQUIRE_{kind}=1 but {reason}")
    pytest.skip(reason)


# --- Docker (the Function Runner's tests) ---------------------------------------------------

IMAGE_FIXTURES: frozenset[str] = frozenset(
    {"base_image", "build_pipeline_image", "builtin_images", "diffusers_python", "tiny_models"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The first test that needs pipeline images builds them (the base image by debootstrap,
    then each built-in pipeline: minutes on a new, busy machine), whichever test that is. Its
    time limit covers its own body, not that one-off build; a build that hangs is stopped by
    the build's own limit (``STUDIO_BUILD_TIMEOUT_S``)."""
    for item in items:
        if IMAGE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.timeout(func_only=True))


@pytest.fixture(scope="session")
def docker_client():
    """A client of a reachable Docker daemon; skips (or fails with STUDIO_REQUIRE_DOCKER=1)."""
    from studio.errors import StudioError
    from studio.runner.docker import docker_client as connect

    try:
        client = connect(timeout=300)
    except StudioError as exc:
        require_or_skip("DOCKER", f"no Docker daemon: {exc.message}")
    yield client
    client.close()


def _print_progress(event: Any) -> None:
    print(event.message, file=sys.stderr)


@pytest.fixture(scope="session")
def base_image(docker_client) -> str:
    """The base image of pipeline builds, found or made the way the product does it
    (``studio.runner.images.ensure_base_image``: present, pulled, or debootstrap)."""
    from studio.errors import StudioError
    from studio.runner.images import ensure_base_image

    try:
        return ensure_base_image(client=docker_client, on_progress=_print_progress)
    except StudioError as exc:
        require_or_skip("DOCKER", f"no base image for pipeline builds: {exc}")
        raise


@pytest.fixture(scope="session")
def build_pipeline_image(docker_client, base_image):
    """``build(pipeline)``: the pipeline's image, built through the product's on-demand path
    (``ensure_image``) when missing or out of date. Any test that needs an image asks for it
    here, never relying on an earlier test having built it."""
    from studio.pipelines import Pipeline
    from studio.runner.images import ensure_image

    def build(pipeline: Pipeline) -> None:
        ensure_image(
            pipeline, client=docker_client, on_progress=_print_progress, base_image=base_image
        )

    return build


@pytest.fixture(scope="session")
def builtin_images(request: pytest.FixtureRequest) -> None:
    """The built-in draft pipelines' images, for tests whose generations run in Docker when a daemon
    answers (the browser's Generate, the engine through the default runner). Without a daemon
    those tests use local processes, so this needs none."""
    from studio.pipelines import discover, search_path
    from studio.runner.docker import docker_available

    if not docker_available():
        return
    build = request.getfixturevalue("build_pipeline_image")
    for pipeline in discover([search_path()[-1]]).values():
        if not pipeline.manifest.models:  # the drafts: the model pipelines' tests build theirs
            build(pipeline)


# --- the model pipelines' environment and tiny models -----------------------------------------

TINY_MODELS_SCRIPT = Path(__file__).parent / "pipelines" / "tiny_models.py"
TINY_MODEL_IDS: dict[str, dict[str, str]] = {
    "t2i-sd1.5": {"sd1.5": "sd15"},
    "t2i-flux-schnell": {"flux1-schnell": "flux"},
    "t2i-flux-dev-fp16": {"flux1-dev": "flux"},
    "t2v-wan2.1-1.3b": {"wan2.1-t2v-1.3b": "wan"},
    "t2v-wan2.1": {"wan2.1-t2v-14b": "wan"},
    "i2v-ltx": {"ltx-video": "ltx"},
    "t2v-ltx-13b": {"ltxv-13b": "ltx", "ltxv-spatial-upscaler": "ltx-upsampler"},
}
"""Each pipeline's model ids -> the tiny family standing in for them."""


@pytest.fixture(scope="session")
def diffusers_python() -> Path:
    """The diffusers pipelines' shared environment, made as a job would make it."""
    from studio.errors import StudioError
    from studio.pipelines import get_pipeline
    from studio.runner.environments import ensure_environment

    try:
        return ensure_environment(
            get_pipeline("t2i-sd1.5"), on_progress=lambda event: print(event.message)
        )
    except StudioError as exc:
        require_or_skip("MODELS", f"the diffusers pipelines' environment: {exc.message}")
        raise


@pytest.fixture(scope="session")
def tiny_models(diffusers_python: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    """A model store holding a tiny model under each id the pipelines name, added the way a
    user adds real weights (``studio models add ID PATH``)."""
    out = tmp_path_factory.mktemp("tiny-models")
    families = sorted({f for models in TINY_MODEL_IDS.values() for f in models.values()})
    subprocess.run(
        [str(diffusers_python), str(TINY_MODELS_SCRIPT), "--out", str(out), *families],
        check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=600,
    )
    # safetensors writes its files 0600: containers run as another user than this root.
    subprocess.run(["chmod", "-R", "a+rX", str(out)], check=True)
    from studio.models import ModelStore

    store = ModelStore(tmp_path_factory.mktemp("store"))
    for models in TINY_MODEL_IDS.values():
        for model_id, family in models.items():
            if not store.has(model_id):
                store.add(model_id, out / family)
    return store
