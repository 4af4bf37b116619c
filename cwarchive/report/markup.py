"""HTML built from small functions, every text escaped by `html.escape` on its way in.

`Markup` marks a string that is already HTML; anything else given to `element` is text
and gets escaped, so a title, a reviewer's name or a body paragraph can never become
markup, whatever it holds. No template engine: the pages are a few fixed shapes.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Union

Child = Union["Markup", str, int, None, Iterable["Child"]]


class Markup(str):
    """A string that is HTML already: inserted as it is."""

    __slots__ = ()


def escape(value: object) -> Markup:
    """`value` as HTML text (quotes too: the same function serves attribute values)."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=True))


def join(children: Iterable[Child]) -> Markup:
    """The children as one piece of HTML: text escaped, `None` left out, lists flattened."""
    parts: list[str] = []
    for child in children:
        if child is None:
            continue
        if isinstance(child, str | int):
            parts.append(escape(child))
        else:
            parts.append(join(child))
    return Markup("".join(parts))


def element(tag: str, *children: Child, **attrs: object) -> Markup:
    """`<tag attrs>children</tag>`; `class_` is `class`, `data_x` is `data-x`; an
    attribute of `None` or `False` is left out, `True` is written bare."""
    opening = [tag]
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        name = name.rstrip("_").replace("_", "-")
        opening.append(name if value is True else f'{name}="{escape(value)}"')
    head = f"<{' '.join(opening)}>"
    if tag in VOID:
        return Markup(head)
    return Markup(f"{head}{join(children)}</{tag}>")


# Elements that have no content and no end tag.
VOID = frozenset({"meta", "link", "img", "br", "hr", "col", "input"})


def document(title: str, head: Iterable[Child], body: Iterable[Child]) -> str:
    """A whole page: the doctype, `<head>` with charset, viewport and title, `<body>`."""
    return (
        "<!DOCTYPE html>\n"
        + element(
            "html",
            element(
                "head",
                element("meta", charset="utf-8"),
                # Without it a phone lays the page out 980 px wide and zooms out, and
                # the one-column media query never applies.
                element("meta", name="viewport", content="width=device-width, initial-scale=1"),
                element("meta", name="generator", content=GENERATOR),
                element("title", title),
                head,
            ),
            element("body", body),
            lang="en",
        )
        + "\n"
    )


# Marks a directory `cwarchive report` wrote, so a second report may replace it.
GENERATOR = "cwarchive report"
