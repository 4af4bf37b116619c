"""Read-only verification of an archive, like `git fsck` (`cwarchive db check`).

`verify_archive` reads the whole archive in one read-only transaction (a `snapshot`
reader, `storage.opening`: SQLite's read transaction, PostgreSQL's `REPEATABLE READ`
read-only), so a crawl writing at the same time is seen as one consistent snapshot,
and returns what it found wrong as `Problem`s. Every rule is something the writer
(`storage.archive`, `storage.unit_of_work`, `storage.reparse`) guarantees;
docs/storage.md ("Verifying an archive") lists them and the rules the check cannot
make.

Raw pages and versions are read in chunks by id, so memory stays flat however big
the archive. With `parse` (the CLI passes `crawler.parsers.parse_page`: storage may
not import the parsers) every stored article page is also re-parsed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, exists, func, select

from common.record import FORMER_CONTENT_FIELDS, content_hash
from storage.check_pages import VERSION_CHUNK, PageChecks, Parse, chunks, version_record
from storage.check_runs import RunChecks
from storage.models import (
    Article,
    Base,
    Observation,
    Run,
    Version,
    VersionReviewer,
)
from storage.models import version_record as stored_record
from storage.opening import Reader

ERROR = "error"
WARNING = "warning"

# Every kind of problem, with what it means; the names are stable (scripts match them).
KINDS = {
    "integrity": "SQLite's own integrity_check found damage in the database file",
    "foreign_keys": "SQLite's foreign_key_check found a broken key the explicit checks missed",
    "dangling_reference": "a row refers to a row that does not exist",
    "wrong_article": "an observation's version belongs to another article",
    "raw_page_data": "a raw page does not decompress, or its compression is unknown",
    "raw_page_hash": "a raw page's bytes do not hash to its sha256",
    "raw_page_size": "a raw page's bytes are not its recorded size",
    "listing_links_hash": "a listing page's stored links do not hash to their sha256",
    "version_hash": "a version's fields do not hash to its content_hash",
    "version_reviewers": "a version's version_reviewers rows differ from its reviewers",
    "version_numbers": "an article's version numbers are not 1..n in run order",
    "version_observation": "a version has no fetched or reparsed observation in its first run",
    "current_version": "an article's current version is not the one its last fetch set",
    "article_status": "an article's status disagrees with its removals and returns",
    "run_counters": "a run's counter disagrees with the rows the run wrote",
    "overlapping_ranges": "two ranges of sightings of one article hold for the same run",
    "listing_head": "a listing page's head is not its latest row that kept its links",
    "running_run": "a run is still `running`: in progress, or killed (warning)",
    "parser_drift": "a stored page now parses to content no version holds (warning)",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong: a stable `kind` (see `KINDS`), its rows and a one-line message."""

    kind: str
    severity: str  # "error" | "warning"
    message: str
    # ("table.column", value) pairs naming the rows: enough to SELECT them.
    ids: tuple[tuple[str, int | str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "ids": dict(self.ids),
        }

    def line(self) -> str:
        """The problem as one line: `[warning: ]kind table.column=value ...: message`."""
        where = " ".join(f"{name}={value}" for name, value in self.ids)
        prefix = "warning: " if self.severity == WARNING else ""
        return f"{prefix}{self.kind}{' ' + where if where else ''}: {self.message}"


def verify_archive(
    db_url: str,
    *,
    parse: Parse | None = None,
    page_errors: tuple[type[Exception], ...] = (ValueError,),
) -> list[Problem]:
    """Every problem found in the archive at `db_url`, read in one snapshot.

    Raises `storage.ArchiveError` (`NoArchive`, `SchemaOutOfDate`) for a database that
    is not an archive at the current schema. With `parse`, each stored article page
    is re-parsed; `page_errors` are the exceptions meaning "not a record".
    """
    with Reader.open(db_url, snapshot=True) as reader, reader.connect() as conn:
        return _Checker(conn, parse, page_errors).run()


# -- the checks -------------------------------------------------------------------------


class _Checker(PageChecks, RunChecks):
    """The checks, in order, each adding to `problems` (raw pages: `storage.check_pages`,
    runs: `storage.check_runs`)."""

    def __init__(
        self, conn: Connection, parse: Parse | None, page_errors: tuple[type[Exception], ...]
    ) -> None:
        self.conn = conn
        self.parse = parse
        self.page_errors = page_errors
        self.problems: list[Problem] = []

    def add(
        self, kind: str, message: str, *ids: tuple[str, int | str], warning: bool = False
    ) -> None:
        assert kind in KINDS, kind
        self.problems.append(Problem(kind, WARNING if warning else ERROR, message, ids))

    def run(self) -> list[Problem]:
        dangling = self.references()
        if self.conn.dialect.name == "sqlite":
            self.sqlite_pragmas(dangling)
        self.raw_pages()
        self.listing_links()
        self.versions()
        self.version_numbers()
        self.current_versions()
        self.run_counters()
        self.sighting_ranges()
        self.listing_heads()
        self.running_runs()
        return self.problems

    # -- relational ------------------------------------------------------------------

    def references(self) -> set[tuple[str, str]]:
        """Every reference the models declare, checked in SQL (on every backend).

        Derived from the models rather than the database's own constraints, so a
        constraint dropped or never enforced (SQLite with foreign_keys off) is still
        checked. `article_tags.article_key` is deliberately no reference (a facet page
        may list an article the archive does not hold). Returns the (table, target)
        pairs found broken.
        """
        broken: set[tuple[str, str]] = set()
        for table in Base.metadata.sorted_tables:
            for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
                column, target = fk.parent, fk.column
                missing = ~exists().where(target == column)
                query = select(*table.primary_key.columns, column).where(
                    column.is_not(None), missing
                )
                for row in self.conn.execute(query):
                    *keys, value = row
                    broken.add((table.name, target.table.name))
                    ids = [
                        (f"{table.name}.{c.name}", k)
                        for c, k in zip(table.primary_key.columns, keys, strict=True)
                    ]
                    self.add(
                        "dangling_reference",
                        f"{table.name}.{column.name} points at {target.table.name} row "
                        f"{value}, which does not exist",
                        *ids,
                        (f"{table.name}.{column.name}", value),
                    )
        # Not a declared key: an observation's version must be one of its article's.
        query = (
            select(Observation.id, Observation.article_id, Version.id, Version.article_id)
            .join(Version, Version.id == Observation.version_id)
            .where(Version.article_id != Observation.article_id)
        )
        for obs_id, article_id, version_id, owner in self.conn.execute(query):
            self.add(
                "wrong_article",
                f"observation {obs_id} of article {article_id} points at versions row "
                f"{version_id}, a version of article {owner}",
                ("observations.id", obs_id),
                ("versions.id", version_id),
            )
        return broken

    def sqlite_pragmas(self, dangling: set[tuple[str, str]]) -> None:
        for (line,) in self.conn.exec_driver_sql("PRAGMA integrity_check"):
            if line != "ok":
                self.add("integrity", line)
        # A safety net under `references`: what it already reported is not repeated.
        for table, rowid, parent, _ in self.conn.exec_driver_sql("PRAGMA foreign_key_check"):
            if (table, parent) not in dangling:
                self.add(
                    "foreign_keys",
                    f"{table} row {rowid} refers to a missing {parent} row",
                    (f"{table}.rowid", rowid),
                )

    # -- versions --------------------------------------------------------------------

    def versions(self) -> None:
        """Each version's fields hash to its content_hash; its reviewer rows match."""
        query = select(Version, Article.article_key).outerjoin(
            Article, Article.id == Version.article_id
        )
        for rows in chunks(self.conn, query, Version.id, VERSION_CHUNK):
            reviewer_rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for version_id, position, name, url in self.conn.execute(
                select(
                    VersionReviewer.version_id,
                    VersionReviewer.position,
                    VersionReviewer.name,
                    VersionReviewer.url,
                )
                .where(VersionReviewer.version_id.in_([row.id for row in rows]))
                .order_by(VersionReviewer.version_id, VersionReviewer.position)
            ):
                reviewer_rows[version_id].append({"position": position, "name": name, "url": url})
            for row in rows:
                self._version(row, reviewer_rows.get(row.id, []))

    def _version(self, row: Any, reviewer_rows: list[dict[str, Any]]) -> None:
        ids = ("versions.id", row.id)
        if row.article_key is None:
            return  # reported as a dangling reference: no key to hash with
        recomputed = content_hash(stored_record(row, row.article_key))
        if recomputed != row.content_hash and row.parser_version in FORMER_CONTENT_FIELDS:
            # Stored by a parser with another hash rule: its hash follows that rule.
            recomputed = content_hash(version_record(row, row.article_key), row.parser_version)
        if recomputed != row.content_hash:
            self.add(
                "version_hash",
                f"version {row.number} of {row.article_key}: fields hash to "
                f"{recomputed[:16]}…, not {row.content_hash[:16]}…",
                ids,
            )
        expected = [
            {"position": position, "name": r.get("name"), "url": r.get("url")}
            for position, r in enumerate(row.reviewers or [])
        ]
        if reviewer_rows != expected:
            self.add(
                "version_reviewers",
                f"version {row.number} of {row.article_key}: {len(reviewer_rows)} "
                f"version_reviewers rows do not match its {len(expected)} reviewers",
                ids,
            )

    def version_numbers(self) -> None:
        """An article's versions are numbered 1..n, in the order of their first runs."""
        stats = select(
            Version.article_id,
            func.min(Version.number),
            func.max(Version.number),
            func.count(),
            func.count(Version.number.distinct()),
        ).group_by(Version.article_id)
        for article_id, low, high, count, distinct in self.conn.execute(stats):
            if (low, high, distinct) != (1, count, count):
                self.add(
                    "version_numbers",
                    f"article {article_id} has {count} version(s) numbered {low}..{high}"
                    f"{'' if distinct == count else ' with repeats'}, not 1..{count}",
                    ("articles.id", article_id),
                )
        # A later number never comes from an earlier run: numbers are given in order.
        later = Version.__table__.alias("later")
        query = (
            select(Version.article_id, later.c.id, Version.number, later.c.number)
            .join(
                later,
                and_(
                    later.c.article_id == Version.article_id,
                    later.c.number == Version.number + 1,
                ),
            )
            .where(later.c.first_run_id < Version.first_run_id)
        )
        for article_id, later_id, number, later_number in self.conn.execute(query):
            self.add(
                "version_numbers",
                f"article {article_id}: version {later_number} was first seen in an earlier "
                f"run than version {number}",
                ("articles.id", article_id),
                ("versions.id", later_id),
            )
        # Every version came from a page: a fetch or a reparse in the run that added it.
        query = select(Version.id, Version.number, Version.article_id, Version.first_run_id).where(
            ~exists().where(
                Observation.version_id == Version.id,
                Observation.run_id == Version.first_run_id,
                Observation.kind.in_(("fetched", "reparsed")),
            )
        )
        for version_id, number, article_id, run_id in self.conn.execute(query):
            self.add(
                "version_observation",
                f"version {number} of article {article_id} has no fetched or reparsed "
                f"observation in run {run_id}, its first run",
                ("versions.id", version_id),
            )

    # -- current versions ------------------------------------------------------------

    def current_versions(self) -> None:
        """The current version is the one the writer's last word on the article set.

        `save_article` makes the fetched page's version current (a new one, or the
        current one when unchanged); `mark_seen`, `mark_gone` and removals never move
        it. So without a later reparse, current = the version of the latest `fetched`
        observation. A reparse re-reads that latest page and may point at any of the
        article's versions (an existing one when the page now reads as it, which
        leaves no row behind), so after one only ownership is checked.
        """
        latest = (
            select(Observation.article_id, func.max(Observation.id).label("id"))
            .where(Observation.kind == "fetched")
            .group_by(Observation.article_id)
            .subquery()
        )
        last_reparse = select(func.max(Run.id)).where(Run.mode == "reparse").scalar_subquery()
        fetched = Version.__table__.alias("fetched")
        query = (
            select(
                Article.id,
                Article.article_key,
                Article.current_version_id,
                Version.article_id.label("owner"),
                Version.number,
                Observation.id.label("observation"),
                Observation.run_id,
                Observation.version_id,
                fetched.c.number.label("fetched_number"),
                last_reparse.label("last_reparse"),
            )
            .outerjoin(Version, Version.id == Article.current_version_id)
            .outerjoin(latest, latest.c.article_id == Article.id)
            .outerjoin(Observation, Observation.id == latest.c.id)
            .outerjoin(fetched, fetched.c.id == Observation.version_id)
            .order_by(Article.id)
        )
        for row in self.conn.execute(query):
            ids = ("articles.id", row.id)
            current = row.current_version_id
            if current is None:
                self.add("current_version", f"{row.article_key} has no current version", ids)
            elif row.owner is None:
                continue  # reported as a dangling reference
            elif row.owner != row.id:
                self.add(
                    "current_version",
                    f"{row.article_key}: its current version (versions row {current}) "
                    f"belongs to article {row.owner}",
                    ids,
                    ("versions.id", current),
                )
            elif row.observation is None:
                self.add("current_version", f"{row.article_key} has no fetched observation", ids)
            elif current != row.version_id and (
                row.last_reparse is None or row.last_reparse < row.run_id
            ):
                self.add(
                    "current_version",
                    f"{row.article_key}: current version is version {row.number}, but its "
                    f"latest fetch (observation {row.observation}, run {row.run_id}) read "
                    f"version {row.fetched_number} and no reparse came after",
                    ids,
                    ("versions.id", current),
                    ("observations.id", row.observation),
                )
