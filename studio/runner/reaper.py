"""No orphan containers: labels, a reaper, and a watchdog process per DockerRunner.

The watchdog is a tiny detached process holding the read end of a pipe whose write end only
the runner's process has. When that process ends — cleanly, by an exception or by SIGKILL —
the kernel closes the pipe, the watchdog sees EOF and removes the containers labelled with
the runner's owner id. ``reap_orphans`` covers the case where the watchdog died too.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from typing import IO, TYPE_CHECKING, Final

if TYPE_CHECKING:
    from docker import DockerClient

LABEL_RUNNER: Final = "studio.runner"
LABEL_OWNER: Final = "studio.owner"
LABEL_JOB: Final = "studio.job"
LABEL_PIPELINE: Final = "studio.pipeline"


def reap(client: DockerClient, *, owner: str | None = None) -> int:
    """Remove (force) the studio's containers, only ``owner``'s when given. Returns how many."""
    label = f"{LABEL_OWNER}={owner}" if owner else LABEL_RUNNER
    removed = 0
    for container in client.containers.list(
        all=True, filters={"label": label}, ignore_removed=True
    ):
        try:
            container.remove(force=True)
            removed += 1
        except Exception:  # noqa: S112 - already gone (a race with another reaper) is fine
            continue
    return removed


def owner_alive(owner: str, *, host: str | None = None) -> bool:
    """Is the process named in ``host:pid:nonce`` alive? Owners on other hosts count as alive
    (a shared daemon: their own reaper is responsible)."""
    owner_host, _, rest = owner.partition(":")
    if owner_host != (host or socket.gethostname()):
        return True
    try:
        os.kill(int(rest.partition(":")[0]), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def reap_orphans(client: DockerClient) -> int:
    """Remove the studio's containers whose owner process on this host is gone."""
    removed = 0
    for container in client.containers.list(
        all=True, filters={"label": LABEL_RUNNER}, ignore_removed=True
    ):
        owner = container.labels.get(LABEL_OWNER, "")
        if not owner_alive(owner):
            try:
                container.remove(force=True)
                removed += 1
            except Exception:  # noqa: S112
                continue
    return removed


class Watchdog:
    def __init__(self, proc: subprocess.Popen[bytes], pipe: IO[bytes]) -> None:
        self.proc = proc
        self._pipe = pipe

    @classmethod
    def start(cls, owner: str) -> Watchdog:
        proc = subprocess.Popen(
            [sys.executable, "-m", "studio.runner.reaper", "--owner", owner],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            start_new_session=True,  # survives a signal sent to the caller's process group
        )
        if proc.stdin is None:
            raise RuntimeError("subprocess pipes missing")  # unreachable: PIPE was requested
        return cls(proc, proc.stdin)

    def stop(self) -> None:
        """The runner closed cleanly: close the pipe; the watchdog reaps (nothing) and exits."""
        self._pipe.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _main() -> None:
    parser = argparse.ArgumentParser(description="remove a studio runner's containers")
    parser.add_argument("--owner", required=True)
    args = parser.parse_args()
    sys.stdin.buffer.read()  # returns at EOF: the owner closed the pipe or died
    import docker

    reap(docker.from_env(), owner=args.owner)


if __name__ == "__main__":
    _main()
