"""ProcessRunner's out-of-memory evidence (pure parts): the cgroup's OOM-kill counter."""

from __future__ import annotations

from pathlib import Path

from studio.runner.process import killed_by_oom, oom_counter_files, oom_kills, parse_oom_kills


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
    assert killed_by_oom(137, before=0, after=1)
    assert not killed_by_oom(137, before=1, after=1)  # killed by someone else
    assert not killed_by_oom(1, before=0, after=1)  # another process of the cgroup
    assert not killed_by_oom(137, before=None, after=None)  # cannot tell: not claimed


def test_this_machine_counts_oom_kills_or_says_it_cannot():
    count = oom_kills()
    assert count is None or count >= 0
