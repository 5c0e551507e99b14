"""t2i-sd1.5: Stable Diffusion 1.5 through diffusers' StableDiffusionPipeline.

Weights come from the model store (``sd1.5``: a diffusers folder such as
stable-diffusion-v1-5/stable-diffusion-v1-5), never from the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.sdk import Context, model_path, serve
from studio.sdk.diffusion import (
    Loaded,
    MemoryNeed,
    aspect,
    frame_size,
    generator,
    record,
    scheduler_name,
    step_progress,
)

MODEL = "sd1.5"
# fp16 at 512 px: 5.1-5.7 GB peak all on the GPU (diffusers issue #1934); under 3 GB with
# sequential offload (diffusers "Reduce memory usage"). Model offload: estimated (UNet 1.7 GB).
NEED = MemoryNeed(gpu=6, model_offload=4, sequential_offload=3)


def load(device: str) -> Any:
    import torch
    from diffusers import StableDiffusionPipeline

    dtype = torch.float16 if device == "cuda" else torch.float32
    return StableDiffusionPipeline.from_pretrained(
        model_path(MODEL), torch_dtype=dtype, local_files_only=True
    )


def setup() -> Loaded:
    return Loaded(load)


def predict(
    ctx: Context,
    *,
    prompt: str,
    negative_prompt: str = "",
    seed: int = 0,
    steps: int = 25,
    guidance: float = 7.5,
    aspect_ratio: str = "16:9",
    width: int = 512,
) -> dict[str, Path]:
    import torch

    loaded: Loaded = ctx.state
    pipe = loaded.place(torch, ctx, NEED)
    w, h = frame_size(aspect(aspect_ratio), width, multiple=8)
    image = pipe(
        prompt=prompt,
        negative_prompt=negative_prompt or None,
        width=w,
        height=h,
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=generator(torch, seed),
        callback_on_step_end=step_progress(ctx, total=steps),
    ).images[0]
    out = ctx.outputs_dir / "image.png"
    image.save(out, format="PNG")
    record(ctx, model=MODEL, scheduler=scheduler_name(pipe), steps=steps, guidance=guidance,
           seed=seed, size=[w, h], strategy=loaded.strategy)  # fmt: skip
    return {"image": out}


if __name__ == "__main__":
    serve(predict, setup=setup)
