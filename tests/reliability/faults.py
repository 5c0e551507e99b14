"""Helpers of the fault suite: strict JSON reading (what a browser's JSON.parse accepts),
processes by command line, real clients killed with SIGKILL."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

TIMEOUT = 120


def strict_loads(text: str, *, source: str = "the document") -> Any:
    """``json.loads`` refusing NaN/Infinity (``parse_constant``) and overflowing numbers, as
    the browser's JSON.parse and every standard reader do. Written apart from
    ``studio.documents.strict_loads`` on purpose: the tests' oracle, not the code under test."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{source} holds {name}, which is not JSON")

    def finite(number: str) -> float:
        value = float(number)
        if not math.isfinite(value):
            raise ValueError(f"{source} holds {number}, out of range for JSON readers")
        return value

    return json.loads(text, parse_constant=refuse, parse_float=finite)


def strict_json(path: Path) -> Any:
    return strict_loads(path.read_text(), source=str(path))


def wait_until(condition: Callable[[], Any], *, what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def _state(pid: int) -> str | None:
    """The process's state letter (``Z``: a zombie), None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    return _state(pid) not in (None, "Z")


def gone(pid: int) -> bool:
    return not alive(pid)


def group_members(pgid: int) -> list[int]:
    members = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # ended while we looked
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(proc.name))
    return members


def start_script(code: str, *, folder: Path) -> subprocess.Popen[str]:
    """Run ``code`` as a script file (``__main__``: Dask's spawned workers re-import it) in
    its own session, so its process group is everything it starts."""
    script = folder / f"client-{time.monotonic_ns()}.py"
    script.write_text(code)
    return subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run_script(code: str, *, folder: Path, timeout: float = TIMEOUT) -> Any:
    """Run ``code`` in a fresh process (a script, a papermill run); its last stdout line,
    parsed as JSON."""
    proc = start_script(code, folder=folder)
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def kill_minus_9(proc: subprocess.Popen[str], *, also: tuple[int, ...] = ()) -> None:
    """SIGKILL the process, its group (its local cluster's workers) and ``also``, and wait
    until none of them is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pid in also:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=30)
    wait_until(lambda: not group_members(proc.pid), what="the killed client's processes")
    for pid in also:
        wait_until(partial(gone, pid), what=f"process {pid} to end")
