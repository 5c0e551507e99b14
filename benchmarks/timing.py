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
        f"{label}: {_ms(studio_s)} vs {baseline_label}: {_ms(baseline_s)}"
        f" -> ratio {_ratio(studio_s / baseline_s)}x"
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds >= 0.001 else f"{seconds * 1000:.3f} ms"


def _ratio(ratio: float) -> str:
    return f"{ratio:.2f}" if ratio >= 0.01 else f"{ratio:.1e}"  # a tiny one keeps its digits
