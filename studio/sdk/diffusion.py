"""What the diffusers pipelines share: sizes from the aspect ratio, the memory strategy for
the GPU at hand, step progress with cooperative cancel, and MP4 encoding of frames.

Standard library only, like the rest of the SDK: torch and diffusers objects are used
through their methods (duck typing), so the studio's own environment never imports them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from studio.sdk.ffmpeg import encode_frames
from studio.sdk.runtime import Context, InputError

STRATEGIES: Final = ("gpu", "model-offload", "sequential-offload")
"""Memory strategies, heaviest first. ``gpu``: every component on the GPU; ``model-offload``:
one component on the GPU at a time (diffusers' ``enable_model_cpu_offload``);
``sequential-offload``: layer by layer (``enable_sequential_cpu_offload``), slowest, least
memory. VAE tiling is added from ``model-offload`` on, and for video always."""


def aspect(aspect_ratio: str) -> float:
    """Pure: width / height of ``W:H`` (``16:9``, ``2.39:1``)."""
    across, _, down = aspect_ratio.partition(":")
    try:
        ratio = float(across) / float(down)
    except (ValueError, ZeroDivisionError):
        ratio = 0.0
    if not ratio > 0:
        raise InputError(f"aspect_ratio: {aspect_ratio!r} is not W:H (like 16:9)")
    return ratio


def frame_size(ratio: float, long_side: int, *, multiple: int) -> tuple[int, int]:
    """Pure: (width, height) of a frame of aspect ``ratio`` (width / height), ``long_side``
    px on its longer side, both multiples of ``multiple`` (what the model's VAE and patching
    require, and even for H.264)."""

    def snap(value: float) -> int:
        return max(multiple, round(value / multiple) * multiple)

    if ratio >= 1:
        return snap(long_side), snap(long_side / ratio)
    return snap(long_side * ratio), snap(long_side)


def frame_count(duration_s: float, fps: int, *, step: int) -> int:
    """Pure: the model's nearest frame count to ``duration_s`` at ``fps`` of the form
    ``step * k + 1`` (Wan: 4k + 1, LTX-Video: 8k + 1), at least ``step + 1``."""
    return max(1, round(duration_s * fps / step)) * step + 1


@dataclass(frozen=True)
class MemoryNeed:
    """A model's GPU memory need (GB) with each strategy; None where it does not apply."""

    gpu: float
    model_offload: float | None = None
    sequential_offload: float | None = None

    def of(self, strategy: str) -> float | None:
        return {
            "gpu": self.gpu,
            "model-offload": self.model_offload,
            "sequential-offload": self.sequential_offload,
        }[strategy]


def choose_strategy(need: MemoryNeed, *, vram_gb: float, lighter: int = 0) -> str:
    """Pure: the heaviest (fastest) strategy whose need fits ``vram_gb``, then ``lighter``
    steps lighter still (a retry after an out-of-memory error). The lightest one applicable
    when nothing fits: the job then tries, and an OOM says so."""
    usable = [s for s in STRATEGIES if need.of(s) is not None]
    fitting = [s for s in usable if (need.of(s) or 0) <= vram_gb]
    start = usable.index(fitting[0]) if fitting else len(usable) - 1
    return usable[min(start + max(lighter, 0), len(usable) - 1)]


def device_and_strategy(torch: Any, ctx: Context, need: MemoryNeed) -> tuple[str, str]:
    """("cuda" or "cpu", the strategy) for this job: the worker's declared GPU memory
    (``spec["vram_gb"]``, else the device's own) decides, shifted by ``spec["lighter"]``."""
    if not torch.cuda.is_available():
        return "cpu", "cpu"
    declared = float(ctx.spec.get("vram_gb") or 0)
    vram_gb = declared or torch.cuda.get_device_properties(0).total_memory / 1024**3
    strategy = choose_strategy(need, vram_gb=vram_gb, lighter=int(ctx.spec.get("lighter", 0)))
    ctx.log(f"GPU memory {vram_gb:.1f} GB: using the {strategy} strategy")
    return "cuda", strategy


def apply_strategy(pipe: Any, *, device: str, strategy: str, tiling: bool = False) -> None:
    """Place ``pipe`` for ``strategy`` (see :data:`STRATEGIES`); ``tiling``: decode with VAE
    tiles at every strategy (video, large images)."""
    if strategy in ("gpu", "cpu"):
        pipe.to(device)
    elif strategy == "model-offload":
        pipe.enable_model_cpu_offload()
    else:
        pipe.enable_sequential_cpu_offload()
    vae: Any = getattr(pipe, "vae", None)
    if (tiling or strategy not in ("gpu", "cpu")) and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()


def step_progress(
    ctx: Context, *, total: int, message: str = "denoising"
) -> Callable[..., dict[str, Any]]:
    """A ``callback_on_step_end`` for diffusers: each finished step is a progress event, and
    a cancel stops the job between steps (``ctx.progress`` raises ``Canceled``)."""

    def on_step_end(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        ctx.progress(min(step + 1, total), total, message)
        return kwargs

    return on_step_end


def generator(torch: Any, seed: int) -> Any:
    """The job's random numbers: a CPU generator, so a seed gives the same noise on every
    machine (diffusers' advice for reproducible results)."""
    return torch.Generator("cpu").manual_seed(seed)


def to_rgb_bytes(frame: Any) -> bytes:
    """One frame (a PIL image, or an HxWx3 float array in [0, 1]) as RGB24 bytes."""
    if hasattr(frame, "tobytes") and hasattr(frame, "mode"):  # PIL
        rgb: bytes = frame.convert("RGB").tobytes()
        return rgb
    clipped = (frame.clip(0, 1) * 255).round().astype("uint8")
    data: bytes = clipped.tobytes()
    return data


def write_mp4(
    ctx: Context, frames: Sequence[Any], *, size: tuple[int, int], fps: int, name: str = "clip.mp4"
) -> Path:
    """Encode ``frames`` as H.264 MP4 at the model's native ``fps``."""
    out = ctx.outputs_dir / name

    def raw() -> Iterator[bytes]:
        for frame in frames:
            yield to_rgb_bytes(frame)

    encode_frames(ctx, raw(), output=out, size=size, fps=fps, total=len(frames), message="encoding")
    return out


def scheduler_name(pipe: Any) -> str:
    return type(pipe.scheduler).__name__


def record(ctx: Context, **fields: Any) -> None:
    """How the take was made (model, scheduler, steps, guidance, seed, strategy), for its
    provenance: written beside the outputs as ``generation.json``."""
    path = ctx.outputs_dir / "generation.json"
    path.write_text(json.dumps(fields, indent=2, sort_keys=True, default=str), encoding="utf-8")
    ctx.log(f"generation: {json.dumps(fields, sort_keys=True, default=str)}")


class Loaded:
    """A diffusers pipeline, loaded once per (warm) worker by ``load(device)`` and placed
    for each job's strategy. A job asking for another placement (a lighter strategy after
    an out-of-memory error) gets the pipeline loaded again: offload hooks cannot be undone.
    The lighter strategy a retry needed is kept for the worker's later jobs: going back to
    the heavier one would load the model twice more and run out of memory again."""

    def __init__(self, load: Callable[[str], Any]) -> None:
        self._load = load
        self._pipe: Any = None
        self._placed: tuple[str, str] | None = None
        self._floor: str | None = None
        """The lightest strategy a retry after an out-of-memory error asked for."""

    def place(self, torch: Any, ctx: Context, need: MemoryNeed, *, tiling: bool = False) -> Any:
        device, strategy = device_and_strategy(torch, ctx, need)
        if device == "cuda":
            strategy = self._kept_light(ctx, strategy)
        if self._pipe is not None and self._placed == (device, strategy):
            return self._pipe
        if self._pipe is not None:
            self._pipe = None
            from studio.sdk.runtime import free_gpu_memory

            free_gpu_memory()
        ctx.progress(0, None, f"loading the model ({strategy})")
        pipe = self._load(device)
        apply_strategy(pipe, device=device, strategy=strategy, tiling=tiling)
        self._pipe, self._placed = pipe, (device, strategy)
        return pipe

    def _kept_light(self, ctx: Context, strategy: str) -> str:
        if int(ctx.spec.get("lighter", 0)) > 0:
            self._floor = strategy
        elif self._floor is not None and STRATEGIES.index(strategy) < STRATEGIES.index(self._floor):
            ctx.log(
                f"keeping the {self._floor} strategy: {strategy} ran out of GPU memory on "
                "this worker before"
            )
            return self._floor
        return strategy

    @property
    def strategy(self) -> str:
        return self._placed[1] if self._placed else ""
