"""The diffusers pipelines' shared helpers that need no torch: sizes, frame counts and the
memory strategy chosen for a GPU."""

from __future__ import annotations

import pytest

from studio.sdk import InputError
from studio.sdk.diffusion import MemoryNeed, aspect, choose_strategy, frame_count, frame_size


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
