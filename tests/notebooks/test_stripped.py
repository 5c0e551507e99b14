"""The lint check that notebooks are stored stripped: it lists what a run left in a cell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.notebooks.stripped import main, problems


def test_outputs_and_execution_counts_are_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = {"cell_type": "code", "source": "1 + 1", "execution_count": 3,
           "outputs": [{"output_type": "execute_result", "data": {"text/plain": "2"}}]}  # fmt: skip
    clean: dict[str, object] = {
        "cell_type": "code",
        "source": "x",
        "execution_count": None,
        "outputs": [],
    }
    assert problems({"cells": [clean, ran]}) == [
        "cell 1 has outputs", "cell 1 has an execution count"
    ]  # fmt: skip
    (tmp_path / "Clean.ipynb").write_text(json.dumps({"cells": [clean]}))
    assert main([str(tmp_path)]) == 0
    (tmp_path / "Ran.ipynb").write_text(json.dumps({"cells": [ran]}))
    assert main([str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{tmp_path / 'Ran.ipynb'}: not stripped (cell 0 has outputs; cell 0 has an execution "
        "count); clear its outputs and save"
    ]
