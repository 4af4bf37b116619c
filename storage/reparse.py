"""Reparse: every stored article page re-extracted with a new parser, in a run of its own.

`Archive` inherits `reparse` from `Reparsing`; the pages come back from `raw_pages`
in chunks (oldest fetch first) and go through the archive's usual batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import zstandard
from sqlalchemy import Engine, select

from storage.models import Article, Observation, RawPage, Version
from storage.unit_of_work import Ref

if TYPE_CHECKING:
    from storage.archive import Archive

# Raw pages read per query: the whole history does not fit in memory.
CHUNK = 100


class Reparsing:
    """`Archive.reparse` and its helpers (mixed into `Archive`)."""

    def reparse(
        self: Archive,
        parse: Callable[[bytes, str], dict[str, Any]],
        parser_version: str,
        *,
        page_errors: tuple[type[Exception], ...] = (ValueError,),
        site_root: str = "",
    ) -> dict[str, int]:
        """Re-extract every stored article page with `parse`, in a run of mode `reparse`.

        A version is added (with `parser_version`) only where the new record's content
        differs from every version the article already has; the new version is linked
        to the raw page by a `reparsed` observation carrying the original fetch time.
        What the article's latest page now reads as becomes its current version.
        """
        run_id = self.start_run("reparse", site_root=site_root, parser_version=parser_version)
        summary = Counter(pages=0, versions_added=0, unchanged=0, errors=0)
        try:
            for page, raw in fetched_pages(self.engine):
                summary["pages"] += 1
                try:
                    record = parse(raw, page["url"])
                except page_errors as error:
                    reason = getattr(error, "reason", None) or str(error)
                    self.save_parse_error(run_id, page["url"], reason, raw, page["http_status"])
                    summary["errors"] += 1
                    continue
                if record.get("page_type") != "article":
                    reason = f"reparsed as a {record.get('page_type')} page"
                    self.save_parse_error(run_id, page["url"], reason, raw, page["http_status"])
                    summary["errors"] += 1
                    continue
                if record["content_hash"] in page["hashes"]:
                    if page["is_latest"]:
                        self._make_current(page["article_key"], record["content_hash"])
                    summary["unchanged"] += 1
                    continue
                page["hashes"].add(record["content_hash"])
                self._add_reparsed(run_id, page, record, raw)
                summary["versions_added"] += 1
        except BaseException:
            self.finish_run(run_id, "failed", pages_fetched=summary["pages"])
            raise
        self.finish_run(run_id, "completed", pages_fetched=0)
        return {"run": run_id, **summary}

    def _make_current(self: Archive, key: str, content_hash: str) -> None:
        """The article's latest page now reads as one of its known versions: point at it."""
        state = self._articles[key]
        if state.content_hash == content_hash:
            return
        self.flush()  # the version may be pending; this path is rare
        with self.engine.connect() as conn:
            version_id = conn.scalar(
                select(Version.id)
                .where(Version.article_id == state.ref.id, Version.content_hash == content_hash)
                .order_by(Version.number.desc())
                .limit(1)
            )
        state.version, state.content_hash = Ref(version_id), content_hash
        self._batch.touched[key] = state

    def _add_reparsed(
        self: Archive, run_id: int, page: dict[str, Any], record: dict[str, Any], raw: bytes
    ) -> None:
        state = self._articles[page["article_key"]]
        previous_version, previous_hash = state.version, state.content_hash
        self._add_version(run_id, state, record, self._parser_version)
        new_version = state.version
        if not page["is_latest"]:
            # An older page's new reading joins the history without becoming current.
            state.version, state.content_hash = previous_version, previous_hash
        batch = self._batch
        batch.touched[page["article_key"]] = state
        batch.observations.append(
            {
                "run_id": run_id,
                "article_id": state.ref,
                "kind": "reparsed",
                "version_id": new_version,
                "url": page["url"],
                "http_status": page["http_status"],
                "observed_at": page["observed_at"],
                "etag": None,
                "last_modified": None,
                "raw_page_id": self._identities.raw_ref(raw),
                "sidebar_id": None,
            }
        )
        batch.counters["articles_changed"] += 1
        self._saved()


def fetched_pages(engine: Engine) -> Iterator[tuple[dict[str, Any], bytes]]:
    """Each distinct (article, raw page) fetched, oldest first, with its bytes."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Observation.id,
                Observation.article_id,
                Observation.url,
                Observation.http_status,
                Observation.observed_at,
                Observation.raw_page_id,
                Article.article_key,
            )
            .join(Article, Article.id == Observation.article_id)
            .where(Observation.kind == "fetched", Observation.raw_page_id.is_not(None))
            .order_by(Observation.id)
        ).all()
        hashes: dict[int, set[str]] = {}
        for article_id, content_hash in conn.execute(
            select(Version.article_id, Version.content_hash)
        ):
            hashes.setdefault(article_id, set()).add(content_hash)
    latest: dict[int, int] = {}
    for row in rows:
        latest[row.article_id] = row.raw_page_id
    seen: set[tuple[int, int]] = set()
    pages = []
    for row in rows:
        if (row.article_id, row.raw_page_id) in seen:
            continue
        seen.add((row.article_id, row.raw_page_id))
        pages.append(
            {
                **row._asdict(),
                "hashes": hashes.setdefault(row.article_id, set()),
                "is_latest": latest[row.article_id] == row.raw_page_id,
            }
        )
    decompressor = zstandard.ZstdDecompressor()
    for start in range(0, len(pages), CHUNK):
        chunk = pages[start : start + CHUNK]
        ids = {page["raw_page_id"] for page in chunk}
        with engine.connect() as conn:
            data = {
                row.id: row.data
                for row in conn.execute(select(RawPage.id, RawPage.data).where(RawPage.id.in_(ids)))
            }
        for page in chunk:
            yield page, decompressor.decompress(data[page["raw_page_id"]])
