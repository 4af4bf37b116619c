"""crawler/frontier/state.py: the frontier's Redis state, without Scrapy.

Real Redis (`frontier_url`: a name of its own in the test database, keys deleted
afterwards). Leases are what a killed worker's requests survive by: each rule of them
is checked here on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

import pytest

from common.urls import SITE
from crawler.frontier.decisions import SharedCounter, SharedDecided
from crawler.frontier.state import Frontier, FrontierBusy
from tests.crawling import project_settings


@pytest.fixture
def frontier(frontier_url: tuple[str, str]) -> Iterator[Frontier]:
    url, name = frontier_url
    frontier = Frontier(url, name, lease=2.0)
    frontier.claim("coordinator")
    frontier.open_run(1, coordinator="coordinator", site_root="x", mode="full", max_rate=0)
    yield frontier
    frontier.close()


def test_a_popped_request_is_leased_until_acknowledged(frontier: Frontier) -> None:
    assert frontier.join("w1")
    frontier.push(b"low", 0)
    frontier.push(b"high", -100)  # scrapy-redis' score: -priority
    token, data = frontier.pop("w1") or ("", b"")
    assert data == b"high"  # the highest priority first
    assert not frontier.drained()  # one queued, one leased
    assert frontier.pop("w1") is not None
    assert frontier.pop("w1") is None
    assert not frontier.drained()  # nothing queued, but two leased
    assert frontier.pending() == 2
    frontier.ack("w1", token)
    assert frontier.pending() == 1


def test_a_re_enqueued_request_takes_its_lease_back_to_the_queue(frontier: Frontier) -> None:
    assert frontier.join("w1")
    frontier.push(b"first try", 0)
    token, _ = frontier.pop("w1") or ("", b"")
    frontier.transfer("w1", token, b"retry", -5)
    assert frontier.redis.hlen(frontier.key("leased", "w1")) == 0
    popped = frontier.pop("w2")
    assert popped is not None and popped[1] == b"retry"
    assert frontier.redis.zcard(frontier.queue_key) == 0


def test_what_a_lost_process_held_goes_back(frontier: Frontier) -> None:
    assert frontier.join("victim") and frontier.join("survivor")
    for n in range(3):
        frontier.push(f"r{n}".encode(), 0)
    frontier.pop("victim")
    frontier.pop("victim")
    assert frontier.reclaim() == 0  # alive: nothing taken from it
    frontier.stop_heartbeat()  # the victim's process stops beating (SIGKILL)
    frontier.redis.delete(frontier.key("alive", "victim"))  # its lease runs out
    assert frontier.reclaim() == 2
    assert frontier.workers()["victim"] == "lost"
    assert frontier.redis.zcard(frontier.queue_key) == 3
    # A process only thought dead (frozen, then back) is working again at its next beat.
    frontier.heartbeat("victim")
    assert frontier.workers()["victim"] == "working"


def test_leaving_hands_back_what_is_held(frontier: Frontier) -> None:
    assert frontier.join("w1")
    frontier.push(b"r", 0)
    frontier.pop("w1")
    frontier.leave("w1", "interrupted")
    assert frontier.workers()["w1"] == "interrupted"
    assert frontier.redis.zcard(frontier.queue_key) == 1
    assert not frontier.alive("w1")


def test_join_only_an_open_run(frontier: Frontier) -> None:
    assert not frontier.join("late", run_id="2")  # another run than the open one
    frontier.set_status("finishing")
    assert not frontier.join("late")
    assert frontier.wait_for_run(timeout=0.3) is None
    assert frontier.wait_for_run(run_id="1") is None  # that run is over: no wait


def test_a_run_whose_coordinator_died_is_not_joined(frontier: Frontier) -> None:
    assert frontier.wait_for_run(timeout=0)  # open, its coordinator alive
    frontier.redis.delete(frontier.key("alive", "coordinator"))
    assert not frontier.coordinator_alive()
    assert frontier.wait_for_run(timeout=0.3) is None
    assert frontier.wait_for_run(run_id="1") is None


def test_one_coordinator_at_a_time(frontier_url: tuple[str, str], frontier: Frontier) -> None:
    url, name = frontier_url
    other = Frontier(url, name, lease=2.0)
    with pytest.raises(FrontierBusy, match="run 1 is open"):
        other.claim("second")
    frontier.redis.delete(frontier.key("alive", "coordinator"))  # the first one died
    assert other.claim("second")["id"] == "1"


def test_rate_slots_are_spaced_in_redis_time(frontier: Frontier) -> None:
    waits = [frontier.rate_wait("example.org", 10) for _ in range(4)]
    assert waits[0] == pytest.approx(0, abs=0.02)
    for before, after in zip(waits, waits[1:], strict=False):
        assert after - before == pytest.approx(0.1, abs=0.02)
    assert frontier.rate_wait("other.org", 10) == pytest.approx(0, abs=0.02)  # per host
    time.sleep(0.5)  # slots not taken are not saved up: no burst after a pause
    assert frontier.rate_wait("example.org", 10) == pytest.approx(0, abs=0.02)
    assert frontier.rate_wait("example.org", 10) == pytest.approx(0.1, abs=0.02)


def frontier_process(frontier: Frontier, process: str, **settings: Any) -> Any:
    """The spider and the scheduler of one process of the frontier's run, joined (the
    `processes` fixture stops its heartbeat after the test)."""
    from scrapy.utils.test import get_crawler

    from crawler.frontier.scheduler import FrontierScheduler, frontier_of
    from crawler.spiders.cancerwise import CancerwiseSpider

    overrides = project_settings(
        ARCHIVE_DB_URL="",
        ARCHIVE_MODE="full",
        ARCHIVE_ROLE="worker",
        ARCHIVE_WORKER_ID=process,
        ARCHIVE_FRONTIER_URL=frontier.url,
        ARCHIVE_FRONTIER_NAME=frontier.name,
        ARCHIVE_FRONTIER_LEASE=frontier.lease,
        **settings,
    )
    crawler = get_crawler(CancerwiseSpider, overrides)
    crawler.stats.open_spider()

    class Engine:  # what the scheduler asks of Scrapy's engine: its slot's heartbeat
        _SLOT_HEARTBEAT_INTERVAL = 5.0
        _slot = None

    crawler.engine = Engine()  # type: ignore[assignment]
    spider = CancerwiseSpider.from_crawler(crawler)
    crawler.spider = spider
    scheduler = FrontierScheduler.from_crawler(crawler)
    scheduler.open(spider)
    assert frontier_of(crawler).join(process)
    return spider, scheduler


@pytest.fixture
def processes(frontier: Frontier) -> Iterator[Callable[..., Any]]:
    """`frontier_process` for this test's frontier; each process's heartbeat stops after."""
    made: list[Any] = []

    def make(process: str, **settings: Any) -> Any:
        made.append(frontier_process(frontier, process, **settings))
        return made[-1]

    yield make
    for _, scheduler in made:
        scheduler.frontier.close()


def test_spiders_of_one_run_decide_each_article_once(processes: Callable[..., Any]) -> None:
    """Two processes' spiders with the frontier's shared decisions: an article claimed by
    one is decided for the other, links listed by either are one set, `--limit` counts
    the requests of both."""
    (first, _), (second, _) = (processes(name, ARCHIVE_LIMIT=2) for name in ("p1", "p2"))
    assert first._claim_article("cancerwise/a")
    assert not second._claim_article("cancerwise/a")
    assert second._claim_article("cancerwise/b")
    assert not first._claim_article("cancerwise/c")  # over the limit of the run, not of one
    assert second.crawler.stats.get_value("archive/discovery/over_limit") is None
    # During discovery a listing's link waits, by URL, for every twin discovery lists.
    link = "https://www.mdanderson.org/cancerwise/d.h00-1.html"
    list(second._listing_article(link))
    assert dict(first._listing_links.items()) == {link: link}
    # Once discovery is over, it is decided at once: listed for both.
    second._phase = "listing-links"
    list(second._listing_article("https://www.mdanderson.org/cancerwise/e.h00-1.html"))
    assert "cancerwise/e" in first._listed


def test_what_a_lost_process_decided_and_did_not_act_on_is_undone(frontier: Frontier) -> None:
    """An article claimed (its request not yet queued) or counted as seen (its mark not
    yet committed) by a process that is then lost is no longer decided: the page that
    decided it is read again, and decides it again. A decision that took effect stays."""
    assert frontier.join("victim")
    decided = SharedDecided(
        frontier.redis, frontier.key("decided"), frontier.key("pending", "victim")
    )
    requests = SharedCounter(frontier.redis, frontier.key("article_requests"))
    for key, effect in (("queued", "fetch"), ("claimed", "fetch"), ("seen", "seen")):
        decided.decide(key, effect)
    requests += 2
    frontier.settle("victim", "queued")
    frontier.stop_heartbeat()
    frontier.redis.delete(frontier.key("alive", "victim"))  # killed: its lease runs out
    frontier.reclaim()
    assert set(decided) == {"queued"}
    assert int(requests) == 1  # `--limit` counts the claim once more when it is made again
    # A process that leaves gives back what it decided and did not act on, too.
    assert frontier.join("leaving")
    leaving = SharedDecided(
        frontier.redis, frontier.key("decided"), frontier.key("pending", "leaving")
    )
    leaving.decide("unsent", "fetch")
    frontier.leave("leaving")
    assert "unsent" not in decided


def test_a_process_lost_while_it_reads_a_sitemap_loses_no_article(
    frontier: Frontier, processes: Callable[..., Any]
) -> None:
    """Scrapy reads a callback's output ahead of what it schedules (a queue of 200): a
    process killed halfway through a sitemap has claimed articles whose requests are
    nowhere else. The survivor reads the sitemap again and requests exactly those."""
    from scrapy import Request
    from scrapy.http import XmlResponse

    from crawler.frontier.scheduler import LEASE

    urls = [f"{SITE}/cancerwise/article-{n}.h00-{1000 + n}.html" for n in range(40)]
    body = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    sitemap = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'
    ).encode()
    victim, victim_scheduler = processes("victim")
    survivor, survivor_scheduler = processes("survivor")
    victim_scheduler.enqueue_request(victim._sitemap_request(f"{SITE}/cancerwise-sitemap.xml"))
    taken = victim_scheduler.next_request()
    output = victim._parse_sitemap(XmlResponse(taken.url, body=sitemap, request=taken))
    read_ahead = list(islice(output, 30))
    for request in read_ahead[:10]:  # scheduled; the other 20 are still in Scrapy's queue
        victim_scheduler.enqueue_request(request)
    victim_scheduler.frontier.stop_heartbeat()  # SIGKILL: no more beats
    frontier.redis.delete(frontier.key("alive", "victim"))  # and the lease runs out

    again = survivor_scheduler.next_request()  # reclaims first: the sitemap is back
    assert again.url == taken.url and again.meta[LEASE] != taken.meta[LEASE]
    for request in survivor._parse_sitemap(XmlResponse(again.url, body=sitemap, request=again)):
        if isinstance(request, Request):
            survivor_scheduler.enqueue_request(request)
    queued = []
    while (request := survivor_scheduler.next_request()) is not None:
        queued.append(request.url)
    assert sorted(queued) == sorted(urls)  # every article once, none lost
    # Each claim of the survivor took effect as its request was queued: none pending.
    assert frontier.redis.hlen(frontier.key("pending", "survivor")) == 0
    assert int(SharedCounter(frontier.redis, frontier.key("article_requests"))) == 40
