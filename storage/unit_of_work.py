"""The batched unit of work: rows built in memory, written in one transaction per batch.

Saves add rows to the current `Batch`; rows refer to rows not yet written through
`Ref`s, whose ids are filled in as `UnitOfWork.flush` inserts them in dependency
order with executemany statements (ids come back through `RETURNING`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, update

from storage import db, search
from storage.models import (
    Article,
    ArticleTag,
    Base,
    ListingHead,
    ListingLinks,
    ListingPage,
    Observation,
    ParseError,
    RawPage,
    Run,
    Sidebar,
    SidebarCount,
    Tag,
    Version,
    VersionReviewer,
)


class Ref:
    """A row id that exists once the row is flushed; rows refer to each other by it."""

    __slots__ = ("id",)

    def __init__(self, id: int | None = None) -> None:
        self.id = id


# An article's row as `ArticleState` reads it (both stores select these, in this order).
STATE_COLUMNS = (
    Article.id,
    Article.status,
    Article.removed_run_id,
    Article.current_version_id,
    Article.last_url,
    Article.etag,
    Article.last_modified,
)


@dataclass
class Sighting:
    """The article's latest range of sightings (an `observations` row of kind `seen`)."""

    id: int
    version_id: int | None
    url: str
    http_status: int | None
    first_run_id: int
    last_run_id: int


@dataclass
class ArticleState:
    """An article's row as the writer knows it: what a save decides from and updates."""

    ref: Ref
    status: str
    removed_run_id: int | None
    version: Ref | None
    content_hash: str | None
    max_number: int
    last_url: str
    etag: str | None
    last_modified: str | None
    # How the article was met in run `met_run` so far (`storage.rules`: a fetch is
    # ("fetched", URL, sha256 of its bytes), a sighting ("seen",), a 404 ("gone", URL)).
    met_run: int | None = None
    met: set[tuple[str, ...]] = field(default_factory=set)
    # Its latest range of sightings, when it ends in the run before this one or later:
    # a sighting of the same version at the same URL extends it (`storage.rules`).
    sighting: Sighting | None = None

    def met_in(self, run_id: int) -> set[tuple[str, ...]]:
        return self.met if self.met_run == run_id else set()

    def meet(self, run_id: int, mark: tuple[str, ...]) -> None:
        if self.met_run != run_id:
            self.met_run, self.met = run_id, set()
        self.met.add(mark)


# A range that reaches one run further: (table, its row's key, the run, columns that
# take new values with it: a listing page's latest validators).
Extension = tuple[str, dict[str, Any], int, dict[str, Any]]


@dataclass
class Batch:
    """Rows of the current batch, in the order they must be written."""

    raw_pages: list[tuple[Ref, dict[str, Any]]] = field(default_factory=list)
    tags: list[tuple[Ref, dict[str, Any]]] = field(default_factory=list)
    tag_id_adoptions: list[tuple[Ref, str]] = field(default_factory=list)
    sidebars: list[tuple[Ref, dict[str, Any]]] = field(default_factory=list)
    sidebar_counts: list[dict[str, Any]] = field(default_factory=list)
    articles: list[tuple[Ref, dict[str, Any]]] = field(default_factory=list)
    versions: list[tuple[Ref, dict[str, Any]]] = field(default_factory=list)
    reviewers: list[dict[str, Any]] = field(default_factory=list)
    # Articles whose row changes (new version, URL, validators, status); an unchanged
    # page fetched again only adds an observation.
    touched: dict[str, ArticleState] = field(default_factory=dict)
    observations: list[dict[str, Any]] = field(default_factory=list)
    listing_links: list[tuple[Ref, dict[str, Any]]] = field(default_factory=list)
    listing_pages: list[tuple[Ref, dict[str, Any]]] = field(default_factory=list)
    # Listing URL -> its new latest row (`listing_heads`).
    listing_heads: dict[str, Ref] = field(default_factory=dict)
    article_tags: list[dict[str, Any]] = field(default_factory=list)
    # Ranges that reach one run further, written after the inserts
    # (`storage.rules.continues`).
    extended: list[Extension] = field(default_factory=list)
    parse_errors: list[dict[str, Any]] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    saves: int = 0


def write_connection(engine: Engine) -> Connection:
    """A connection whose transactions take the write lock at BEGIN (see `db.WRITE`)."""
    return engine.connect().execution_options(**{db.WRITE: True})


