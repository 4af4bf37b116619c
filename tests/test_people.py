"""Splitting people, not degrees."""

from __future__ import annotations

import pytest

from crawler.parsers.dates import parse_date
from crawler.parsers.people import split_people


@pytest.mark.parametrize(
    ("text", "people"),
    [
        ("Pamela Schlembach, M.D.,", ["Pamela Schlembach, M.D."]),
        (
            "Pamela Schlembach, M.D., and David Richards, M.D., Ph.D.",
            ["Pamela Schlembach, M.D.", "David Richards, M.D., Ph.D."],
        ),
        (
            "Jane Roe, MD, PhD, John Doe, R.N. and Ann Lee",
            ["Jane Roe, MD, PhD", "John Doe, R.N.", "Ann Lee"],
        ),
        (
            "Karen Basen-Engquist, Ph.D. & Oscar Ruiz, Ph.D.",
            ["Karen Basen-Engquist, Ph.D.", "Oscar Ruiz, Ph.D."],
        ),
        (
            "an MD Anderson Cancer Center medical professional",
            ["an MD Anderson Cancer Center medical professional"],
        ),
        ("Gina Van Thomme", ["Gina Van Thomme"]),
        ("Roman Gokhman and Cynthia DeMarco", ["Roman Gokhman", "Cynthia DeMarco"]),
        ("Ana Aparicio, M.D., APRN, MSN", ["Ana Aparicio, M.D., APRN, MSN"]),
    ],
)
def test_split_people(text: str, people: list[str]) -> None:
    assert split_people(text) == people


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("June 08, 2026", "2026-06-08"),
        ("February 3, 2025", "2025-02-03"),
        ("October 11, 2016", "2016-10-11"),
        ("Sept. 9, 2019", "2019-09-09"),
        ("2026-06-08", "2026-06-08"),
        ("2026-06-08T10:00:00Z", "2026-06-08"),
        ("8 June 2026", "2026-06-08"),  # dateparser: off the fast path
        ("February 30, 2025", None),
        ("no date here", None),
        ("", None),
    ],
)
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso
