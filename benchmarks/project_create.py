"""Project creation vs a bare ``git init && git add -A && git commit`` of the same tree."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import tempfile
from pathlib import Path

from benchmarks.timing import median_seconds, report
from studio import Workspace

REPEAT = 15


def bare_git_commit(template: Path, target: Path) -> None:
    shutil.copytree(template, target, ignore=shutil.ignore_patterns(".git"))
    for command in (
        ["git", "init", "--quiet"],
        ["git", "add", "-A"],
        ["git", "commit", "--quiet", "-m", "init"],
    ):
        subprocess.run(command, cwd=target, check=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ws = Workspace(root / "ws")
        counter = itertools.count()
        template = ws.create_project("Template").path
        studio_s = median_seconds(lambda: ws.create_project(f"Film {next(counter)}"), repeat=REPEAT)
        bare_s = median_seconds(
            lambda: bare_git_commit(template, root / f"bare{next(counter)}"), repeat=REPEAT
        )
        report("studio create_project", studio_s, "bare git init+add+commit (same tree)", bare_s)


if __name__ == "__main__":
    main()
