"""Dates as the site writes them, to ISO `YYYY-MM-DD`.

The site's own format (`June 08, 2026`, `February 3, 2025`) and ISO dates take a
regex fast path; anything else goes to dateparser, which is slow and so imported and
called only when the fast path fails.
"""

from __future__ import annotations

import datetime as dt
import re

MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
_MONTH_ALT = "|".join(MONTHS) + "|" + "|".join(name[:3] for name in MONTHS) + "|sept"

# A date as it appears inside running text, for the byline and review patterns.
DATE_IN_TEXT = (
    rf"(?:(?:{_MONTH_ALT})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}\s+(?:{_MONTH_ALT})\.?,?\s+\d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}/\d{{1,2}}/\d{{4}})"
)
_SITE_FORMAT = re.compile(
    rf"^(?P<month>{_MONTH_ALT})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})$",
    re.IGNORECASE,
)
_ISO_FORMAT = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?:[T ].*)?$")
DATE_ONLY = re.compile(rf"^{DATE_IN_TEXT}$", re.IGNORECASE)


def _month_number(name: str) -> int:
    key = name.lower().rstrip(".")
    if key == "sept":
        return 9
    for full, number in MONTHS.items():
        if full.startswith(key):
            return number
    raise ValueError(name)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(text: str | None) -> str | None:
    """ISO date of `text`, or None when it holds no date."""
    if not text:
        return None
    text = text.strip()
    match = _SITE_FORMAT.match(text)
    if match:
        return _iso(int(match["year"]), _month_number(match["month"]), int(match["day"]))
    match = _ISO_FORMAT.match(text)
    if match:
        return _iso(int(match["year"]), int(match["month"]), int(match["day"]))
    return _parse_with_dateparser(text)


def _parse_with_dateparser(text: str) -> str | None:
    if len(text) > 60 or not re.search(r"\d", text):
        return None  # not a date; dateparser would only burn time on it
    import dateparser  # slow to import; only reached off the site's own formats

    parsed = dateparser.parse(
        text, languages=["en"], settings={"STRICT_PARSING": True, "PREFER_DAY_OF_MONTH": "first"}
    )
    return parsed.date().isoformat() if parsed else None
