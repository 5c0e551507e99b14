"""`studio cluster scheduler|worker`: a real team cluster whose worker declares its VRAM."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from distributed import Client

from studio.engine.cluster import worker_command, worker_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_worker_command_declares_vram_on_the_command_line() -> None:
    command = worker_command("tcp://h:1", vram_gb=24, name="gpu-0")
    assert command[-4:] == ["--resources", "VRAM=24", "--name", "gpu-0"]
    # A worker without a GPU declares CPU slots instead (renders ask for one, never VRAM).
    assert worker_command("tcp://h:1", vram_gb=0, nthreads=2)[-2:] == ["--resources", "CPU=2"]
    assert worker_env(1)["CUDA_VISIBLE_DEVICES"] == "1"


@pytest.mark.slow
def test_scheduler_and_a_16gb_worker() -> None:
    port, dashboard = free_port(), free_port()
    address = f"tcp://127.0.0.1:{port}"
    studio = [sys.executable, "-m", "studio", "cluster"]
    children = [
        subprocess.Popen(
            [*studio, "scheduler", "--port", str(port), "--dashboard-port", str(dashboard)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        ),
    ]  # fmt: skip
    try:
        time.sleep(1)
        children.append(
            subprocess.Popen(
                [*studio, "worker", address, "--vram", "16", "--name", "gpu-a"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        with Client(address, timeout=30) as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(1, timeout=60)
            [info] = client.scheduler_info(n_workers=-1)["workers"].values()
            assert info["resources"] == {"VRAM": 16}
            future = client.submit(sum, [2, 3], resources={"VRAM": 8}, pure=False)
            assert future.result(timeout=30) == 5
    finally:
        for child in children:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait(timeout=30)
