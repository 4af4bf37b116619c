"""`db check`'s checks of what is stored by its sha256: each raw page decompresses to
its size and sha256, and with `--deep` re-parses to content some version holds; each
list of a listing page's links hashes to its sha256 (`storage.check`)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import zstandard
from sqlalchemy import Connection, select

from common.record import NON_CONTENT_FIELDS, content_hash
from storage.identity import links_row
from storage.models import Article, ListingLinks, Observation, RawPage, Version
from storage.models import version_record as stored_record

# Raw pages read per query: ~25 KB compressed and ~100 KB of HTML each.
RAW_CHUNK = 100
# Link lists read per query: ~1.2 KB of JSON each.
LINKS_CHUNK = 1000
# Versions read per query (body text included).
VERSION_CHUNK = 500
# Read a raw page's decompressed bytes this much at a time (flat memory on any page).
READ_SIZE = 1 << 16

Parse = Callable[[bytes, str], dict[str, Any]]


def chunks(conn: Connection, query: Any, id_column: Any, size: int) -> Iterator[list[Any]]:
    """The rows of `query` in chunks of `size`, by ascending id (keyset pagination)."""
    last: int | None = None
    while True:
        page = query if last is None else query.where(id_column > last)
        rows = conn.execute(page.order_by(id_column).limit(size)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def version_record(row: Any, article_key: str) -> dict[str, Any]:
    """The record a version was stored from, by the hash rule of the parser that made it."""
    return stored_record(row, article_key, getattr(row, "parser_version", None))


class PageChecks:
    """The raw page checks of `storage.check._Checker`."""

    conn: Connection
    add: Callable[..., None]  # `_Checker.add(kind, message, *ids, warning=False)`
    parse: Parse | None
    page_errors: tuple[type[Exception], ...]

    # -- raw pages -------------------------------------------------------------------

    def raw_pages(self) -> None:
        """Each raw page decompresses to `size` bytes hashing to `sha256`; `--deep` re-parses."""
        decompressor = zstandard.ZstdDecompressor()
        query = select(RawPage.id, RawPage.sha256, RawPage.size, RawPage.compression, RawPage.data)
        for rows in chunks(self.conn, query, RawPage.id, RAW_CHUNK):
            pages: dict[int, bytes] = {}
            for row in rows:
                raw = self._raw_page(decompressor, row)
                if raw is not None:
                    pages[row.id] = raw
            if self.parse is not None and pages:
                self.reparse_pages(pages)

    def _raw_page(self, decompressor: zstandard.ZstdDecompressor, row: Any) -> bytes | None:
        """The page's bytes when they are sound (kept for `--deep`), else None."""
        ids = ("raw_pages.id", row.id)
        if row.compression != "zstd":
            self.add("raw_page_data", f"unknown compression {row.compression!r}", ids)
            return None
        # Streamed with a cap: a damaged frame header may claim any size.
        digest, size, parts = hashlib.sha256(), 0, []
        try:
            with decompressor.stream_reader(row.data) as reader:
                while size <= row.size and (part := reader.read(READ_SIZE)):
                    digest.update(part)
                    size += len(part)
                    if self.parse is not None:  # kept for the re-parse only
                        parts.append(part)
        except zstandard.ZstdError as error:
            self.add("raw_page_data", f"does not decompress: {error}", ids)
            return None
        if size != row.size:
            shown = f"more than {row.size}" if size > row.size else str(size)
            self.add("raw_page_size", f"decompresses to {shown} bytes, not {row.size}", ids)
            return None
        if digest.hexdigest() != row.sha256:
            self.add(
                "raw_page_hash",
                f"bytes hash to {digest.hexdigest()[:16]}…, not {row.sha256[:16]}…",
                ids,
            )
            return None
        return b"".join(parts)

    # -- listing links ---------------------------------------------------------------

    def listing_links(self) -> None:
        """Each stored list of a listing page's links hashes (its canonical JSON, as the
        writer took it: `storage.identity.links_row`) to its `sha256`."""
        query = select(ListingLinks.id, ListingLinks.sha256, ListingLinks.links)
        for rows in chunks(self.conn, query, ListingLinks.id, LINKS_CHUNK):
            for row in rows:
                sha = links_row(row.links)["sha256"]
                if sha != row.sha256:
                    self.add(
                        "listing_links_hash",
                        f"links hash to {sha[:16]}…, not {row.sha256[:16]}…",
                        ("listing_links.id", row.id),
                    )

    def reparse_pages(self, pages: dict[int, bytes]) -> None:
        """`--deep`: each article page of the chunk parses to one of its article's versions."""
        assert self.parse is not None
        # The (raw page, article) pairs a fetch stored, with the URL of the first fetch
        # (what `reparse` parses with) and the versions the page was read as.
        first_url: dict[tuple[int, int], str] = {}
        read_as: dict[tuple[int, int], list[int]] = defaultdict(list)
        query = (
            select(
                Observation.raw_page_id,
                Observation.article_id,
                Observation.url,
                Observation.kind,
                Observation.version_id,
            )
            .where(
                Observation.raw_page_id.in_(list(pages)),
                Observation.kind.in_(("fetched", "reparsed")),
            )
            .order_by(Observation.id)
        )
        for raw_id, article_id, url, kind, version_id in self.conn.execute(query):
            if kind == "fetched":
                first_url.setdefault((raw_id, article_id), url)
            if version_id is not None:
                read_as[(raw_id, article_id)].append(version_id)
        if not first_url:
            return
        article_ids = {article_id for _, article_id in first_url}
        hashes: dict[int, set[str]] = defaultdict(set)
        numbers: dict[int, int] = {}
        for version_id, article_id, number, version_hash in self.conn.execute(
            select(Version.id, Version.article_id, Version.number, Version.content_hash).where(
                Version.article_id.in_(article_ids)
            )
        ):
            hashes[article_id].add(version_hash)
            numbers[version_id] = number
        keys = dict(
            self.conn.execute(
                select(Article.id, Article.article_key).where(Article.id.in_(article_ids))
            ).all()
        )
        for (raw_id, article_id), url in sorted(first_url.items()):
            key = keys.get(article_id, f"article {article_id}")
            ids = (("articles.id", article_id), ("raw_pages.id", raw_id))
            try:
                record = self.parse(pages[raw_id], url)
            except self.page_errors as error:
                reason = getattr(error, "reason", None) or str(error)
                self.add(
                    "parser_drift",
                    f"{key}: raw page {raw_id} no longer parses: {reason}",
                    *ids,
                    warning=True,
                )
                continue
            if record.get("page_type") != "article":
                self.add(
                    "parser_drift",
                    f"{key}: raw page {raw_id} now parses as a {record.get('page_type')} page",
                    *ids,
                    warning=True,
                )
                continue
            # The hash of what the parser returned, not the hash it claims.
            if content_hash(record) in hashes[article_id]:
                continue
            linked = [v for v in read_as.get((raw_id, article_id), []) if v in numbers]
            if not linked:
                self.add(
                    "parser_drift",
                    f"{key}: raw page {raw_id} parses to content no version holds",
                    *ids,
                    warning=True,
                )
                continue
            version_id = max(linked, key=numbers.__getitem__)
            fields = self._differing_fields(record, version_id, key)
            self.add(
                "parser_drift",
                f"{key}: raw page {raw_id} now parses differently from version "
                f"{numbers[version_id]} (versions.id {version_id}): {', '.join(fields)}",
                *ids,
                ("versions.id", version_id),
                warning=True,
            )

    def _differing_fields(self, record: dict[str, Any], version_id: int, key: str) -> list[str]:
        row = self.conn.execute(select(Version).where(Version.id == version_id)).one()
        stored = version_record(row, key)
        names = sorted(set(stored) | {k for k in record if k not in NON_CONTENT_FIELDS})
        return [name for name in names if stored.get(name) != record.get(name)] or [
            "(no field: the hash differs)"
        ]
