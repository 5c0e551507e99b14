"""Test helpers shared by the tests that run jobs on a real Dask cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster

from studio import Project


@contextmanager
def thread_cluster(*, workers: int = 1, tcp: bool = False) -> Iterator[LocalCluster]:
    """Single-threaded CPU workers declaring no VRAM, as threads of this process, not
    processes: the cluster starts in well under a second, and the pipelines still run as
    real subprocesses. ``tcp``: reachable from other processes (a kernel), not in-process."""
    with LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
        n_workers=workers, threads_per_worker=1, processes=False, dashboard_address=":0",
        **({"protocol": "tcp://"} if tcp else {}),
    ) as cluster:  # fmt: skip
        yield cluster


@contextmanager
def thread_client(*, workers: int = 1, tcp: bool = False) -> Iterator[Client]:
    """A client of a :func:`thread_cluster`."""
    with thread_cluster(workers=workers, tcp=tcp) as cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


def add_draft_shot(
    project: Project, *, prompt: str = "lanterns at dusk", seed: int | None = 7
) -> str:
    """A Shot node (scene 1, shot 10) fed by a Pipeline node naming t2i-draft; its id."""
    graph = project.graph
    node = graph.add_node("Shot", prompt=prompt, scene=1, shot=10, seed=seed)
    pipe = graph.add_node("Pipeline", pipeline_id="t2i-draft")
    graph.connect(pipe.id, "pipeline", node.id, "pipeline")
    return node.id
