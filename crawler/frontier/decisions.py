"""The spider's per-run decisions, shared in Redis by every process of a distributed run.

In a run of one process the spider keeps in memory which article keys discovery listed,
which it decided (requested or counted as seen: an article is decided once per run),
the articles only a listing links (fetched once discovery is complete) and how many
article requests `--limit` has let through. In a distributed run any process may parse
a sitemap or a listing page, so these live in Redis instead, under the frontier's name,
behind the few set, dict and counter operations the spider uses: the spider's code is
the same in both cases.

A claim is a membership test, then an add: two processes meeting one article in the
same instant could both request it. The sitemaps list an article under one URL (the
spider keeps one per key) and listing links are claimed by the coordinator alone once
discovery is complete, so this does not happen in a run; if it did, the shared
dupefilter still requests a URL once and the archive still stores the article once.

A decision is also pending until its effect has left the process that made it: an
article claimed for a fetch until its request is on the shared queue, an article
counted as seen until its mark is committed. Scrapy reads a callback's output ahead of
what it schedules (up to 200 entries of a sitemap), so a process killed while reading a
sitemap has claimed articles whose requests exist nowhere else. Its pending decisions
(`NAME:pending:PROCESS`) are undone with its leases (`state.Frontier.reclaim`): the
sitemap goes back on the queue and whoever reads it again decides them again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import redis

if TYPE_CHECKING:
    from crawler.frontier.state import Frontier


class SharedSet:
    """A set of strings in Redis: `add`, `in`, iteration, `len`."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.redis = client
        self.key = key

    def add(self, value: str) -> None:
        self.redis.sadd(self.key, value)

    def __contains__(self, value: object) -> bool:
        return bool(self.redis.sismember(self.key, str(value)))

    def __iter__(self) -> Iterator[str]:
        for value in self.redis.sscan_iter(self.key, count=1000):
            yield value.decode()

    def __len__(self) -> int:
        return int(self.redis.scard(self.key))


class SharedDecided(SharedSet):
    """The run's decided article keys; a decision's `effect` stays pending under the
    deciding process until the frontier settles it (`Frontier.settle`)."""

    def __init__(self, client: redis.Redis, key: str, pending_key: str) -> None:
        super().__init__(client, key)
        self.pending_key = pending_key

    def decide(self, key: str, effect: str) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(self.key, key).hset(self.pending_key, key, effect)
            pipe.execute()


class SharedDict:
    """A str -> str dict in Redis: `setdefault`, `items`, `clear`, `in`, `len`."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.redis = client
        self.key = key

    def setdefault(self, key: str, value: str) -> str:
        if self.redis.hsetnx(self.key, key, value):
            return value
        found = self.redis.hget(self.key, key)
        return found.decode() if found is not None else value

    def items(self) -> list[tuple[str, str]]:
        return [(k.decode(), v.decode()) for k, v in self.redis.hgetall(self.key).items()]

    def clear(self) -> None:
        self.redis.delete(self.key)

    def __contains__(self, key: object) -> bool:
        return bool(self.redis.hexists(self.key, str(key)))

    def __len__(self) -> int:
        return int(self.redis.hlen(self.key))


class SharedCounter:
    """An integer in Redis that `+=` increments and compares like an int."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.redis = client
        self.key = key

    def __int__(self) -> int:
        return int(self.redis.get(self.key) or 0)

    def __iadd__(self, n: int) -> SharedCounter:
        self.redis.incrby(self.key, n)
        return self

    def __ge__(self, other: Any) -> bool:
        return int(self) >= other

    def __lt__(self, other: Any) -> bool:
        return int(self) < other

    def __eq__(self, other: object) -> bool:
        return int(self) == other

    __hash__ = None  # type: ignore[assignment]  (mutable, compared by value)


def share_decisions(spider: Any, frontier: Frontier, process: str) -> None:
    """Give `spider` this frontier's shared decisions in place of its own sets; those it
    makes are pending under `process` until settled."""
    client, key = frontier.redis, frontier.key
    spider._listed = SharedSet(client, key("listed"))
    spider._decided = SharedDecided(client, key("decided"), key("pending", process))
    spider._listing_links = SharedDict(client, key("listing_links"))
    spider._article_requests = SharedCounter(client, key("article_requests"))
