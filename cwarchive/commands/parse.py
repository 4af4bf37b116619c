"""`cwarchive parse`: saved pages to records, offline."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from cwarchive.errors import CliError
from cwarchive.options import json_option
from cwarchive.output import emit_lines


def register(group: click.Group) -> None:
    group.add_command(parse)


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--url", help="The page's URL, when the file does not carry it (one FILE only).")
@json_option
def parse(files: tuple[str, ...], url: str | None, as_json: bool) -> None:
    """Parse saved pages (FILE is a path, `-` for stdin) into records.

    The page type (article or listing) is detected. With --json, one JSON object per
    FILE, one per line, in input order. A FILE that is not a page of the source gets an
    `error: FILE: why` line on stderr, and the exit status is 2.

    \b
    Examples:
      cwarchive parse saved.html --json
      curl -s URL | cwarchive parse - --url URL
      cwarchive parse pages/*.html --json > records.jsonl
    """
    if url and len(files) > 1:
        raise CliError(
            "--url applies to one FILE; the pages' own canonical links are used otherwise"
        )
    from crawler.parsers import PageError, parse_page

    failures: list[str] = []

    def records() -> Iterator[tuple[str, dict[str, Any]]]:
        for name in files:
            try:
                yield name, parse_page(_read(name), url)
            except (PageError, OSError) as error:
                failures.append(name)
                reason = error.reason if isinstance(error, PageError) else _os_reason(error)
                click.echo(f"error: {name}: {reason}", err=True)

    if as_json:
        emit_lines(record for _, record in records())
    else:
        for index, (name, record) in enumerate(records()):
            if index:
                click.echo()
            click.echo(summary(record, name))
    if failures:
        sys.exit(2)


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def _os_reason(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "no such file"
    if isinstance(error, IsADirectoryError):
        return "is a directory"
    return error.strerror or str(error)


def summary(record: dict[str, Any], name: str) -> str:
    """A readable summary of a record."""
    if record["page_type"] == "listing":
        lines = [
            f"{name}: {record['listing_kind']} listing",
            f"  url:           {record['url']}",
        ]
        if record["listing_tag_id"]:
            lines.append(f"  tag:           {record['listing_tag_id']}")
        lines += [
            f"  article links: {len(record['article_links'])}"
            f" ({len(record['cards'])} cards,"
            f" {sum(1 for c in record['cards'] if c['date'])} dated)",
            f"  archive links: {len(record['archive_links'])}",
            f"  next page:     {record['next_page'] or '-'}",
            f"  tag counts:    {len(record['tag_counts'])}",
        ]
        return "\n".join(lines)
    reviewers = ", ".join(r["name"] for r in record["reviewers"]) or "-"
    lines = [
        f"{name}: article",
        f"  title:       {record['title']}",
        f"  key:         {record['article_key']}",
        f"  authors:     {', '.join(record['authors']) or '-'}",
        f"  published:   {record['published']}"
        + (f" ({record['read_minutes']} minute read)" if record["read_minutes"] else ""),
        f"  reviewed:    {record['reviewed'] or '-'} by {reviewers}"
        if record["reviewed"]
        else "  reviewed:    -",
        f"  filed:       {record['filed_month'] or '-'}",
        f"  body:        {record['word_count']} words, {len(record['headings'])} headings,"
        f" {len(record['key_takeaways'])} key takeaways",
        f"  tag counts:  {len(record['tag_counts'])}",
        f"  hash:        {record['content_hash'][:16]}",
    ]
    return "\n".join(lines)
