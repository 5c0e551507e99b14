"""t2i-flux-dev-fp16: the full, unquantised FLUX.1 [dev] through diffusers' FluxPipeline, 2K.

Weights come from the model store (``flux1-dev``: black-forest-labs/FLUX.1-dev in
diffusers layout), never from the network."""

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

MODEL = "flux1-dev"
# bf16, measured by diffusers' maintainers (PR #11682): 33.85 GB all on the GPU, 22.64 GB
# with model CPU offload, 2.41 GB with sequential offload. At 2K the activations and the VAE
# decode add to these (estimated; VAE tiling is always on here).
NEED = MemoryNeed(gpu=36, model_offload=24, sequential_offload=4)
MAX_SEQUENCE_LENGTH = 512  # dev's T5 prompt length


def load(device: str) -> Any:
    import torch
    from diffusers import FluxPipeline

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    return FluxPipeline.from_pretrained(model_path(MODEL), torch_dtype=dtype, local_files_only=True)


def setup() -> Loaded:
    return Loaded(load)


def predict(
    ctx: Context,
    *,
    prompt: str,
    seed: int = 0,
    steps: int = 28,
    guidance: float = 3.5,
    aspect_ratio: str = "16:9",
    width: int = 2048,
) -> dict[str, Path]:
    import torch

    loaded: Loaded = ctx.state
    pipe = loaded.place(torch, ctx, NEED, tiling=True)  # a 2K decode
    w, h = frame_size(aspect(aspect_ratio), width, multiple=16)
    image = pipe(
        prompt=prompt,
        width=w,
        height=h,
        num_inference_steps=steps,
        guidance_scale=guidance,
        max_sequence_length=MAX_SEQUENCE_LENGTH,
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
