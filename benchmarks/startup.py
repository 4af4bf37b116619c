"""Start-up benchmark: how long a command takes before and around its work.

    .venv/bin/python benchmarks/startup.py              # 21 runs of each, medians
    .venv/bin/python benchmarks/startup.py --runs 51 --json

Each command runs in a fresh process, one after the other, `--runs` times in turns
(so a burst of load on a shared machine hits every command alike), and its median
wall time is reported beside two baselines measured in the same run:

  python -c pass                     the interpreter alone
  python -c "import lxml.etree"      the floor: `parse` cannot start without lxml

  cwarchive --help                   the console script next to sys.executable
  cwarchive parse PAGE --json        one page parsed and printed: the reference page
                                     (../shared/reference/pages/...) when present,
                                     else fixtures/pages/cytokine-storm.html

For each, the difference to the floor. Goal: both commands within 0.15 s of it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # the repository, for benchmarks.bytecode

from benchmarks.bytecode import byte_compile  # noqa: E402

REFERENCE_PAGE = (
    ROOT.parent
    / "shared"
    / "reference"
    / "pages"
    / "how-to-cope-with-insomnia-during-cancer-treatment.h00-159856134.html"
)
FIXTURE_PAGE = ROOT / "fixtures" / "pages" / "cytokine-storm.html"
GOAL_SECONDS = 0.15
FLOOR = "import lxml.etree"


def commands(page: Path) -> dict[str, list[str]]:
    # The console script, not `python -m cwarchive`: what a user types, with the
    # entry point's own import of `cwarchive.cli`.
    script = str(Path(sys.executable).with_name("cwarchive"))
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        f'python -c "{FLOOR}" (floor)': [sys.executable, "-c", FLOOR],
        "cwarchive --help": [script, "--help"],
        "cwarchive parse PAGE --json": [script, "parse", str(page), "--json"],
    }


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def measure(runs: int, page: Path) -> dict[str, Any]:
    named = commands(page)
    byte_compile()
    for command in named.values():
        wall(command)  # warm the page cache: not what is measured
    times: dict[str, list[float]] = {name: [] for name in named}
    for _ in range(runs):
        for name, command in named.items():
            times[name].append(wall(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians[f'python -c "{FLOOR}" (floor)']
    rows = [
        {
            "command": name,
            "median_s": round(median, 3),
            "min_s": round(min(times[name]), 3),
            "max_s": round(max(times[name]), 3),
            "over_floor_s": round(median - floor, 3),
        }
        for name, median in medians.items()
    ]
    over = {row["command"]: row["over_floor_s"] for row in rows}
    return {
        "runs": runs,
        "page": str(page.relative_to(ROOT.parent) if page.is_relative_to(ROOT.parent) else page),
        "python": sys.version.split()[0],
        "measures": rows,
        "goals": {
            f"help_within_{GOAL_SECONDS}s_of_floor": over["cwarchive --help"] <= GOAL_SECONDS,
            f"parse_within_{GOAL_SECONDS}s_of_floor": (
                over["cwarchive parse PAGE --json"] <= GOAL_SECONDS
            ),
        },
    }


def print_table(result: dict[str, Any]) -> None:
    print(f"{result['runs']} runs each, page {result['page']}, Python {result['python']}")
    print(f"{'command':38} {'median s':>9} {'min s':>7} {'max s':>7} {'- floor s':>10}")
    for row in result["measures"]:
        print(
            f"{row['command']:38} {row['median_s']:>9.3f} {row['min_s']:>7.3f} "
            f"{row['max_s']:>7.3f} {row['over_floor_s']:>+10.3f}"
        )
    for name, value in result["goals"].items():
        print(f"{name}: {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each command")
    parser.add_argument("--page", type=Path, help="the page `parse` reads")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    options = parser.parse_args()
    page = options.page or (REFERENCE_PAGE if REFERENCE_PAGE.exists() else FIXTURE_PAGE)
    result = measure(options.runs, page.resolve())
    if options.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
