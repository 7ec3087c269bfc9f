"""The load test's server process: the copy of the tree it runs from, and its CPU and memory read from /proc."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

from tools.browser import REPO_ROOT

CLK_TCK = os.sysconf("SC_CLK_TCK")


def snapshot_tree(destination: Path) -> Path:
    """Copy the working tree (the files git tracks, and the untracked ones it does not ignore) to
    `destination`: the server runs from there, so edits made while the benchmark runs cannot
    break or change it halfway (page scripts are read again on every run)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    for name in filter(None, listed.split(b"\0")):
        source = REPO_ROOT / os.fsdecode(name)
        if source.is_file():
            target = destination / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """utime + stime of a process (its finished threads included), or of one of its threads."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Task(NamedTuple):
    """Where a training job runs: a child process of the server (tid None), or one of its threads."""

    pid: int
    tid: int | None


def task_cpu(server_pid: int) -> dict[Task, float]:
    """CPU seconds of each thread of the server and of each of its child processes."""
    tasks = {
        Task(server_pid, int(tid)): cpu_seconds(server_pid, int(tid)) for tid in os.listdir(f"/proc/{server_pid}/task")
    }
    for tid in os.listdir(f"/proc/{server_pid}/task"):
        with contextlib.suppress(FileNotFoundError):
            for child in Path(f"/proc/{server_pid}/task/{tid}/children").read_text().split():
                tasks[Task(int(child), None)] = cpu_seconds(int(child))
    return tasks


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
