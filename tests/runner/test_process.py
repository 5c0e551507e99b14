"""ProcessRunner's out-of-memory evidence (pure parts): the cgroup's OOM-kill counter."""

from __future__ import annotations

from pathlib import Path

from studio.runner import process
from studio.runner.process import (
    killed_by_oom,
    oom_counter_files,
    oom_evidence,
    oom_kills,
    parse_oom_kills,
)


def test_parse_oom_kills_reads_v1_and_v2_files():
    v2 = "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\noom_group_kill 0\n"
    v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n"
    assert parse_oom_kills(v2) == 2
    assert parse_oom_kills(v1) == 7
    assert parse_oom_kills("oom 3\n") is None  # "oom" is not "oom_kill"


def test_oom_counter_files_of_v2_and_v1_hierarchies(tmp_path: Path):
    assert oom_counter_files("0::/user.slice/app\n", root=tmp_path) == [
        tmp_path / "user.slice/app/memory.events"
    ]
    hybrid = "4:memory:/docker/abc\n3:cpu,cpuacct:/\n0::/\n"
    assert oom_counter_files(hybrid, root=tmp_path) == [
        tmp_path / "memory/docker/abc/memory.oom_control",
        tmp_path / "memory.events",
    ]


def test_only_a_sigkill_while_the_counter_rose_is_an_oom_kill():
    assert killed_by_oom(137, before=0, after=1) is True
    assert killed_by_oom(137, before=1, after=1) is False  # killed by someone else
    assert killed_by_oom(1, before=0, after=1) is False  # another process of the cgroup
    assert killed_by_oom(143, before=None, after=None) is False  # the OOM killer sends SIGKILL
    assert killed_by_oom(137, before=None, after=None) is None  # cannot tell: neither claimed
    assert killed_by_oom(137, before=0, after=None) is None
    assert "not readable" not in oom_evidence(False) and "readable" in oom_evidence(None)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_oom_kills_reads_the_counter_of_this_process_cgroup(tmp_path: Path):
    proc = tmp_path / "proc-self-cgroup"
    root = tmp_path / "cgroup"
    write(proc, "0::/user.slice/app\n")
    write(root / "user.slice/app/memory.events", "low 0\nhigh 0\nmax 9\noom 3\noom_kill 3\n")
    write(root / "memory.events", "oom_kill 99\n")  # another cgroup's: not ours
    assert oom_kills(proc_cgroup=proc, root=root) == 3
    write(root / "user.slice/app/memory.events", "oom_kill 4\n")
    assert oom_kills(proc_cgroup=proc, root=root) == 4  # read afresh each time: it can rise


def test_oom_kills_falls_back_to_the_v1_memory_controller(tmp_path: Path):
    proc = tmp_path / "proc-self-cgroup"
    root = tmp_path / "cgroup"
    # hybrid: the v2 line names no memory.events (or one without oom_kill, kernels < 4.13)
    write(proc, "4:memory:/docker/abc\n0::/\n")
    write(root / "memory.events", "low 0\noom 1\n")
    write(root / "memory/docker/abc/memory.oom_control", "oom_kill_disable 0\noom_kill 7\n")
    assert oom_kills(proc_cgroup=proc, root=root) == 7


def test_oom_kills_says_none_where_no_counter_is_readable(tmp_path: Path):
    proc = tmp_path / "proc-self-cgroup"
    root = tmp_path / "cgroup"
    assert oom_kills(proc_cgroup=proc, root=root) is None  # no /proc/self/cgroup (not Linux)
    write(proc, "0::/user.slice/app\n4:memory:/user.slice/app\n")
    assert oom_kills(proc_cgroup=proc, root=root) is None  # no memory.events, no oom_control
    write(root / "user.slice/app/memory.events", "low 0\nhigh 0\n")
    assert oom_kills(proc_cgroup=proc, root=root) is None  # a file without the counter
    write(proc, "1:cpu:/\n")
    assert oom_kills(proc_cgroup=proc, root=root) is None  # no memory controller at all


def test_oom_kills_follows_the_cgroup_root_of_the_moment(tmp_path: Path, monkeypatch):
    # what the runners' tests patch to act out a machine whose counter cannot be read
    monkeypatch.setattr(process, "CGROUP_ROOT", tmp_path)
    assert oom_kills() is None
