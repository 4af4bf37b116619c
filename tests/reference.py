"""Where the shared reference material is (beside the clone on CI and here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REFERENCE = Path(
    os.environ.get(
        "CWARCHIVE_REFERENCE", Path(__file__).resolve().parents[1].parent / "shared" / "reference"
    )
)
INSOMNIA_PAGE = (
    REFERENCE / "pages" / "how-to-cope-with-insomnia-during-cancer-treatment.h00-159856134.html"
)
LANDING_PAGE = REFERENCE / "pages" / "cancerwise.html"


def reference_file(path: Path) -> Path:
    """The path, or a skip with a printed reason where the reference is absent."""
    if not path.exists():
        reason = f"reference material not found at {path} (set CWARCHIVE_REFERENCE)"
        print(reason)
        pytest.skip(reason)
    return path
