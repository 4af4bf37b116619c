"""The reads of `benchmarks/growth.py`, timed again on archives it kept, side by side.

`growth.py` times each read at its reporting week, minutes or an hour apart, and on the
2 shared cores a single median moves by up to 2x with the load of the moment. This
script takes archives of different ages (`growth.py --keep --weeks 10`, `--weeks 520`)
and times the same reads on each in turn, round after round, so that every archive meets
the same load; it reports each read's median over the rounds and its ratio from the
first archive to the last (the issue's 1.5x from week 10 to 520).

    .venv/bin/python benchmarks/growth_reads.py sqlite:////work/growth10/growth.sqlite \\
        sqlite:////work/growth520/growth.sqlite --rounds 7

One article is each archive's middle key, one tag the tag with the lowest id; the
archives are opened read-only where the reads allow it (the writer's state needs the
writer's engine, which writes nothing when only loading).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # the repository, not this folder: storage.py would shadow storage

from sqlalchemy import text  # noqa: E402

from benchmarks.growth import start_times, view_times  # noqa: E402
from storage import Archive  # noqa: E402


def probe_arguments(archive: Archive) -> tuple[str, str]:
    """The article and the tag the reads ask about (as growth.py picks them)."""
    with archive.engine.connect() as conn:
        keys = conn.scalars(text("SELECT article_key FROM articles ORDER BY article_key")).all()
        tag = conn.scalar(text("SELECT tag_id FROM tags WHERE tag_id IS NOT NULL ORDER BY id"))
    return keys[len(keys) // 2], tag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("urls", nargs="+", help="archives, youngest first")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    archives = [Archive.open(url) for url in args.urls]
    probes = [probe_arguments(archive) for archive in archives]
    times: list[dict[str, list[float]]] = [{} for _ in archives]
    try:
        for round_ in range(args.rounds):
            for index, (archive, (key, tag)) in enumerate(zip(archives, probes, strict=True)):
                for name, ms in {**view_times(archive, key, tag), **start_times(archive)}.items():
                    times[index].setdefault(name, []).append(ms)
            print(f"round {round_ + 1} of {args.rounds}", file=sys.stderr, flush=True)
    finally:
        for archive in archives:
            archive.close()
    medians = [{name: round(statistics.median(v), 2) for name, v in t.items()} for t in times]
    result: dict[str, Any] = {"archives": args.urls, "rounds": args.rounds, "medians_ms": medians}
    first, last = medians[0], medians[-1]
    result["ratios"] = {name: round(last[name] / first[name], 2) for name in first if first[name]}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