class UnitOfWork:
    """The pending `Batch` of an archive and how it reaches the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.batch = Batch()

    def flush(self, run_id: int | None) -> None:
        """Write the pending batch in one transaction; its counters go to `run_id`.

        On an error the batch is lost as a whole: the caller must forget the ids and
        hashes it assumed.
        """
        batch = self.batch
        if not (batch.saves or batch.tags or batch.touched):
            return
        self.batch = Batch()
        with write_connection(self.engine) as conn, conn.begin():
            _write_batch(conn, batch, run_id)


def _write_batch(conn: Connection, p: Batch, run_id: int | None) -> None:
    _insert_distinct(conn, RawPage.__table__, p.raw_pages)
    _insert_returning(conn, Tag.__table__, p.tags)
    if p.tag_id_adoptions:
        conn.execute(
            update(Tag).where(Tag.id == bindparam("pk")).values(tag_id=bindparam("new_id")),
            [{"pk": ref.id, "new_id": tag_id} for ref, tag_id in p.tag_id_adoptions],
        )
    _insert_returning(conn, Sidebar.__table__, p.sidebars)
    _insert_many(conn, SidebarCount.__table__, p.sidebar_counts)
    _insert_returning(conn, Article.__table__, p.articles)
    _insert_returning(conn, Version.__table__, p.versions)
    # In this transaction: a version is never saved without being searchable.
    search.index_versions(conn, (ref.id for ref, _ in p.versions))
    _insert_many(conn, VersionReviewer.__table__, p.reviewers)
    if p.touched:
        articles = Article.__table__
        conn.execute(
            update(articles)
            .where(articles.c.id == bindparam("pk"))
            .values(
                status=bindparam("status"),
                removed_run_id=bindparam("removed"),
                current_version_id=bindparam("version"),
                last_url=bindparam("url"),
                etag=bindparam("etag_"),
                last_modified=bindparam("modified"),
            ),
            [
                {
                    "pk": s.ref.id,
                    "status": s.status,
                    "removed": s.removed_run_id,
                    "version": s.version.id if s.version else None,
                    "url": s.last_url,
                    "etag_": s.etag,
                    "modified": s.last_modified,
                }
                for s in p.touched.values()
            ],
        )
    _insert_many(conn, Observation.__table__, p.observations)
    _insert_distinct(conn, ListingLinks.__table__, p.listing_links)
    _insert_returning(conn, ListingPage.__table__, p.listing_pages)
    if p.listing_heads:
        move_heads(conn, {url: ref.id for url, ref in p.listing_heads.items()})
    _insert_many(conn, ArticleTag.__table__, p.article_tags)
    _insert_many(conn, ParseError.__table__, p.parse_errors)
    _extend_ranges(conn, p.extended)
    if p.counters and run_id is not None:
        runs = Run.__table__
        conn.execute(
            update(runs)
            .where(runs.c.id == run_id)
            .values({name: runs.c[name] + n for name, n in p.counters.items()})
        )


def move_heads(conn: Connection, heads: dict[str, Any]) -> None:
    """Each listing URL's latest row is now the one given (`listing_heads`)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = dialect_insert(ListingHead)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["url"],
            set_={"listing_page_id": statement.excluded.listing_page_id},
        ),
        [{"url": url, "listing_page_id": row_id} for url, row_id in sorted(heads.items())],
    )


# How a range's row is found, by table.
RANGE_KEYS: dict[str, tuple[str, ...]] = {
    "observations": ("id",),
    "listing_pages": ("id",),
    "article_tags": ("run_id", "tag_pk", "article_key"),
}


def extend_statement(table_name: str, carried: tuple[str, ...] = ()) -> Any:
    """UPDATE of one range's `last_run_id` (bound as `to_run`), found by `RANGE_KEYS`;
    `carried` columns take new values too (bound as `new_<column>`)."""
    table = Base.metadata.tables[table_name]
    where = [table.c[name] == bindparam(f"key_{name}") for name in RANGE_KEYS[table_name]]
    values = {"last_run_id": bindparam("to_run")}
    values.update({name: bindparam(f"new_{name}") for name in carried})
    return update(table).where(*where).values(values)


def extend_params(
    table_name: str, key: dict[str, Any], run_id: int, carried: dict[str, Any] | None = None
) -> dict[str, Any]:
    params = {f"key_{name}": key[name] for name in RANGE_KEYS[table_name]}
    params["to_run"] = run_id
    params.update({f"new_{name}": value for name, value in (carried or {}).items()})
    return params


def _extend_ranges(conn: Connection, extended: list[Extension]) -> None:
    by_statement: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    for table_name, key, run_id, carried in extended:
        names = tuple(sorted(carried))
        by_statement.setdefault((table_name, names), []).append(
            extend_params(table_name, key, run_id, carried)
        )
    for (table_name, names), params in by_statement.items():
        conn.execute(extend_statement(table_name, names), params)


def _insert_distinct(
    conn: Connection, table: Table | Any, rows: list[tuple[Ref, dict[str, Any]]]
) -> None:
    """The batch's raw pages or link lists (rows unique by `sha256`): one the archive
    holds already (older than what the writer loaded, `storage.identity`) takes that
    row's id, the others are inserted."""
    if not rows:
        return
    held: dict[str, int] = {}
    shas = [row["sha256"] for _, row in rows]
    for start in range(0, len(shas), 500):
        chunk = shas[start : start + 500]
        held.update(
            conn.execute(select(table.c.sha256, table.c.id).where(table.c.sha256.in_(chunk))).all()
        )
    new = []
    for ref, row in rows:
        if row["sha256"] in held:
            ref.id = held[row["sha256"]]
        else:
            new.append((ref, row))
    _insert_returning(conn, table, new)


def _resolve(row: dict[str, Any]) -> dict[str, Any]:
    """The row with every `Ref` replaced by the id it now holds."""
    return {k: (v.id if isinstance(v, Ref) else v) for k, v in row.items()}


def _insert_many(conn: Connection, table: Table | Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table), [_resolve(row) for row in rows])


def _insert_returning(
    conn: Connection, table: Table | Any, rows: list[tuple[Ref, dict[str, Any]]]
) -> None:
    """executemany INSERT whose generated ids land in the rows' refs, in order."""
    if not rows:
        return
    result = conn.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True),
        [_resolve(row) for _, row in rows],
    )
    for (ref, _), new_id in zip(rows, result.scalars(), strict=True):
        ref.id = new_id
