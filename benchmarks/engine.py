"""The Generative Engine (issue 5 item 8), on a real process-based ``distributed.LocalCluster``
with the ProcessRunner, against baselines measured in the same run:

* studio overhead per take: ``Engine.generate(...).result()`` (dispatch, durable job log,
  events, take reservation, provenance, git + LFS commit) vs a raw ``client.submit`` of a
  function that runs the same pipeline through ``studio.runner`` and nothing else;
* a 32-cell sweep (``start_sweep``) of one shot on 1 worker vs 2 workers (speed-up);
* sweep submission per cell: starting a 32-cell sweep (axes checked, the sweep saved and
  committed, every cell's job logged and submitted) vs 32 raw ``client.submit`` calls;
* latency from a pipeline's progress event on a worker to the kernel-side listener
  (``Engine.listen``) and to the canvas widget's model (its synced ``node_status``), against
  a bare Dask ``log_event`` -> ``subscribe_topic`` round on the same cluster.

The pipeline is the built-in ``t2i-draft`` drawn at its minimum width (64 px): the no-op
benchmark pipeline cannot be used, its text output is not a medium the take commit routes
through Git LFS.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from benchmarks.timing import median_seconds, report

REPEAT: Final = 10
SWEEP: Final = 32
PROGRESS_EVENTS: Final = 40
TIMEOUT: Final = 120.0
TINY: Final = "t2i-bench"
TICKING: Final = "t2i-bench-ticks"
WARM: Final = "t2i-bench-warm"
WARM_TAKES: Final = 20
WARM_SETUP_S: Final = 2.0
WARM_JOB_S: Final = 0.1


def _derive(
    folder: Path, name: str, *, ticks: int = 0, setup_s: float = 0.0, job_s: float = 0.0
) -> None:
    """t2i-draft at 64 px as ``name``; with ``ticks``, it first reports that many progress
    events carrying the wall-clock time they were emitted at (20 ms apart); with
    ``setup_s`` / ``job_s``, its warm setup and each job take that long (a model load, a
    denoising loop)."""
    from studio.pipelines import builtin_pipelines_dir

    target = folder / name
    shutil.copytree(builtin_pipelines_dir() / "t2i-draft", target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["id"] = name
    for spec in manifest["inputs"]:
        if spec["name"] == "width":
            spec["default"] = 64
    (target / "manifest.json").write_text(json.dumps(manifest))
    if ticks:
        entrypoint = target / "entrypoint.py"
        first = "    w, h = frame_size(aspect_ratio, width)\n"
        source = entrypoint.read_text()
        assert first in source, "t2i-draft changed: update the benchmark"
        tick = (
            f"    for step in range({ticks}):\n"
            "        __import__('time').sleep(0.02)\n"
            f"        ctx.progress(step, {ticks}, f\"t={{__import__('time').time():.6f}}\")\n"
        )
        entrypoint.write_text(source.replace(first, tick + first))
    if setup_s or job_s:
        entrypoint = target / "entrypoint.py"
        first = "    w, h = frame_size(aspect_ratio, width)\n"
        serve = "    serve(predict)\n"
        source = entrypoint.read_text()
        assert first in source and serve in source, "t2i-draft changed: update the benchmark"
        source = source.replace(first, f"    __import__('time').sleep({job_s})\n" + first)
        source = source.replace(
            serve, f"    serve(predict, setup=lambda: __import__('time').sleep({setup_s}))\n"
        )
        entrypoint.write_text(source)


def run_pipeline_only(pipeline_id: str, values: dict[str, Any]) -> bool:
    """The baseline task: the same pipeline run by the same runner call on a worker (the
    worker's own runners, warm pool included), without take reservation, provenance,
    commit or events."""
    from studio.engine.runners import worker_runners
    from studio.pipelines import get_pipeline
    from studio.runner.base import create_job

    pipeline = get_pipeline(pipeline_id)
    workdir = Path(tempfile.mkdtemp(prefix="studio-bench-raw-"))
    try:
        job = create_job(pipeline, values, job_dir=workdir / "job", quality="low")
        return worker_runners().for_pipeline(pipeline, quality="low").run(pipeline, job).ok
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def cluster(workers: int) -> Iterator[Any]:
    from distributed import Client

    from studio.engine.cluster import local_cluster

    # The studio's own local cluster (CPU workers, one thread each, the task module preloaded).
    with (
        local_cluster(n_workers=workers, vram_gb=[]) as local,
        Client(local) as client,  # type: ignore[no-untyped-call]
    ):
        client.wait_for_workers(workers, timeout=TIMEOUT)
        yield client


def shot(project: Any, pipeline: str, *, shot_number: int) -> str:
    node = project.graph.add_node("Shot", prompt="lanterns", scene=1, shot=shot_number, seed=1)
    pipe = project.graph.add_node("Pipeline", pipeline_id=pipeline)
    project.graph.connect(pipe.id, "pipeline", node.id, "pipeline")
    return str(node.id)


def overhead(client: Any, project: Any) -> None:
    from studio.engine import Engine

    engine = Engine(client=client)
    node_id = shot(project, TINY, shot_number=10)
    values = {"prompt": "lanterns", "seed": 1, "shot_label": "SHOT 010"}

    def studio_take() -> None:
        engine.generate(project, node_id, quality="low").result(timeout=TIMEOUT)

    def raw_submit() -> None:
        future = client.submit(run_pipeline_only, TINY, values, pure=False)
        assert future.result(timeout=TIMEOUT)

    raw = median_seconds(raw_submit, repeat=REPEAT)
    studio = median_seconds(studio_take, repeat=REPEAT)
    report("engine take (1 worker, 64 px t2i-draft)", studio, "raw client.submit + runner", raw)
    print(f"  studio overhead per take: {(studio - raw) * 1000:.1f} ms")


def warm_through_engine(project: Any, *, workers: int) -> None:
    """20 takes of a warm pipeline (2 s setup, 0.1 s a job) through ``project.generate``'s
    engine on a new cluster, against a perfect warm worker: setup + 20 x job. Beside it, the
    no-studio floor: the same 20 runner calls as raw ``client.submit`` tasks on a new cluster
    of as many workers (Dask, the runner and its warm pool; no take, log, event or commit), so
    the ratio's parts show: what the floor is above ideal is not the studio's."""
    from studio.engine import Engine

    values = {"prompt": "lanterns", "seed": 1, "shot_label": "SHOT 040"}
    with cluster(workers) as client:
        start = time.perf_counter()
        futures = [
            client.submit(run_pipeline_only, WARM, values, pure=False) for _ in range(WARM_TAKES)
        ]
        assert all(future.result(timeout=TIMEOUT) for future in futures)
        floor = time.perf_counter() - start
    with cluster(workers) as client:
        engine = Engine(client=client)
        node_id = shot(project, WARM, shot_number=40 + workers)
        start = time.perf_counter()
        jobs = [engine.generate(project, node_id, quality="low") for _ in range(WARM_TAKES)]
        takes = {job.result(timeout=TIMEOUT).name for job in jobs}
        elapsed = time.perf_counter() - start
    assert len(takes) == WARM_TAKES
    ideal = WARM_SETUP_S + WARM_TAKES * WARM_JOB_S
    plural = "s" if workers > 1 else ""
    print(
        f"warm pipeline through the engine ({workers} worker{plural}): "
        f"{WARM_TAKES} takes {elapsed:.2f} s vs ideal warm worker (setup + {WARM_TAKES} x job)"
        f" {ideal:.2f} s -> ratio {elapsed / ideal:.2f}x"
    )
    print(
        f"  no-studio floor ({workers} worker{plural}, raw client.submit + runner): "
        f"{floor:.2f} s -> ratio {floor / ideal:.2f}x; the studio's part "
        f"{(elapsed - floor) / WARM_TAKES * 1000:.0f} ms a take"
    )


def sweep(client: Any, project: Any, *, shot_number: int) -> float:
    from studio.engine import Engine
    from studio.sweeps.sweep import start_sweep

    engine = Engine(client=client)
    node_id = shot(project, TINY, shot_number=shot_number)
    engine.generate(project, node_id, quality="low").result(timeout=TIMEOUT)  # warm-up
    start = time.perf_counter()
    started = start_sweep(project, node_id, engine=engine, seed=range(SWEEP), quality="low")
    started.wait(timeout=TIMEOUT * 4)
    elapsed = time.perf_counter() - start
    takes = {take.name for take in started.takes() if take is not None}
    assert len(takes) == SWEEP, started.progress()
    return elapsed


def submission(client: Any, project: Any) -> None:
    """Starting a 32-cell sweep vs submitting the same 32 runner calls raw (each side waits
    for its tasks afterwards, untimed, so the next starts on an idle worker)."""
    from studio.engine import Engine
    from studio.sweeps.sweep import start_sweep

    engine = Engine(client=client)
    node_id = shot(project, TINY, shot_number=30)
    values = {"prompt": "lanterns", "seed": 1, "shot_label": "SHOT 030"}
    raw_times, sweep_times = [], []
    for _ in range(3):
        start = time.perf_counter()
        futures = [client.submit(run_pipeline_only, TINY, values, pure=False) for _ in range(SWEEP)]
        raw_times.append(time.perf_counter() - start)
        assert all(future.result(timeout=TIMEOUT * 4) for future in futures)
        start = time.perf_counter()
        started = start_sweep(project, node_id, engine=engine, seed=range(SWEEP), quality="low")
        sweep_times.append(time.perf_counter() - start)
        started.wait(timeout=TIMEOUT * 4)
    raw, studio = statistics.median(raw_times), statistics.median(sweep_times)
    report(f"start a {SWEEP}-cell sweep", studio, f"{SWEEP} raw client.submit", raw)
    print(f"  sweep submission overhead per cell: {(studio - raw) / SWEEP * 1000:.1f} ms")


def _emit_ticks(topic: str, count: int) -> None:
    """Runs on a worker: the bare Dask path (``log_event``), stamped like the pipeline's."""
    from distributed import get_worker

    worker = get_worker()
    for _ in range(count):
        worker.log_event(topic, {"step": f"t={time.time()}"})
        time.sleep(0.02)


def raw_topic_latency(client: Any) -> list[float]:
    """Baseline: worker ``log_event`` -> client ``subscribe_topic`` handler, nothing else."""
    delays: list[float] = []
    lock = threading.Lock()

    def handler(event: Any) -> None:
        arrived = time.time()
        with lock:
            delays.append(arrived - float(event[1]["step"][2:]))

    client.subscribe_topic("bench-raw", handler)
    for _ in range(3):
        client.submit(_emit_ticks, "bench-raw", PROGRESS_EVENTS, pure=False).result(TIMEOUT)
    deadline = time.monotonic() + 5
    while len(delays) < 3 * PROGRESS_EVENTS and time.monotonic() < deadline:
        time.sleep(0.01)
    client.unsubscribe_topic("bench-raw")
    return delays


def latency(client: Any, project: Any) -> None:
    from studio.engine import Engine

    engine = Engine(client=client)
    node_id = shot(project, TICKING, shot_number=30)
    to_listener: list[float] = []
    to_model: list[float] = []
    lock = threading.Lock()

    def listener(message: dict[str, Any]) -> None:
        arrived = time.time()
        step = message["payload"].get("step", "")
        if message["event"] == "server:task_progress" and step.startswith("t="):
            with lock:
                to_listener.append(arrived - float(step[2:]))

    # The widget model: a real Canvas attached to the engine (what a notebook displays);
    # the delay ends when its synced ``node_status`` trait holds the event.
    canvas = project.canvas(engine=False)
    canvas.use_engine(engine)

    def on_status(change: dict[str, Any]) -> None:
        arrived = time.time()
        step = change["new"].get(node_id, {}).get("step", "")
        if step.startswith("t=") and step != change["old"].get(node_id, {}).get("step"):
            with lock:
                to_model.append(arrived - float(step[2:]))

    canvas.observe(on_status, names="node_status")
    unlisten = engine.listen(project, listener)
    try:
        for _ in range(3):
            engine.generate(project, node_id, quality="low").result(timeout=TIMEOUT)
    finally:
        unlisten()
        canvas.close()
    raw = raw_topic_latency(client)
    for name, delays in (("kernel listener", to_listener), ("widget model", to_model)):
        assert len(delays) == 3 * PROGRESS_EVENTS, (name, len(delays))
    base = statistics.median(raw) * 1000
    print(f"raw Dask log_event -> subscribe_topic (baseline): median {base:.1f} ms")
    for name, delays in (("kernel listener", to_listener), ("widget model", to_model)):
        ms = sorted(d * 1000 for d in delays)
        print(
            f"progress event (pipeline on a worker) -> {name}: "
            f"median {statistics.median(ms):.1f} ms ({statistics.median(ms) / base:.2f}x raw), "
            f"p90 {ms[int(len(ms) * 0.9)]:.1f} ms, max {ms[-1]:.1f} ms ({len(ms)} events)"
        )


PARTS: Final = ("overhead", "submit", "sweep", "latency", "warm")


def main(parts: tuple[str, ...] = PARTS) -> None:
    """Run the benchmark ``parts`` (all of them by default; ``python -m benchmarks.engine
    overhead warm`` runs two)."""
    from studio import Workspace

    unknown = set(parts) - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown part(s) {sorted(unknown)}: choose from {', '.join(PARTS)}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pipelines = root / "pipelines"
        pipelines.mkdir()
        _derive(pipelines, TINY)
        _derive(pipelines, TICKING, ticks=PROGRESS_EVENTS)
        _derive(pipelines, WARM, setup_s=WARM_SETUP_S, job_s=WARM_JOB_S)
        # Before any cluster starts: worker processes inherit the environment.
        saved = {k: os.environ.get(k) for k in ("STUDIO_RUNNER", "STUDIO_PIPELINE_DIRS")}
        os.environ["STUDIO_RUNNER"] = "process"
        os.environ["STUDIO_PIPELINE_DIRS"] = json.dumps([str(pipelines)])
        one = two = None
        try:
            project = Workspace(root / "ws").create_project("Bench")
            if {"overhead", "submit", "sweep"} & set(parts):
                with cluster(1) as client:
                    if "overhead" in parts:
                        overhead(client, project)
                    if "submit" in parts:
                        submission(client, project)
                    if "sweep" in parts:
                        one = sweep(client, project, shot_number=20)
            if "sweep" in parts or "latency" in parts:
                with cluster(2) as client:
                    if "sweep" in parts:
                        two = sweep(client, project, shot_number=21)
                    if "latency" in parts:
                        latency(client, project)
            if "warm" in parts:
                warm_through_engine(project, workers=1)
                warm_through_engine(project, workers=2)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        if one is not None and two is not None:
            print(
                f"{SWEEP}-cell sweep: 1 worker {one:.2f} s ({one / SWEEP * 1000:.0f} ms/take), "
                f"2 workers {two:.2f} s ({two / SWEEP * 1000:.0f} ms/take) -> speed-up "
                f"{one / two:.2f}x ({os.cpu_count()} cores)"
            )


if __name__ == "__main__":
    import sys

    main(tuple(sys.argv[1:]) or PARTS)
