"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(action: Callable[[], object], *, repeat: int) -> float:
    """Median wall time of ``action`` over ``repeat`` runs (after one warm-up run)."""
    action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def report(label: str, studio_s: float, baseline_label: str, baseline_s: float) -> None:
    print(
        f"{label}: {studio_s * 1000:.1f} ms vs {baseline_label}: {baseline_s * 1000:.1f} ms"
        f" -> ratio {studio_s / baseline_s:.2f}x"
    )
