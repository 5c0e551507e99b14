"""t2i-flux-schnell: FLUX.1 [schnell] through diffusers' FluxPipeline, 4 steps.

Weights come from the model store (``flux1-schnell``: black-forest-labs/FLUX.1-schnell in
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

MODEL = "flux1-schnell"
# bf16: ~33 GB all on the GPU, ~24 GB with model CPU offload (12B transformer + 4.7B T5;
# huggingface.co/black-forest-labs/FLUX.1-schnell/discussions/5); 2.4 GB with sequential
# offload (FLUX.1-dev, same architecture: diffusers PR #11682).
NEED = MemoryNeed(gpu=33, model_offload=24, sequential_offload=3)
MAX_SEQUENCE_LENGTH = 256  # schnell's T5 prompt length


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
    steps: int = 4,
    guidance: float = 0.0,
    aspect_ratio: str = "16:9",
    width: int = 1024,
) -> dict[str, Path]:
    import torch

    loaded: Loaded = ctx.state
    pipe = loaded.place(torch, ctx, NEED)
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
