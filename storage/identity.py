"""Identity lookups of raw pages, sidebars, listing links and tags, answered from memory.

Each is stored once: a raw page per sha256 of its bytes, a sidebar per sha256 of its
counts, a listing page's links per sha256 of their canonical JSON, a tag per `tag_id`
(or per label, for a tag seen without an id). The maps are loaded with the run's state
(of the raw pages and the link lists, the current ones); a lookup that misses adds the
new row to the current batch and remembers its `Ref`, so the hot path never asks the
database.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import zstandard
from sqlalchemy import Connection, select

from storage.models import ListingLinks, RawPage, Sidebar, Tag, TagLabel
from storage.unit_of_work import Ref, UnitOfWork

ZSTD_LEVEL = 3  # level 3 already stores these pages at ~1/7; higher levels cost far more CPU


def canonical_json(value: Any) -> bytes:
    """The one serialisation a sidebar's and a link list's sha256 are taken of."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def links_row(links: dict[str, Any]) -> dict[str, Any]:
    """The `listing_links` row of a listing page's links: every writer's, and what
    `db check` hashes again (migration 0010 carries its own copy of the rule)."""
    return {"sha256": hashlib.sha256(canonical_json(links)).hexdigest(), "links": links}


class IdentityMap:
    """Raw pages, sidebars, link lists and tags already stored (or pending), by what
    identifies them."""

    def __init__(self, work: UnitOfWork) -> None:
        self._work = work
        self._compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self._raw_pages: dict[str, Ref] = {}
        self._sidebars: dict[str, Ref] = {}
        self._links: dict[str, Ref] = {}
        self._tags_by_id: dict[str, Ref] = {}
        self._tags_by_label: dict[str, Ref] = {}
        self._label_only: dict[str, Ref] = {}

    def load(self, conn: Connection, raw_page_ids: Any, links_ids: Any) -> None:
        """Replace the maps with what the database holds; of the raw pages and the link
        lists, those of `raw_page_ids` and `links_ids` (selects of ids): what a crawl may
        read again. Another page or list the archive holds is found when its batch is
        written (one query a batch, `unit_of_work`), so a run's start reads as many rows
        as the site has pages, not every page it ever had."""
        self._raw_pages = {
            sha: Ref(id)
            for id, sha in conn.execute(
                select(RawPage.id, RawPage.sha256).where(RawPage.id.in_(raw_page_ids))
            )
        }
        self._links = {
            sha: Ref(id)
            for id, sha in conn.execute(
                select(ListingLinks.id, ListingLinks.sha256).where(ListingLinks.id.in_(links_ids))
            )
        }
        self._sidebars = {
            sha: Ref(id) for id, sha in conn.execute(select(Sidebar.id, Sidebar.sha256))
        }
        tags = conn.execute(select(Tag.id, Tag.tag_id, Tag.label)).all()
        history = conn.execute(select(TagLabel.tag_pk, TagLabel.label)).all()
        refs = {row.id: Ref(row.id) for row in tags}
        self._tags_by_id = {row.tag_id: refs[row.id] for row in tags if row.tag_id}
        self._label_only = {row.label: refs[row.id] for row in tags if not row.tag_id}
        # A label seen on a tag with an id resolves to that tag (the seed gave labels only).
        self._tags_by_label = dict(self._label_only)
        with_id = {row.id for row in tags if row.tag_id}
        for tag_pk, label in history:
            if tag_pk in with_id:
                self._tags_by_label[label] = refs[tag_pk]
        for row in tags:
            if row.tag_id and row.label:
                self._tags_by_label.setdefault(row.label, refs[row.id])

    def raw_ref(self, raw: bytes, sha256: str | None = None) -> Ref:
        """The raw page with these bytes (`sha256` when known), stored compressed if new."""
        sha = sha256 or hashlib.sha256(raw).hexdigest()
        ref = self._raw_pages.get(sha)
        if ref is None:
            ref = self._raw_pages[sha] = Ref()
            self._work.batch.raw_pages.append(
                (
                    ref,
                    {
                        "sha256": sha,
                        "size": len(raw),
                        "compression": "zstd",
                        "data": self._compressor.compress(raw),
                    },
                )
            )
        return ref

    def links_ref(self, links: dict[str, Any]) -> Ref:
        """The stored list of these links (a listing page's `LISTING_LINKS`)."""
        row = links_row(links)
        ref = self._links.get(row["sha256"])
        if ref is None:
            ref = self._links[row["sha256"]] = Ref()
            self._work.batch.listing_links.append((ref, row))
        return ref

    def sidebar_ref(self, tag_counts: list[dict[str, Any]]) -> Ref | None:
        """The sidebar showing these counts (None for a page without one)."""
        if not tag_counts:
            return None
        sha = hashlib.sha256(canonical_json(tag_counts)).hexdigest()
        ref = self._sidebars.get(sha)
        if ref is None:
            batch = self._work.batch
            ref = self._sidebars[sha] = Ref()
            batch.sidebars.append((ref, {"sha256": sha}))
            batch.sidebar_counts.extend(
                {
                    "sidebar_id": ref,
                    "position": position,
                    "tag_pk": self.tag_ref(t.get("tag_id"), t["label"], t.get("group")),
                    "label": t["label"],
                    "group": t.get("group"),
                    "count": t["count"],
                }
                for position, t in enumerate(tag_counts)
            )
        return ref

    def tag_ref(self, tag_id: str | None, label: str | None, group: str | None) -> Ref:
        """The tag with this id, or, without one, the tag that carried this label."""
        if tag_id:
            ref = self._tags_by_id.get(tag_id)
            if ref is None:
                ref = self._label_only.pop(label, None) if label else None
                if ref is not None:
                    # A tag known by its label only now shows its id: same tag.
                    self._work.batch.tag_id_adoptions.append((ref, tag_id))
                else:
                    ref = self._new_tag(tag_id, label, group)
                self._tags_by_id[tag_id] = ref
            if label:
                self._tags_by_label[label] = ref
            return ref
        assert label, "a tag needs an id or a label"
        ref = self._tags_by_label.get(label)
        if ref is None:
            ref = self._label_only[label] = self._tags_by_label[label] = self._new_tag(
                None, label, group
            )
        return ref

    def _new_tag(self, tag_id: str | None, label: str | None, group: str | None) -> Ref:
        ref = Ref()
        self._work.batch.tags.append((ref, {"tag_id": tag_id, "label": label, "group": group}))
        return ref
