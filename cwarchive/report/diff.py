"""A side-by-side diff of two body texts as an HTML table, paragraph by paragraph.

Built from `difflib.SequenceMatcher` rather than `difflib.HtmlDiff`: HtmlDiff writes
fixed-width, `nowrap` columns and page-wide anchor ids, which read badly on a phone and
collide when one page holds several diffs. Here a body is a list of paragraphs; a
changed paragraph is compared word by word, so a one-word edit in a long paragraph
shows as that word. Every piece of text goes through `markup.escape`.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from itertools import zip_longest

from cwarchive.report.markup import Markup, element, escape, join

# Unchanged paragraphs shown around a change; longer unchanged stretches fold.
CONTEXT = 1
# Below this share of matching words, two paragraphs are shown as one removed and one
# added whole.
SIMILAR = 0.4
# A word with the spaces after it (or a run of punctuation, or leading space): spaces
# as tokens of their own would match everywhere, making unrelated paragraphs look
# alike and the comparison several times slower.
_TOKENS = re.compile(r"\w+\s*|[^\w\s]+\s*|\s+")


def paragraphs(text: str) -> list[str]:
    """The non-empty lines of a body text (its blocks are separated by newlines)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def word_diff(old: str, new: str, *, similar: float = 0.0) -> tuple[Markup, Markup] | None:
    """The two texts with the removed words in `<del>` and the added in `<ins>`; None
    when less than `similar` of their words match (a word diff of unrelated text is
    noise)."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    # The quick upper bounds first: unrelated paragraphs are common in a rewrite, and
    # the full comparison is quadratic in their length.
    if similar and (
        matcher.real_quick_ratio() < similar
        or matcher.quick_ratio() < similar
        or matcher.ratio() < similar
    ):
        return None
    left: list[Markup] = []
    right: list[Markup] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            left.append(escape(removed))
            right.append(escape(added))
            continue
        if removed:
            left.append(element("del", removed))
        if added:
            right.append(element("ins", added))
    return join(left), join(right)


def _row(kind: str, left: Markup | str | None, right: Markup | str | None) -> Markup:
    return element(
        "tr",
        element("td", left, class_=f"before {kind}" if left is not None else "empty"),
        element("td", right, class_=f"after {kind}" if right is not None else "empty"),
    )


def _folded(count: int) -> Markup:
    noun = "paragraph" if count == 1 else "paragraphs"
    return element("tr", element("td", f"… {count} unchanged {noun} …", colspan=2, class_="fold"))


def diff_rows(old: str, new: str, *, context: int = CONTEXT) -> list[Markup]:
    """The table rows of the diff; an empty list when the texts are equal."""
    a, b = paragraphs(old), paragraphs(new)
    if a == b:
        return []
    rows: list[Markup] = []
    opcodes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            same = a[i1:i2]
            # Context after the change before, and before the change after.
            head = context if index > 0 else 0
            tail = context if index < len(opcodes) - 1 else 0
            if len(same) > head + tail + 1:
                rows += [_row("same", p, p) for p in same[:head]]
                rows.append(_folded(len(same) - head - tail))
                rows += [_row("same", p, p) for p in same[len(same) - tail :]]
            else:
                rows += [_row("same", p, p) for p in same]
            continue
        for removed, added in zip_longest(a[i1:i2], b[j1:j2]):
            if removed is not None and added is not None:
                words = word_diff(removed, added, similar=SIMILAR)
                if words is not None:
                    rows.append(_row("changed", *words))
                    continue
                rows.append(_row("removed", element("del", removed), None))
                rows.append(_row("added", None, element("ins", added)))
            elif removed is not None:
                rows.append(_row("removed", element("del", removed), None))
            else:
                rows.append(_row("added", None, element("ins", added)))
    return rows


def diff_table(old: str, new: str, old_heading: str, new_heading: str) -> Markup | None:
    """The side-by-side table, or None when the body texts are equal."""
    rows = diff_rows(old, new)
    if not rows:
        return None
    return element(
        "div",
        element(
            "table",
            element("colgroup", element("col"), element("col")),
            element(
                "thead",
                element("tr", element("th", old_heading), element("th", new_heading)),
            ),
            element("tbody", rows),
            class_="diff",
        ),
        class_="scroll",
    )
