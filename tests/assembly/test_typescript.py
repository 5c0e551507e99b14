"""The Assembler node writes what the compiler reads: ``widgets/src/lib/assembly.ts`` (the
clip settings' shape and limits, the rates) is generated from studio.assembly."""

from __future__ import annotations

from pathlib import Path

from studio.assembly.typescript import typescript_module

ASSEMBLY_TS = Path(__file__).resolve().parents[2] / "widgets/src/lib/assembly.ts"


def test_the_front_end_clip_settings_are_generated_from_the_models() -> None:
    assert ASSEMBLY_TS.read_text() == typescript_module(), (
        "widgets/src/lib/assembly.ts is stale: run "
        "`python -m studio.assembly.typescript > widgets/src/lib/assembly.ts`"
    )


def test_the_generated_module_names_every_clip_setting() -> None:
    text = typescript_module()
    for name in ("trim_in", "trim_out", "duration", "handles", "overlay", "transition"):
        assert f"{name}?:" in text
    assert '"29.97 DF": {"nominal": 30, "drop_frame": true}' in text
