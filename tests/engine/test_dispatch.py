"""The dispatcher's policy cases (pure, no cluster)."""

from __future__ import annotations

import pytest

from studio.engine.dispatch import (
    NoPipeline,
    NoWorkerFits,
    Option,
    dispatch,
    ladder_from_map,
)
from studio.quality import (
    DEFAULT_QUALITY_MAP,
    PipelineChoice,
    Quality,
    QualityMap,
    merge_quality_map,
)

IMAGE = ladder_from_map(DEFAULT_QUALITY_MAP, task="generate-image")
VIDEO = ladder_from_map(DEFAULT_QUALITY_MAP, task="generate-video")


def test_ladder_is_table_4_with_min_vram():
    assert {q: (o.pipeline, o.vram_gb) for q, o in IMAGE.items()} == {
        "low": ("t2i-sd1.5:latest", 12),
        "standard": ("t2i-flux-schnell:latest", 16),
        "high": ("t2i-flux-dev-fp16:latest", 24),
    }


def test_ladder_takes_the_larger_of_map_and_manifest_need():
    ladder = ladder_from_map(
        DEFAULT_QUALITY_MAP,
        task="generate-image",
        vram_of={"t2i-flux-schnell:latest": {"standard": 20}},
    )
    assert ladder["standard"].vram_gb == 20
    assert ladder["low"].vram_gb == 12


def test_workspace_override_changes_the_choice():
    override: QualityMap = {
        "generate-image": {"high": PipelineChoice(pipeline="my-hq", min_vram_gb=16)}
    }
    ladder = ladder_from_map(
        merge_quality_map(DEFAULT_QUALITY_MAP, override), task="generate-image"
    )
    chosen = dispatch(
        task="generate-image", quality="high", ladder=ladder, worker_vram=[16], policy="queue"
    )
    assert (chosen.pipeline, chosen.quality, chosen.notification) == ("my-hq", "high", None)


@pytest.mark.parametrize("policy", ["queue", "fallback"])
def test_fits_runs_as_asked(policy):
    chosen = dispatch(
        task="generate-image", quality="high", ladder=IMAGE, worker_vram=[16, 24], policy=policy
    )
    assert (chosen.pipeline, chosen.quality, chosen.vram_gb) == (
        "t2i-flux-dev-fp16:latest",
        "high",
        24,
    )
    assert chosen.notification is None and not chosen.waits


def test_fallback_picks_best_lower_quality_that_fits_and_says_so():
    chosen = dispatch(
        task="generate-image", quality="high", ladder=IMAGE, worker_vram=[16], policy="fallback"
    )
    assert (chosen.pipeline, chosen.quality) == ("t2i-flux-schnell:latest", "standard")
    assert chosen.notification is not None
    assert chosen.notification.startswith(
        "High quality needs 24 GB; no such worker — fell back to standard"
    )


def test_fallback_skips_more_than_one_rung():
    chosen = dispatch(
        task="generate-image", quality="high", ladder=IMAGE, worker_vram=[12], policy="fallback"
    )
    assert chosen.quality == "low" and chosen.pipeline == "t2i-sd1.5:latest"


def test_fallback_with_nothing_fitting_and_no_autoscaler_fails_at_once():
    with pytest.raises(NoWorkerFits, match="largest worker has 8 GB"):
        dispatch(
            task="generate-image", quality="high", ladder=IMAGE, worker_vram=[8], policy="fallback"
        )


def test_queue_without_autoscaler_fails_at_once_with_a_clear_error():
    with pytest.raises(NoWorkerFits) as caught:
        dispatch(
            task="generate-image", quality="high", ladder=IMAGE, worker_vram=[16], policy="queue"
        )
    assert "High quality needs 24 GB" in caught.value.message
    assert "no autoscaler" in caught.value.message
    assert "--vram 24" in (caught.value.hint or "")


def test_queue_with_autoscaler_waits():
    chosen = dispatch(
        task="generate-image",
        quality="high",
        ladder=IMAGE,
        worker_vram=[16],
        policy="queue",
        autoscaler=True,
    )
    assert chosen.waits and chosen.vram_gb == 24 and chosen.pipeline == "t2i-flux-dev-fp16:latest"


def test_fallback_with_autoscaler_and_nothing_fitting_waits_for_the_asked_quality():
    chosen = dispatch(
        task="generate-image",
        quality="low",
        ladder=IMAGE,
        worker_vram=[8],
        policy="fallback",
        autoscaler=True,
    )
    assert chosen.waits and chosen.quality == "low"


@pytest.mark.parametrize("policy", ["queue", "fallback"])
@pytest.mark.parametrize(
    ("task", "ladder", "draft"),
    [("generate-image", IMAGE, "t2i-draft"), ("generate-video", VIDEO, "i2v-draft")],
)
def test_no_gpu_anywhere_falls_back_to_the_draft(policy, task, ladder, draft):
    chosen = dispatch(task=task, quality="high", ladder=ladder, worker_vram=[0, 0], policy=policy)
    assert (chosen.pipeline, chosen.vram_gb) == (draft, 0)
    assert chosen.notification is not None and draft in chosen.notification
    assert "no GPU worker" in chosen.notification


def test_no_gpu_with_queue_and_autoscaler_waits_for_a_gpu():
    chosen = dispatch(
        task="generate-image",
        quality="low",
        ladder=IMAGE,
        worker_vram=[0],
        policy="queue",
        autoscaler=True,
    )
    assert chosen.waits and chosen.pipeline == "t2i-sd1.5:latest"


def test_no_gpu_and_no_draft_for_the_task_fails():
    ladder: dict[Quality, Option] = {"low": Option("upscaler-gpu", 8)}
    with pytest.raises(NoWorkerFits, match="no worker has a GPU"):
        dispatch(task="upscale", quality="low", ladder=ladder, worker_vram=[0], policy="fallback")


def test_cpu_pipeline_runs_on_cpu_only_workers():
    ladder: dict[Quality, Option] = {"low": Option("t2i-draft", 0), "high": Option("t2i-draft", 0)}
    chosen = dispatch(
        task="generate-image", quality="high", ladder=ladder, worker_vram=[0], policy="queue"
    )
    assert (chosen.pipeline, chosen.quality, chosen.notification) == ("t2i-draft", "high", None)


def test_missing_quality_cell_uses_the_nearest_lower_one():
    # Table 4 has no "standard" video cell.
    chosen = dispatch(
        task="generate-video", quality="standard", ladder=VIDEO, worker_vram=[24], policy="queue"
    )
    assert (chosen.pipeline, chosen.quality) == ("t2v-wan2.1-1.3b:latest", "low")


def test_only_higher_cells_uses_the_lowest_defined():
    ladder: dict[Quality, Option] = {"high": Option("big", 0)}
    chosen = dispatch(task="x", quality="low", ladder=ladder, worker_vram=[0], policy="queue")
    assert (chosen.pipeline, chosen.quality) == ("big", "high")


def test_no_pipeline_for_the_task():
    with pytest.raises(NoPipeline, match="generate-audio"):
        dispatch(task="generate-audio", quality="low", ladder={}, worker_vram=[24], policy="queue")


def test_no_workers_and_no_autoscaler():
    with pytest.raises(NoWorkerFits, match="no workers"):
        dispatch(task="generate-image", quality="low", ladder=IMAGE, worker_vram=[], policy="queue")
