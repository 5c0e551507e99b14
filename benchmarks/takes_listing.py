"""Listing a shot folder holding 1000 takes vs a bare ``os.listdir`` of that folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchmarks.timing import median_seconds, report
from studio import Workspace

TAKES = 1000
REPEAT = 20


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Workspace(Path(tmp) / "ws").create_project("Listing")
        for i in range(TAKES):
            take = project.new_take(scene=1, shot=10, ext="png", prompt="p", seed=i)
            take.write_bytes(b"\x89PNG fake payload %d" % i)
        folder = project.shot_path(scene=1, shot=10)
        assert len(project.takes(scene=1, shot=10)) == TAKES
        listing_s = median_seconds(lambda: project.takes(scene=1, shot=10), repeat=REPEAT)
        provenance_s = median_seconds(
            lambda: [t.provenance for t in project.takes(scene=1, shot=10)], repeat=3
        )
        bare_s = median_seconds(lambda: os.listdir(folder), repeat=REPEAT)  # noqa: PTH208
        report(f"project.takes() of {TAKES} takes", listing_s, "os.listdir", bare_s)
        report(f"takes() + every sidecar of {TAKES}", provenance_s, "os.listdir", bare_s)
        reserve_s = median_seconds(
            lambda: project.new_take(scene=1, shot=10, ext="png", prompt="p"), repeat=REPEAT
        )
        print(f"new_take() with {TAKES}+ takes in the folder: {reserve_s * 1000:.1f} ms")


if __name__ == "__main__":
    main()
