"""4 processes x 16 reservations on one shot: 64 distinct takes, none overwritten."""

import json
import subprocess
import sys
import time
from pathlib import Path

from studio import Project

WRITER = """
import json, os, sys, time
from pathlib import Path
from studio import Project
project = Project(sys.argv[1])
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
written = []
for i in range(int(sys.argv[3])):
    take = project.new_take(scene=1, shot=10, ext="png")
    payload = f"writer {os.getpid()} take {i}".encode()
    take.write_bytes(payload)
    written.append([take.name, payload.decode()])
print(json.dumps(written))
"""


def test_concurrent_reservations_never_collide(project: Project, tmp_path: Path) -> None:
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(project.path), str(go), "16"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(1.5)  # let every writer import and wait at the barrier
    go.touch()
    written = []
    for writer in writers:
        out, _ = writer.communicate(timeout=120)
        assert writer.returncode == 0
        written += json.loads(out)
    names = [name for name, _ in written]
    assert len(names) == 64
    assert len(set(names)) == 64
    takes = project.takes(scene=1, shot=10)
    assert [t.name for t in takes] == [f"SHOT-010_v01_take{n:02d}.png" for n in range(1, 65)]
    folder = project.shot_path(scene=1, shot=10)
    for name, payload in written:  # each file still holds what its writer wrote
        assert (folder / name).read_text() == payload
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_concurrent_reservations_of_different_inputs_keep_versions_apart(
    project: Project, tmp_path: Path
) -> None:
    # A sweep's cells reserve at once: a take of other creative inputs never joins a version
    # (a reservation whose media file is not there yet counts as the newest take).
    go = tmp_path / "go"
    writer = WRITER.replace('ext="png")', 'ext="png", prompt=sys.argv[4])')
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", writer, str(project.path), str(go), "8", f"prompt {i}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    time.sleep(1.5)
    go.touch()
    for process in writers:
        process.communicate(timeout=120)
        assert process.returncode == 0
    takes = project.takes(scene=1, shot=10)
    assert len(takes) == 32
    prompts: dict[int, set[str | None]] = {}
    for take in takes:
        assert take.provenance is not None
        prompts.setdefault(take.version, set()).add(take.provenance.prompt)
    assert all(len(found) == 1 for found in prompts.values()), prompts
