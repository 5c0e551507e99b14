"""t2v-ltx-13b: LTX-Video 13B text-to-video with its spatial latent upsampler, 24 fps.

The model card's multi-scale recipe (diffusers' LTX-Video docs): generate latents at 2/3 of
the size (LTXConditionPipeline), upsample them 2x (LTXLatentUpsamplePipeline), refine them
at full size with a few denoising steps, decode, and resize to the size asked for. Weights
come from the model store (``ltxv-13b``: Lightricks/LTX-Video-0.9.8-13B-dev in diffusers
layout; ``ltxv-spatial-upscaler``: its spatial upscaler), never from the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.sdk import Context, model_path, serve
from studio.sdk.diffusion import (
    Loaded,
    MemoryNeed,
    aspect,
    frame_count,
    frame_size,
    generator,
    record,
    scheduler_name,
    step_progress,
    write_mp4,
)

MODEL, UPSAMPLER = "ltxv-13b", "ltxv-spatial-upscaler"
FPS = 24
MULTIPLE = 32  # LTX-Video's frame sizes are multiples of 32
# No published figure: 13B bf16 transformer ~26 GB (its 28.6 GB safetensors file) + T5-XXL
# 9.5 GB (estimated); model CPU offload still holds the transformer, so 24 GB cards need
# sequential offload (estimated ~12 GB with VAE tiling, which the model card always uses).
NEED = MemoryNeed(gpu=40, model_offload=30, sequential_offload=12)
REFINE_STEPS, REFINE_STRENGTH = 10, 0.4  # the card's dev recipe: ~4 effective steps
DECODE_TIMESTEP, DECODE_NOISE_SCALE = 0.05, 0.025


class Pipelines:
    """The condition pipeline and the upsampler sharing its VAE."""

    def __init__(self, condition: Any, upsample: Any) -> None:
        self.condition, self.upsample = condition, upsample
        self.scheduler = condition.scheduler
        self.vae = condition.vae

    def to(self, device: str) -> None:
        self.condition.to(device)
        self.upsample.to(device)

    # The upsampler shares the condition pipeline's offloaded VAE: moving its pipeline would
    # move (or, after sequential offload, refuse to move) that VAE; only its own model moves.
    def enable_model_cpu_offload(self) -> None:
        self.condition.enable_model_cpu_offload()
        self.upsample.latent_upsampler.to("cuda")  # ~0.5 GB: kept on the GPU

    def enable_sequential_cpu_offload(self) -> None:
        self.condition.enable_sequential_cpu_offload()
        self.upsample.latent_upsampler.to("cuda")


def load(device: str) -> Pipelines:
    import torch
    from diffusers import LTXConditionPipeline, LTXLatentUpsamplePipeline

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    condition = LTXConditionPipeline.from_pretrained(
        model_path(MODEL), torch_dtype=dtype, local_files_only=True
    )
    upsample = LTXLatentUpsamplePipeline.from_pretrained(
        model_path(UPSAMPLER), vae=condition.vae, torch_dtype=dtype, local_files_only=True
    )
    return Pipelines(condition, upsample)


def setup() -> Loaded:
    return Loaded(load)


def predict(
    ctx: Context,
    *,
    prompt: str,
    negative_prompt: str = "",
    seed: int = 0,
    steps: int = 30,
    guidance: float = 5.0,
    aspect_ratio: str = "16:9",
    width: int = 1216,
    duration_s: float = 5.0,
) -> dict[str, Path]:
    import torch
    from PIL import Image

    loaded: Loaded = ctx.state
    pipes: Pipelines = loaded.place(torch, ctx, NEED, tiling=True)
    w, h = frame_size(aspect(aspect_ratio), width, multiple=MULTIPLE)
    low_w, low_h = frame_size(w / h, round(max(w, h) * 2 / 3), multiple=MULTIPLE)
    frames = frame_count(duration_s, FPS, step=8)
    total = steps + REFINE_STEPS
    common = {
        "prompt": prompt,
        "negative_prompt": negative_prompt or None,
        "num_frames": frames,
        "frame_rate": FPS,
        "guidance_scale": guidance,
        "generator": generator(torch, seed),
    }
    latents = pipes.condition(
        **common, width=low_w, height=low_h, num_inference_steps=steps, output_type="latent",
        callback_on_step_end=step_progress(ctx, total=total, message="denoising"),
    ).frames  # fmt: skip
    ctx.progress(steps, total, "upsampling the latents 2x")
    upscaled = pipes.upsample(latents=latents, output_type="latent").frames
    refined = pipes.condition(
        **common, width=low_w * 2, height=low_h * 2, latents=upscaled,
        num_inference_steps=REFINE_STEPS, denoise_strength=REFINE_STRENGTH,
        decode_timestep=DECODE_TIMESTEP, decode_noise_scale=DECODE_NOISE_SCALE,
        image_cond_noise_scale=0.0, output_type="pil",
        callback_on_step_end=_offset(step_progress(ctx, total=total, message="refining"), steps),
    ).frames[0]  # fmt: skip
    video = [frame.resize((w, h), Image.Resampling.LANCZOS) for frame in refined]
    out = write_mp4(ctx, video, size=(w, h), fps=FPS)
    record(ctx, model=MODEL, upsampler=UPSAMPLER, scheduler=scheduler_name(pipes),
           steps=steps, refine_steps=REFINE_STEPS, guidance=guidance, seed=seed, size=[w, h],
           frames=frames, fps=FPS, strategy=loaded.strategy)  # fmt: skip
    return {"video": out}


def _offset(callback: Any, by: int) -> Any:
    """The refine pass's steps counted after the first pass's."""

    def on_step_end(pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> Any:
        return callback(pipe, step + by, timestep, kwargs)

    return on_step_end


if __name__ == "__main__":
    serve(predict, setup=setup)
