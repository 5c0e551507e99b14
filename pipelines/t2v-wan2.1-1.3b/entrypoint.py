"""t2v-wan2.1-1.3b: Wan2.1 text-to-video 1.3B through diffusers' WanPipeline, 16 fps.

Weights come from the model store (``wan2.1-t2v-1.3b``: Wan-AI/Wan2.1-T2V-1.3B-Diffusers),
never from the network."""

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

MODEL = "wan2.1-t2v-1.3b"
FPS = 16  # Wan2.1's native rate (its README and diffusers' Wan docs export at 16 fps)
# 8.19 GB peak with the model offloaded between stages (Wan2.1 README, RTX 4090, 480p);
# all on the GPU ~15 GB of weights (1.3B bf16 + UMT5-XXL 11.4 GB, estimated) + activations.
NEED = MemoryNeed(gpu=20, model_offload=9, sequential_offload=6)


def load(device: str) -> Any:
    import torch
    from diffusers import AutoencoderKLWan, WanPipeline

    # The VAE stays in float32, as the model card loads it: bf16 decodes show banding.
    vae = AutoencoderKLWan.from_pretrained(
        model_path(MODEL), subfolder="vae", torch_dtype=torch.float32, local_files_only=True
    )
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    return WanPipeline.from_pretrained(
        model_path(MODEL), vae=vae, torch_dtype=dtype, local_files_only=True
    )


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
    width: int = 832,
    duration_s: float = 5.0,
) -> dict[str, Path]:
    import torch

    loaded: Loaded = ctx.state
    pipe = loaded.place(torch, ctx, NEED, tiling=True)
    w, h = frame_size(aspect(aspect_ratio), width, multiple=16)
    frames = frame_count(duration_s, FPS, step=4)  # Wan makes 4k + 1 frames
    video = pipe(
        prompt=prompt,
        negative_prompt=negative_prompt or None,
        width=w,
        height=h,
        num_frames=frames,
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=generator(torch, seed),
        output_type="np",
        callback_on_step_end=step_progress(ctx, total=steps),
    ).frames[0]
    out = write_mp4(ctx, list(video), size=(w, h), fps=FPS)
    record(ctx, model=MODEL, scheduler=scheduler_name(pipe), steps=steps, guidance=guidance,
           seed=seed, size=[w, h], frames=frames, fps=FPS, strategy=loaded.strategy)  # fmt: skip
    return {"video": out}


if __name__ == "__main__":
    serve(predict, setup=setup)
