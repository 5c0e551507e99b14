"""The GPU check of the model pipelines: on a machine with an NVIDIA GPU and the real
weights in the model store, generate one image per quality and one video, and print the
time and the peak GPU memory of each (``nvidia-smi``, sampled while the job runs).

    python -m benchmarks.gpu_smoke [--workspace DIR] [--vram GB] [--runner process|docker]
                                   [PIPELINE ...]

Not part of ``make bench``: it needs a GPU and tens of GB of weights. Without a GPU it says
so and exits 2; a pipeline whose weights are missing is listed with the command that adds
them, and the others still run.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from studio.errors import StudioError
from studio.models import require_models
from studio.pipelines import get_pipeline
from studio.quality import Quality
from studio.runner.base import Runner, create_job
from studio.runner.docker import DockerRunner
from studio.runner.process import ProcessRunner

DEFAULT: list[tuple[str, Quality]] = [  # one image per quality (PRD Table 4), one video
    ("t2i-sd1.5", "low"),
    ("t2i-flux-schnell", "standard"),
    ("t2i-flux-dev-fp16", "high"),
    ("t2v-wan2.1-1.3b", "low"),
]
PROMPT = "a lighthouse on a cliff at dusk, waves crashing, cinematic, 35mm film"
SAMPLE_S = 0.2


def gpu_memory_used_mb() -> float | None:
    """Used memory of GPU 0 in MiB, from nvidia-smi; None without one."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return float(out.splitlines()[0])


class PeakMemory:
    """The highest GPU memory use seen while the ``with`` block runs."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.peak_mb = max(self.peak_mb, gpu_memory_used_mb() or 0.0)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_one(runner: Runner, pipeline_id: str, quality: Quality, *, vram_gb: float,
            workspace: Path | None, scratch: Path) -> str:  # fmt: skip
    pipeline = get_pipeline(pipeline_id)
    try:
        models = require_models(pipeline.id, pipeline.manifest.models, project_root=None,
                                workspace=workspace)  # fmt: skip
    except StudioError as exc:
        return f"skipped: {exc.message}"
    job = create_job(pipeline, {"prompt": PROMPT, "seed": 1}, job_dir=scratch / pipeline_id,
                     quality=quality, models=models, gpus=("0",), vram_gb=vram_gb)  # fmt: skip
    before = gpu_memory_used_mb() or 0.0
    started = time.monotonic()
    with PeakMemory() as peak:
        result = runner.run(pipeline, job)
    seconds = time.monotonic() - started
    if not result.ok:
        return f"failed after {seconds:.1f} s: {result.error}"
    output = next(iter(result.outputs.values()))
    return (f"{seconds:.1f} s, peak GPU memory {(peak.peak_mb - before) / 1024:.1f} GB above "
            f"idle ({peak.peak_mb / 1024:.1f} GB in all) -> {job / output}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pipelines", nargs="*", help="pipeline ids (default: one per quality)")
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--vram", type=float, default=0.0, help="declared GPU memory (GB)")
    parser.add_argument("--runner", choices=["process", "docker"], default="process")
    parser.add_argument("--keep", type=Path, default=None, help="keep the outputs here")
    args = parser.parse_args()
    if gpu_memory_used_mb() is None:
        print("no NVIDIA GPU here (nvidia-smi does not answer): nothing to check")
        sys.exit(2)
    chosen: list[tuple[str, Quality]] = [(p, "high") for p in args.pipelines] or DEFAULT
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="studio-gpu-smoke-"))
    runner: Runner = DockerRunner() if args.runner == "docker" else ProcessRunner()
    try:
        for pipeline_id, quality in chosen:
            print(f"{pipeline_id} ({quality}): ", end="", flush=True)
            print(run_one(runner, pipeline_id, quality, vram_gb=args.vram,
                          workspace=args.workspace, scratch=scratch))  # fmt: skip
    finally:
        runner.close()
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
