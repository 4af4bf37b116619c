"""`db check`'s run checks: each run's counters recounted from its rows, each article's
status replayed from its observations, runs left `running` (`storage.check`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, and_, func, literal, select
from sqlalchemy.orm import aliased

from storage.models import (
    Article,
    ListingHead,
    ListingPage,
    Observation,
    ParseError,
    Run,
    Version,
)


class RunChecks:
    """The run checks of `storage.check._Checker`."""

    conn: Connection
    add: Callable[..., None]  # `_Checker.add(kind, message, *ids, warning=False)`

    # -- runs ------------------------------------------------------------------------

    def run_counters(self) -> None:
        """Each run's counters, recounted from the rows its saves wrote.

        Counters and rows are written in the same batch transaction, so they agree even
        for a killed run. `pages_fetched` is the caller's figure (the crawl's requests,
        the files of an ingest) with no row behind it: not checked.
        """
        runs = {row.id: row for row in self.conn.execute(select(Run).order_by(Run.id))}
        order = list(runs)
        observed: Counter[tuple[int, str]] = Counter()
        for (run_id, kind), n in _per_run(
            order,
            self.conn.execute(
                select(
                    Observation.run_id, Observation.last_run_id, Observation.kind, func.count()
                ).group_by(Observation.run_id, Observation.last_run_id, Observation.kind)
            ),
        ).items():
            observed[(run_id, kind)] = n
        versions = self._count_by(Version.first_run_id)
        articles = self._count_by(Article.first_run_id)
        listings = Counter(
            {
                run_id: n
                for (run_id, _), n in _per_run(
                    order,
                    self.conn.execute(
                        select(
                            ListingPage.run_id, ListingPage.last_run_id, literal(""), func.count()
                        ).group_by(ListingPage.run_id, ListingPage.last_run_id)
                    ),
                ).items()
            }
        )
        errors = self._count_by(ParseError.run_id)
        removed, returned = self.replay_statuses(runs)
        for run_id, run in runs.items():
            fetched, reparsed = observed[(run_id, "fetched")], observed[(run_id, "reparsed")]
            # save_article: "new" adds an article and a version, "changed" a version,
            # "unchanged" neither; each adds one fetched observation. A reparse adds a
            # version and a reparsed observation per changed reading.
            expected = {
                "articles_new": (articles[run_id], "articles first seen in the run"),
                "articles_changed": (
                    versions[run_id] - articles[run_id],
                    "versions first seen in the run, less its new articles",
                ),
                "articles_unchanged": (
                    fetched - (versions[run_id] - reparsed),
                    "fetched observations that added no version",
                ),
                "articles_seen": (observed[(run_id, "seen")], "seen observations"),
                "listings": (listings[run_id], "listing_pages rows"),
                "errors": (errors[run_id], "parse_errors rows"),
                "articles_removed": (removed[run_id], "removals its gone observations applied"),
                "articles_returned": (returned[run_id], "removed articles fetched or seen again"),
            }
            for name, (count, what) in expected.items():
                stored = getattr(run, name)
                if stored != count:
                    self.add(
                        "run_counters",
                        f"run {run_id} counts {name} = {stored}, the rows say {count} ({what})",
                        ("runs.id", run_id),
                    )

    def _count_by(self, column: Any) -> Counter[int]:
        rows = self.conn.execute(select(column, func.count()).group_by(column))
        return Counter({key: n for key, n in rows if key is not None})

    def replay_statuses(self, runs: dict[int, Any]) -> tuple[Counter[int], Counter[int]]:
        """Removals and returns per run, replayed from the observations; statuses checked.

        An article starts active. A `fetched` or `seen` observation brings a removed
        article back (`articles_returned` of that run); a run that finished `completed`
        removes an active article it has `gone` evidence for and did not fetch or see
        (`articles_removed`). Runs follow one another (a new run marks a running one
        interrupted), so replaying them in id order is what the writer did.
        """
        removed: Counter[int] = Counter()
        returned: Counter[int] = Counter()
        # Only what differs from "active, never removed" is kept: flat memory.
        final: dict[int, tuple[str, int | None]] = {}
        # A range of sightings brings an article back in its first run; a later run of
        # the range matters only where the run also has evidence of removal.
        gone = aliased(Observation)
        covered = (
            select(Observation.article_id, gone.run_id, Observation.kind)
            .join(
                gone,
                and_(
                    gone.article_id == Observation.article_id,
                    gone.kind == "gone",
                    gone.run_id > Observation.run_id,
                    gone.run_id <= Observation.last_run_id,
                ),
            )
            .where(Observation.kind == "seen")
        )
        every = (
            select(Observation.article_id, Observation.run_id, Observation.kind)
            .where(Observation.kind.in_(("fetched", "seen", "gone")))
            .union_all(covered)
            .subquery()
        )
        query = (
            select(every.c.article_id, every.c.run_id, every.c.kind)
            .group_by(every.c.article_id, every.c.run_id, every.c.kind)
            .order_by(every.c.article_id, every.c.run_id)
        )
        rows = self.conn.execution_options(yield_per=1000).execute(query)
        current: tuple[int, int] | None = None
        kinds: set[str] = set()
        state: dict[int, tuple[str, int | None]] = {}

        def settle() -> None:
            if current is None:
                return
            article_id, run_id = current
            status, removed_in = state.get(article_id, ("active", None))
            if status == "removed" and kinds & {"fetched", "seen"}:
                returned[run_id] += 1
                status, removed_in = "active", None
            run = runs.get(run_id)
            completed = run is not None and run.status == "completed"
            if completed and status == "active" and kinds == {"gone"}:
                removed[run_id] += 1
                status, removed_in = "removed", run_id
            state[article_id] = (status, removed_in)

        for article_id, run_id, kind in rows:
            if (article_id, run_id) != current:
                settle()
                if current is not None and current[0] != article_id:
                    last = state.pop(current[0])
                    if last != ("active", None):
                        final[current[0]] = last
                current, kinds = (article_id, run_id), set()
            kinds.add(kind)
        settle()
        if current is not None:
            last = state.pop(current[0])
            if last != ("active", None):
                final[current[0]] = last
        for article_id, key, status, removed_in in self.conn.execute(
            select(Article.id, Article.article_key, Article.status, Article.removed_run_id)
        ):
            expected = final.get(article_id, ("active", None))
            if (status, removed_in) != expected:
                self.add(
                    "article_status",
                    f"{key} is {status} (removed in run {removed_in}), its observations say "
                    f"{expected[0]} (removed in run {expected[1]})",
                    ("articles.id", article_id),
                )
        return removed, returned

    # -- ranges ----------------------------------------------------------------------

    def sighting_ranges(self) -> None:
        """One article's ranges of sightings never overlap: a run sees an article once,
        and the readers take the range that starts last for the one that ends last
        (`storage.ranges`)."""
        # Each range beside the one of the same article that starts before it.
        before = {
            "partition_by": Observation.article_id,
            "order_by": (Observation.run_id, Observation.id),
        }
        ordered = (
            select(
                Observation.id,
                Observation.article_id,
                Observation.run_id,
                func.lag(Observation.last_run_id).over(**before).label("before_ends"),
                func.lag(Observation.id).over(**before).label("before_id"),
            )
            .where(Observation.kind == "seen")
            .subquery()
        )
        for row in self.conn.execute(
            select(ordered).where(ordered.c.before_ends >= ordered.c.run_id)
        ):
            self.add(
                "overlapping_ranges",
                f"article {row.article_id}: the sightings from run {row.run_id} (observation "
                f"{row.id}) overlap those of observation {row.before_id}, which reach run "
                f"{row.before_ends}",
                ("observations.id", row.id),
            )

    def listing_heads(self) -> None:
        """Each listing page's head (`listing_heads`) is its latest row that kept its
        links: what the next crawl asks for again."""
        latest = dict(
            self.conn.execute(
                select(ListingPage.url, func.max(ListingPage.id))
                .where(ListingPage.links_id.is_not(None))
                .group_by(ListingPage.url)
            ).all()
        )
        heads = dict(self.conn.execute(select(ListingHead.url, ListingHead.listing_page_id)).all())
        for url in sorted(latest.keys() | heads.keys()):
            if latest.get(url) != heads.get(url):
                self.add(
                    "listing_head",
                    f"{url}: listing_heads says row {heads.get(url)}, its latest row with "
                    f"links is {latest.get(url)}",
                    ("listing_pages.url", url),
                )

    def running_runs(self) -> None:
        for run_id, started in self.conn.execute(
            select(Run.id, Run.started_at).where(Run.status == "running").order_by(Run.id)
        ):
            self.add(
                "running_run",
                f"run {run_id} (started {started:%Y-%m-%d %H:%M}) is still running: a crawl "
                "in progress, or a killed one (the next run marks it interrupted)",
                ("runs.id", run_id),
                warning=True,
            )


def _per_run(order: list[int], rows: Any) -> Counter[tuple[int, str]]:
    """Rows counted in every run of their ranges: (first run, last run, kind, rows) in,
    (run, kind) -> rows out; `order` is every run id, ascending."""
    position = {run_id: i for i, run_id in enumerate(order)}
    starts: dict[str, list[int]] = {}
    for first, last, kind, n in rows:
        if first not in position or last not in position:
            continue  # a row of no run: the references check reports it
        delta = starts.setdefault(kind, [0] * (len(order) + 1))
        delta[position[first]] += n
        delta[position[last] + 1] -= n
    counts: Counter[tuple[int, str]] = Counter()
    for kind, delta in starts.items():
        running = 0
        for i, run_id in enumerate(order):
            running += delta[i]
            if running:
                counts[(run_id, kind)] = running
    return counts
