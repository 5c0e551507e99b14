"""The diffusers pipelines' shared helpers that need no torch: sizes, frame counts, the
memory strategy chosen for a GPU and the placement it gets."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from studio.sdk import Context, InputError
from studio.sdk.diffusion import (
    Loaded,
    MemoryNeed,
    aspect,
    choose_strategy,
    frame_count,
    frame_size,
)


def test_the_frame_size_follows_the_aspect_ratio_in_multiples_the_model_needs() -> None:
    assert frame_size(aspect("16:9"), 832, multiple=16) == (832, 464)
    assert frame_size(aspect("1:1"), 512, multiple=8) == (512, 512)
    assert frame_size(aspect("9:16"), 1024, multiple=16) == (576, 1024)
    assert frame_size(aspect("2.39:1"), 1216, multiple=32) == (1216, 512)
    assert frame_size(aspect("21:9"), 64, multiple=32) == (64, 32)  # never below a multiple
    with pytest.raises(InputError, match="is not W:H"):
        aspect("wide")


def test_frame_counts_are_the_models_own_form() -> None:
    assert frame_count(5.0, 16, step=4) == 81  # Wan2.1's 5 s at 16 fps
    assert frame_count(5.0, 24, step=8) == 121  # LTX-Video's
    assert frame_count(0.01, 24, step=8) == 9  # at least one step


FLUX = MemoryNeed(gpu=33, model_offload=24, sequential_offload=3)


def test_the_strategy_is_the_fastest_that_fits_and_a_retry_goes_lighter() -> None:
    assert choose_strategy(FLUX, vram_gb=48) == "gpu"
    assert choose_strategy(FLUX, vram_gb=24) == "model-offload"
    assert choose_strategy(FLUX, vram_gb=16) == "sequential-offload"
    assert choose_strategy(FLUX, vram_gb=2) == "sequential-offload"  # tries; an OOM says so
    assert choose_strategy(FLUX, vram_gb=48, lighter=1) == "model-offload"
    assert choose_strategy(FLUX, vram_gb=16, lighter=1) == "sequential-offload"
    only_gpu = MemoryNeed(gpu=8)
    assert choose_strategy(only_gpu, vram_gb=4, lighter=1) == "gpu"


# The placement on a GPU, with a stand-in for torch and for a diffusers pipeline: this
# machine has no GPU, and the real offload hooks need one. What is checked is the studio's
# part — which of diffusers' placement calls a job's memory gets, and when it loads again.
class FakeCuda:
    def __init__(self, total_gb: float) -> None:
        self.total_gb = total_gb
        self.emptied = 0

    def is_available(self) -> bool:
        return True

    def get_device_properties(self, index: int) -> SimpleNamespace:
        return SimpleNamespace(total_memory=self.total_gb * 1024**3)

    def empty_cache(self) -> None:
        self.emptied += 1


class FakeVae:
    def __init__(self) -> None:
        self.tiled = False

    def enable_tiling(self) -> None:
        self.tiled = True


class FakePipe:
    def __init__(self, device: str) -> None:
        self.loaded_for = device
        self.calls: list[str] = []
        self.vae = FakeVae()

    def to(self, device: str) -> FakePipe:
        self.calls.append(f"to:{device}")
        return self

    def enable_model_cpu_offload(self) -> None:
        self.calls.append("model-offload")

    def enable_sequential_cpu_offload(self) -> None:
        self.calls.append("sequential-offload")


class Emitted:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def job(tmp_path: Path, emitted: Emitted, *, vram_gb: float = 0, lighter: int = 0) -> Context:
    return Context(
        job_id="j", job_dir=tmp_path, outputs_dir=tmp_path,
        spec={"vram_gb": vram_gb, "lighter": lighter}, state=None,
        emitter=emitted, tag_events=False,  # type: ignore[arg-type]
    )  # fmt: skip


def test_each_strategy_gets_diffusers_own_placement_call(tmp_path: Path) -> None:
    torch = SimpleNamespace(cuda=FakeCuda(total_gb=80))
    for vram_gb, calls, tiled in (
        (48, ["to:cuda"], False),
        (24, ["model-offload"], True),
        (16, ["sequential-offload"], True),
    ):
        loaded = Loaded(FakePipe)
        pipe = loaded.place(torch, job(tmp_path, Emitted(), vram_gb=vram_gb), FLUX)
        assert (pipe.loaded_for, pipe.calls, pipe.vae.tiled) == ("cuda", calls, tiled)
    # Undeclared: the device's own memory decides.
    loaded = Loaded(FakePipe)
    assert loaded.place(torch, job(tmp_path, Emitted()), FLUX).calls == ["to:cuda"]
    # Video asks for tiles even all on the GPU.
    loaded = Loaded(FakePipe)
    assert loaded.place(torch, job(tmp_path, Emitted(), vram_gb=48), FLUX, tiling=True).vae.tiled


def test_without_a_gpu_everything_runs_on_the_cpu(tmp_path: Path) -> None:
    torch = SimpleNamespace(cuda=SimpleNamespace(is_available=lambda: False))
    pipe = Loaded(FakePipe).place(torch, job(tmp_path, Emitted(), vram_gb=48), FLUX)
    assert (pipe.loaded_for, pipe.calls, pipe.vae.tiled) == ("cpu", ["to:cpu"], False)


def test_a_warm_worker_loads_once_and_keeps_the_lighter_strategy_a_retry_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cuda = FakeCuda(total_gb=48)
    torch = SimpleNamespace(cuda=cuda)
    monkeypatch.setitem(sys.modules, "torch", torch)  # free_gpu_memory finds it there
    loads: list[FakePipe] = []

    def load(device: str) -> FakePipe:
        loads.append(FakePipe(device))
        return loads[-1]

    loaded = Loaded(load)

    first = loaded.place(torch, job(tmp_path, Emitted(), vram_gb=48), FLUX)
    assert loaded.place(torch, job(tmp_path, Emitted(), vram_gb=48), FLUX) is first
    assert (len(loads), loaded.strategy) == (1, "gpu")

    # The engine's retry after an OOM: loaded again (hooks cannot be undone), GPU memory freed.
    retried = loaded.place(torch, job(tmp_path, Emitted(), vram_gb=48, lighter=1), FLUX)
    assert (retried.calls, len(loads), cuda.emptied) == (["model-offload"], 2, 1)

    # The next job asks for the heavy strategy again: the worker keeps the light one, says so.
    emitted = Emitted()
    assert loaded.place(torch, job(tmp_path, emitted, vram_gb=48), FLUX) is retried
    assert (len(loads), loaded.strategy) == (2, "model-offload")
    assert any("keeping the model-offload strategy" in e.get("message", "") for e in emitted.events)
