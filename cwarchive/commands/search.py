"""`cwarchive search`: full-text search over the current version of every article.

A thin shell over `storage.search` (docs/research.md): one question, printed as one
JSON array (`--json`) or as a table with the matches in bold.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import click

from cwarchive.archives import reading
from cwarchive.options import db_option, json_option
from cwarchive.output import Column, emit, table
from storage.vocabulary import SEARCH_FIELDS

if TYPE_CHECKING:
    from rich.console import Console


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(search)


@click.command()
@click.argument("text")
@click.option(
    "--field",
    type=click.Choice(SEARCH_FIELDS),
    default="all",
    show_default=True,
    help="Where the words must be: the title, the body text, or either (title matches first).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="At most this many articles.",
)
@db_option
@json_option
def search(text: str, field: str, limit: int, db_url: str, as_json: bool) -> None:
    """Find the articles whose current version holds every word of TEXT, best first.

    Words match their other forms (screening, screened, screen); quotes, operators and
    punctuation in TEXT are read as plain text. Only each article's current version is
    searched: a word an update removed no longer finds the article. `--json` prints an
    array of {article_key, title, url, snippet, rank}; the snippet marks the matches
    between « and », and a higher rank is a better match. The table numbers the hits
    best first and gives each one's relevance as a share of the best hit's score
    (100%); the raw scores only compare within one search.

    \b
    Examples:
      cwarchive search "breast cancer screening"
      cwarchive search insomnia --field title --limit 5 --json
    """
    from storage import search as searching

    with reading(db_url) as conn:
        results = searching.search(conn, text, field=field, limit=limit)

    best = results[0]["rank"] if results else 0.0
    places = {id(result): place for place, result in enumerate(results, start=1)}
    columns: dict[str, Column] = {
        "#": lambda r: places[id(r)],
        "relevance": lambda r: relevance(r["rank"], best),
        "article_key": lambda r: _plain(r["article_key"]),
        "title": lambda r: _plain(r["title"]),
        "snippet": lambda r: _marked(r["snippet"]),
    }

    def readable(console: Console) -> None:
        title = f"{len(results)} articles matching {text!r} in {field}"
        console.print(table(_plain(title), results, columns))

    emit(results, as_json, readable)


def relevance(score: float, best: float) -> str:
    """A hit's score as a share of the best hit's: `100%`, `62%`, `<1%`.

    The raw scores (bm25 on SQLite, ts_rank on PostgreSQL) mean nothing on their own
    and are often tiny (`1.89e-06` when a word is in most articles).
    """
    if best <= 0:
        return "-"
    share = round(100 * score / best)
    return f"{share}%" if share >= 1 else "<1%"


def _plain(value: Any) -> str:
    """Text shown as it is (a table cell reads `[...]` as rich markup otherwise)."""
    from rich.markup import escape

    return escape(str(value))


def _marked(snippet: str) -> str:
    """The snippet with its marked matches in bold (a lone « or » stays as it is)."""
    from storage.search import MARK_END, MARK_START

    match = re.compile(f"{MARK_START}([^{MARK_END}]*){MARK_END}")
    return match.sub(r"[bold]\1[/bold]", _plain(snippet))
