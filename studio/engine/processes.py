"""A local scheduler and workers as child processes, for ``studio lab``: the cluster outlives
no one (stopped with the lab) and kernels reach it through ``STUDIO_SCHEDULER``."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Final

from studio.engine.cluster import (
    ClusterError,
    detect_vram_gb,
    scheduler_command,
    worker_command,
    worker_env,
)

READY_TIMEOUT_S: Final = 60.0


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _wait_for_workers(address: str, count: int, deadline: float) -> None:
    from distributed import Client

    while True:
        try:
            with Client(address, timeout=5) as client:  # type: ignore[no-untyped-call]
                client.wait_for_workers(count, timeout=max(1.0, deadline - time.monotonic()))
                return
        except (OSError, TimeoutError) as exc:
            if time.monotonic() > deadline:
                raise ClusterError(f"the local Dask cluster did not start: {exc}") from None
            time.sleep(0.5)


@contextlib.contextmanager
def local_team_cluster(*, host: str = "127.0.0.1") -> Iterator[str]:
    """Start a scheduler and workers (one per GPU declaring its VRAM plus a CPU worker, else
    CPU workers);
    yield the scheduler address; stop them all on exit."""
    port = _free_port(host)
    address = f"tcp://{host}:{port}"
    children = [subprocess.Popen(scheduler_command(host=host, port=port, dashboard_port=None),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]  # fmt: skip
    try:
        gpus = detect_vram_gb()
        # With GPUs, one CPU worker too: the tasks that must not take a GPU's slot (renders).
        plan: list[tuple[float, int | None]] = (
            [(gb, i) for i, gb in enumerate(gpus)] + [(0.0, None)]
            if gpus
            else [(0.0, None) for _ in range(min(2, os.cpu_count() or 1))]
        )
        for gb, index in plan:
            children.append(
                subprocess.Popen(
                    worker_command(address, vram_gb=gb),
                    env=worker_env(index),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        _wait_for_workers(address, len(plan), time.monotonic() + READY_TIMEOUT_S)
        yield address
    finally:
        for child in reversed(children):
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
