"""i2v-ltx: LTX-Video image-to-video through diffusers' LTXImageToVideoPipeline, 24 fps.

The video follows the image's aspect ratio. Weights come from the model store
(``ltx-video``: Lightricks/LTX-Video in diffusers layout), never from the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.sdk import Context, InputError, model_path, serve
from studio.sdk.diffusion import (
    Loaded,
    MemoryNeed,
    frame_count,
    frame_size,
    generator,
    record,
    scheduler_name,
    step_progress,
    write_mp4,
)

MODEL = "ltx-video"
FPS = 24  # what diffusers' LTX-Video examples export at
# ~10 GB with fp8 layerwise casting + group offload at 768x512, 161 frames (diffusers' LTX
# docs); all on the GPU ~14 GB of weights (2B transformer 3.9 GB + T5-XXL 9.5 GB, estimated).
NEED = MemoryNeed(gpu=18, model_offload=12, sequential_offload=8)
DECODE_TIMESTEP, DECODE_NOISE_SCALE = 0.05, 0.025  # for the timestep-aware VAE (0.9.1 on)


def load(device: str) -> Any:
    import torch
    from diffusers import LTXImageToVideoPipeline

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    return LTXImageToVideoPipeline.from_pretrained(
        model_path(MODEL), torch_dtype=dtype, local_files_only=True
    )


def setup() -> Loaded:
    return Loaded(load)


def predict(
    ctx: Context,
    *,
    image: Path,
    prompt: str,
    negative_prompt: str = "",
    seed: int = 0,
    steps: int = 40,
    guidance: float = 3.0,
    width: int = 768,
    duration_s: float = 5.0,
) -> dict[str, Path]:
    import torch
    from PIL import Image

    try:
        source = Image.open(image).convert("RGB")
    except OSError as exc:
        raise InputError(f"image: not a readable image ({exc})") from None
    loaded: Loaded = ctx.state
    pipe = loaded.place(torch, ctx, NEED, tiling=True)
    w, h = frame_size(source.width / source.height, width, multiple=32)
    frames = frame_count(duration_s, FPS, step=8)  # LTX-Video makes 8k + 1 frames
    video = pipe(
        image=source.resize((w, h), Image.Resampling.LANCZOS),
        prompt=prompt,
        negative_prompt=negative_prompt or None,
        width=w,
        height=h,
        num_frames=frames,
        frame_rate=FPS,
        num_inference_steps=steps,
        guidance_scale=guidance,
        decode_timestep=DECODE_TIMESTEP,
        decode_noise_scale=DECODE_NOISE_SCALE,
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
