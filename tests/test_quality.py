from studio import Workspace
from studio.documents import dump_json
from studio.quality import DEFAULT_QUALITY_MAP, PipelineChoice, merge_quality_map, pipeline_for


def test_default_is_prd_table_4() -> None:
    table = {
        (task, quality): (cell.pipeline, cell.min_vram_gb)
        for task, cells in DEFAULT_QUALITY_MAP.items()
        for quality, cell in cells.items()
    }
    assert table == {
        ("generate-image", "low"): ("t2i-sd1.5:latest", 12),
        ("generate-image", "standard"): ("t2i-flux-schnell:latest", 16),
        ("generate-image", "high"): ("t2i-flux-dev-fp16:latest", 24),
        ("generate-video", "low"): ("t2v-wan2.1-1.3b:latest", 12),
        ("generate-video", "high"): ("t2v-ltx-13b:latest", 24),
    }


def test_override_replaces_single_cells() -> None:
    cheap = PipelineChoice(pipeline="t2i-tiny", min_vram_gb=4)
    merged = merge_quality_map(DEFAULT_QUALITY_MAP, {"generate-image": {"low": cheap}})
    assert pipeline_for(merged, task="generate-image", quality="low") == cheap
    assert (
        pipeline_for(merged, task="generate-image", quality="high")
        == (DEFAULT_QUALITY_MAP["generate-image"]["high"])
    )
    assert pipeline_for(merged, task="generate-video", quality="standard") is None
    assert DEFAULT_QUALITY_MAP["generate-image"]["low"].pipeline == "t2i-sd1.5:latest"


def test_workspace_override_is_read_from_workspace_json(workspace: Workspace) -> None:
    config = workspace.path / "workspace.json"
    config.write_bytes(
        dump_json(
            {
                "quality_map": {
                    "generate-video": {"standard": {"pipeline": "i2v-x", "min_vram_gb": 8}}
                }
            }
        )
    )
    reopened = Workspace(workspace.path)
    cell = pipeline_for(reopened.quality_map, task="generate-video", quality="standard")
    assert cell == PipelineChoice(pipeline="i2v-x", min_vram_gb=8)
