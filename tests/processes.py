"""Process trees from /proc (Linux): what a command started, and whether it outlived it."""

from __future__ import annotations

import time
from pathlib import Path


def process_table() -> dict[int, list[str]]:
    """Every process's /proc/PID/stat fields after the command name (index 0 is field 3,
    the state; 1 the parent; 11, 12 user and system ticks; 21 resident pages)."""
    table: dict[int, list[str]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name (2nd field) may hold spaces: the rest follows its ")".
            table[int(stat.parent.name)] = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while being read
    return table


def descendants(pid: int, table: dict[int, list[str]] | None = None) -> set[int]:
    """The processes under `pid` (a pool's workers, a fork server and its children)."""
    parents = {child: int(fields[1]) for child, fields in (table or process_table()).items()}
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def still_running_after(pids: set[int], seconds: float) -> set[int]:
    """Which of `pids` are still running after `seconds` (zombies count as gone)."""
    deadline = time.monotonic() + seconds
    while True:
        alive = set()
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.add(pid)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)
