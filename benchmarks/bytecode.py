"""The checkout's packages byte-compiled before a benchmark starts `cwarchive` processes.

pip byte-compiles an installed wheel, and Python writes a checkout's `.pyc` files at
its first run; where `PYTHONDONTWRITEBYTECODE` is set (this machine sets it), it never
does, and every `cwarchive` process compiled the modules it imports from source
again (~60 ms of each start, as much as an unchanged re-crawl's sitemap decisions).
The benchmarks measure the code as installed, not the compiler: they call
`byte_compile` first.
"""

from __future__ import annotations

import compileall
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cwarchive", "crawler", "pipelines", "storage", "common")  # pyproject's packages


def byte_compile() -> None:
    """Write the `__pycache__` files of our packages (ignored by git), as a run would."""
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)
