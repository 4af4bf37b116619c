"""People in a byline or a review line: split people, not their degrees.

`Pamela Schlembach, M.D., and David Richards, M.D., Ph.D.` is two people; the commas
before `M.D.` and `Ph.D.` belong to the names.
"""

from __future__ import annotations

import re

from common.record import Reviewer
from crawler.parsers.blocks import collapse

_SEPARATORS = re.compile(r"\s*(?:,|;|&|\band\b)\s*", re.IGNORECASE)
# A credential token: letters with dots (M.D., Ph.D., Pharm.D., Jr.), or a short
# all-caps abbreviation (MD, PhD, RN, MSN, APRN, FACS, MPH), possibly hyphenated (PA-C).
_DEGREE = re.compile(
    r"^(?:(?:[A-Za-z]{1,5}\.){1,4}(?:-?[A-Z])?|[A-Z][A-Za-z]{0,1}[A-Z]{1,4}(?:-[A-Z]{1,2})?|Ph\.?D|Jr|Sr|II|III|IV)$"
)


def is_degree(token: str) -> bool:
    return bool(_DEGREE.match(token.strip()))


def clean_name(name: str) -> str:
    """Whitespace collapsed, trailing commas (and stray separators) removed."""
    return collapse(name).strip(" ,;")


def add_people(people: list[Reviewer], text: str) -> None:
    """Append the people named in plain `text` (url None) to `people`.

    A leading degree joins the person before it, who may be a linked name
    (`<a>Jane Roe</a>, M.D.`).
    """
    for token in _SEPARATORS.split(collapse(text)):
        token = token.strip()
        if not token:
            continue
        if people and is_degree(token):
            people[-1]["name"] += ", " + token
        else:
            people.append({"name": token, "url": None})


def split_people(text: str) -> list[str]:
    """Names in `text`, each with its degrees: `A, M.D., B and C` -> [`A, M.D.`, `B`, `C`]."""
    people: list[Reviewer] = []
    add_people(people, text)
    return [person["name"] for person in people]
