"""The lab extension's TypeScript constants agree with the Python side they mirror (quality
tiers, aspect ratios the manifest accepts, the REST prefix, the extension's name)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import TypeAdapter
from studio_jupyter import LAB_EXTENSION_NAME
from studio_jupyter.state import API_PREFIX

from studio.project.manifest import AspectRatio
from studio.quality import QUALITIES

LAB = Path(__file__).resolve().parents[2] / "jupyter_extension"
API_TS = (LAB / "src/api.ts").read_text()


def ts_string_array(name: str) -> list[str]:
    match = re.search(rf"export const {name} = \[([^\]]*)\] as const;", API_TS)
    assert match, f"{name} not found in src/api.ts"
    return re.findall(r"'([^']*)'", match[1])


def ts_string(name: str) -> str:
    match = re.search(rf"export const {name}(?:: \w+)? = '([^']*)';", API_TS)
    assert match, f"{name} not found in src/api.ts"
    return match[1]


def test_qualities_are_the_quality_map_tiers() -> None:
    assert tuple(ts_string_array("QUALITIES")) == QUALITIES
    assert ts_string("DEFAULT_QUALITY") == "standard"


def test_aspect_ratios_are_accepted_by_the_manifest() -> None:
    ratios = ts_string_array("ASPECT_RATIOS")
    assert ts_string("DEFAULT_ASPECT_RATIO") == ratios[0] == "16:9"
    for ratio in ratios:
        TypeAdapter(AspectRatio).validate_python(ratio)


def test_rest_prefix_and_extension_name() -> None:
    assert ts_string("API_PATH") == API_PREFIX
    package = json.loads((LAB / "package.json").read_text())
    assert package["name"] == LAB_EXTENSION_NAME
    assert package["jupyterlab"]["outputDir"] == "studio_jupyter/labextension"
    config = json.loads((LAB / "jupyter-config/server-config/studio_jupyter.json").read_text())
    assert config == {"ServerApp": {"jpserver_extensions": {"studio_jupyter": True}}}


def ts_interface_fields(name: str) -> set[str]:
    match = re.search(rf"export interface {name} \{{(.*?)\n\}}", API_TS, re.S)
    assert match, f"interface {name} not found in src/api.ts"
    return set(re.findall(r"^\s+(\w+)\??:", match[1], re.M))


def test_queue_job_is_the_queue_entry_everywhere() -> None:
    """One queue row, declared once (``QueueEntry``): the REST schema adds only what the
    server adds (``status`` from ``as_dict``, ``age``), the TypeScript interface mirrors it."""
    import dataclasses

    from studio_jupyter.schemas import QueueJob

    from studio.engine.queue_rows import QueueEntry

    entry_fields = {f.name: f for f in dataclasses.fields(QueueEntry)}
    assert set(QueueJob.model_fields) == set(entry_fields) | {"status", "age"}
    for name, field in entry_fields.items():
        if field.default is not dataclasses.MISSING:
            assert QueueJob.model_fields[name].default == field.default, name
    assert ts_interface_fields("QueueJob") == set(QueueJob.model_fields)
