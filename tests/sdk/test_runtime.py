"""The in-container SDK: stdlib only, typed inputs, the same vocabulary as the host."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from studio.runner.build import stage_sdk
from studio.runner.contract import ErrorCode
from studio.sdk import Context, InputError, runtime


def test_sdk_error_codes_match_the_contract():
    sdk_codes = {runtime.INPUT_INVALID, runtime.OOM, runtime.CANCELED, runtime.MODEL_ERROR}
    sdk_codes.add(runtime.SETUP_FAILED)
    assert sdk_codes <= {code.value for code in ErrorCode}


def test_sdk_imports_with_the_standard_library_only(tmp_path: Path):
    # What a container sees: the staged package, isolated from the host's site-packages.
    root = stage_sdk(tmp_path / "sdk")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import studio.sdk, studio.sdk.ffmpeg;"
        "third = {m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)"
        " - {'studio', '__main__'}; assert not third, third"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(root)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def predict(
    ctx: Context, *, prompt: str, seed: int = 0, scale: float = 1.0, flag: bool = False,
    source: Path | None = None,
) -> dict[str, Path]:  # fmt: skip
    return {}


def test_bind_inputs_types_and_files(tmp_path: Path):
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "a.png").write_bytes(b"x")
    kwargs = runtime.bind_inputs(
        predict, {"prompt": "p", "scale": 2, "source": "inputs/a.png"}, job_dir=tmp_path
    )
    assert kwargs == {"prompt": "p", "scale": 2.0, "source": (tmp_path / "inputs/a.png")}
    assert isinstance(kwargs["scale"], float)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "'prompt' is required"),
        ({"prompt": "p", "seed": 1.5}, "whole number"),
        ({"prompt": "p", "seed": True}, "whole number"),
        ({"prompt": 3}, "expects text"),
        ({"prompt": "p", "flag": "yes"}, "true/false"),
        ({"prompt": "p", "other": 1}, "unknown inputs"),
        ({"prompt": "p", "source": "inputs/missing.png"}, "missing"),
    ],
)
def test_bind_inputs_rejects(tmp_path: Path, inputs, message):
    with pytest.raises(InputError, match=message):
        runtime.bind_inputs(predict, inputs, job_dir=tmp_path)
