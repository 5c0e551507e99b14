"""t2i-draft: a storyboard frame, deterministic in (prompt, seed, size).

The composition (palette, horizon, sun/moon, ridges, figures, camera framing) is derived from
a hash of the prompt and the seed; the shot label, the prompt and a DRAFT tag are drawn in.
"""

from __future__ import annotations

import hashlib
import random
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from studio.sdk import Context, serve

PALETTES = [
    ((18, 24, 54), (233, 120, 80), (40, 30, 50)),  # dusk
    ((120, 170, 220), (230, 235, 240), (70, 90, 60)),  # day
    ((10, 12, 25), (60, 70, 120), (20, 20, 30)),  # night
    ((60, 60, 70), (170, 170, 175), (50, 55, 60)),  # overcast
    ((200, 120, 60), (250, 210, 140), (110, 70, 40)),  # desert
]


def frame_size(aspect_ratio: str, width: int) -> tuple[int, int]:
    """``width`` and the height of ``aspect_ratio`` (``W:H``, e.g. ``21:9`` or ``2.39:1``)."""
    across, _, down = aspect_ratio.partition(":")
    try:
        ratio = float(across) / float(down)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"aspect_ratio {aspect_ratio!r} is not W:H (like 16:9)") from None
    if not ratio > 0:
        raise ValueError(f"aspect_ratio {aspect_ratio!r} is not W:H (like 16:9)")
    return width, max(2, round(width / ratio))


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled font (needs FreeType)
    except (TypeError, OSError):
        return ImageFont.load_default()


def mix(a: tuple[int, ...], b: tuple[int, ...], t: float) -> tuple[int, int, int]:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def predict(
    ctx: Context,
    *,
    prompt: str,
    seed: int = 0,
    shot_label: str = "SHOT 010",
    aspect_ratio: str = "16:9",
    width: int = 1024,
) -> dict[str, Path]:
    w, h = frame_size(aspect_ratio, width)
    digest = hashlib.sha256(f"{seed}\x00{prompt}".encode()).digest()
    rng = random.Random(digest)  # noqa: S311 - a picture, not a secret
    sky, glow, ground = rng.choice(PALETTES)
    image = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(image)
    horizon = round(h * rng.uniform(0.45, 0.7))

    ctx.progress(1, 5, "sky")
    for y in range(horizon):
        draw.line([(0, y), (w, y)], fill=mix(sky, glow, (y / max(1, horizon)) ** 1.6))
    for y in range(horizon, h):
        draw.line([(0, y), (w, y)], fill=mix(ground, sky, 0.25 * (h - y) / max(1, h - horizon)))

    ctx.progress(2, 5, "light and ridges")
    r = round(min(w, h) * rng.uniform(0.05, 0.12))
    cx, cy = round(w * rng.uniform(0.15, 0.85)), round(horizon * rng.uniform(0.3, 0.85))
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=mix(glow, (255, 255, 240), 0.6))
    for layer in range(3):
        points = [(0, horizon)]
        for x in range(0, w + 1, max(8, w // 12)):
            points.append((x, horizon - round(h * rng.uniform(0.02, 0.18) * (1 - layer * 0.25))))
        points += [(w, horizon), (w, h), (0, h)]
        draw.polygon(points, fill=mix(ground, sky, 0.5 - layer * 0.2))

    ctx.progress(3, 5, "figures")
    for _ in range(rng.randint(1, 4)):
        fh = round(h * rng.uniform(0.12, 0.3))
        fx, fy = (
            round(w * rng.uniform(0.1, 0.9)),
            horizon + round((h - horizon) * rng.uniform(0.1, 0.6)),
        )
        fw = max(2, fh // 4)
        shade = mix(ground, (0, 0, 0), 0.7)
        draw.ellipse([fx - fw // 2, fy - fh, fx + fw // 2, fy - fh + fw], fill=shade)
        draw.rectangle([fx - fw // 2, fy - fh + fw, fx + fw // 2, fy], fill=shade)

    ctx.progress(4, 5, "framing and text")
    line = max(1, min(w, h) // 300)
    third_color = (255, 255, 255)
    for i in (1, 2):  # rule-of-thirds guides, as on a storyboard sheet
        draw.line([(w * i // 3, 0), (w * i // 3, h)], fill=third_color, width=1)
        draw.line([(0, h * i // 3), (w, h * i // 3)], fill=third_color, width=1)
    draw.rectangle([0, 0, w - 1, h - 1], outline=(255, 255, 255), width=line * 2)
    size = max(10, min(w, h) // 18)
    big, small = font(size), font(max(8, size * 2 // 3))
    draw.rectangle([0, 0, w, size * 2], fill=(0, 0, 0))
    draw.text((size // 2, size // 3), shot_label, fill=(255, 255, 255), font=big)
    tag = "DRAFT"
    tag_w = draw.textlength(tag, font=big)
    draw.text((w - tag_w - size // 2, size // 3), tag, fill=(255, 200, 0), font=big)
    chars = max(10, int(w / (size * 0.42)))
    lines = textwrap.wrap(prompt, width=chars)[:3]
    band = round(len(lines) * size * 0.9 + size * 0.6)
    draw.rectangle([0, h - band, w, h], fill=(0, 0, 0))
    for i, text in enumerate(lines):
        draw.text(
            (size // 2, h - band + size // 3 + i * round(size * 0.9)),
            text,
            fill=(235, 235, 235),
            font=small,
        )

    ctx.progress(5, 5, "saving")
    out = ctx.outputs_dir / "frame.png"
    image.save(out, format="PNG")
    return {"image": out}


if __name__ == "__main__":
    serve(predict)
