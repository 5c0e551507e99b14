"""Running a build step (pip, docker build) with its output streamed, and stopping it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from studio.runner.build import run_streaming


class Stop(Exception):
    pass


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (ended, not yet reaped by its parent) counts as ended.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"


def test_output_lines_stream_and_the_exit_code_is_returned() -> None:
    seen: list[str] = []
    code, tail = run_streaming(
        ["sh", "-c", "echo one; echo two; exit 3"], on_line=seen.append, check=lambda: None
    )
    assert (code, seen, tail) == (3, ["one", "two"], ["one", "two"])


def test_a_stop_kills_the_step_with_every_process_it_started(tmp_path: Path) -> None:
    # As `pip --python` runs a second pip, the shell here starts a child that outlives it
    # unless its whole process group is killed.
    pid_file = tmp_path / "child.pid"
    script = f"sleep 300 & echo $! > {pid_file}; echo started; wait"
    started: list[str] = []

    def check() -> None:
        if started:
            raise Stop

    with pytest.raises(Stop):
        run_streaming(["sh", "-c", script], on_line=started.append, check=check)
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child), "the step's child process was left running"
