"""`crawler.parsing.ParserPool`: worker processes parse exactly as the crawl's process does.

Every fixture page goes through a pool of two workers, all at once (so results come
back while others are still being parsed), and through `parse_page` here: the same
records, the same page errors with the same reasons. A stopped pool leaves no process.
A pool starts its workers after its first pages, and parses in this process until they
answer.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from typing import Any

import pytest

from crawler.parsers import PageError, parse_page
from crawler.parsing import PAGES_BEFORE_WORKERS, ParserPool
from tests.test_fixtures import CASES, fixture_case


def fixture_pages() -> list[tuple[str, bytes, str | None]]:
    return [(case, *fixture_case(case)[:2]) for case in CASES]


def reading(parse: Any, html: bytes, url: str | None) -> Any:
    try:
        return parse(html, url)
    except PageError as error:
        return f"PageError: {error.reason}"


def started(jobs: int) -> ParserPool:
    """A pool whose workers have answered: pages go to them."""
    pool = ParserPool(jobs)
    pool.start()
    assert pool.wait_ready(60), "the workers did not start"
    return pool


async def read_all(pool: ParserPool, pages: list[tuple[str, bytes, str | None]]) -> list[Any]:
    async def one(html: bytes, url: str | None) -> Any:
        try:
            return await pool.parse(html, url)  # type: ignore[arg-type]
        except PageError as error:
            return f"PageError: {error.reason}"

    return await asyncio.gather(*(one(html, url) for _, html, url in pages))


@pytest.mark.parametrize("jobs", [0, 2])
def test_workers_read_every_fixture_as_parse_page_does(jobs: int) -> None:
    pages = fixture_pages()
    assert len(pages) >= 20
    pool = started(jobs) if jobs else ParserPool(0)
    try:
        pooled = asyncio.run(read_all(pool, pages))
    finally:
        pool.close()
    here = [reading(parse_page, html, url) for _, html, url in pages]
    assert [name for (name, _, _), a, b in zip(pages, pooled, here, strict=True) if a != b] == []
    assert any(isinstance(r, str) for r in here), "no page error among the fixtures"
    assert any(isinstance(r, dict) for r in here)


def test_a_closed_pool_leaves_no_worker() -> None:
    pool = started(2)
    record = asyncio.run(read_all(pool, fixture_pages()[:3]))
    assert record
    workers = multiprocessing.active_children()
    assert len(workers) == 2
    pool.close()
    assert all(not worker.is_alive() for worker in workers)
    assert pool._pool is None


def test_a_dead_worker_leaves_the_pool_parsing_in_process() -> None:
    name, html, url = next(
        page for page in fixture_pages() if isinstance(reading(parse_page, *page[1:]), dict)
    )
    pool = started(1)
    try:
        first = asyncio.run(read_all(pool, [(name, html, url)]))
        for worker in multiprocessing.active_children():
            worker.kill()
            worker.join()
        again = asyncio.run(read_all(pool, [(name, html, url)]))
    finally:
        pool.close()
    assert again == first == [reading(parse_page, html, url)]
    assert pool.jobs == 0


def test_pages_are_parsed_here_until_the_workers_answer() -> None:
    name, html, url = fixture_pages()[0]
    pool = ParserPool(2)  # not started: no worker yet
    try:
        here = asyncio.run(read_all(pool, [(name, html, url)]))
        assert multiprocessing.active_children() == []
        assert pool._pool is None
        pool.start()
        assert pool.wait_ready(60)
        assert multiprocessing.active_children()  # workers start as pages come
        assert asyncio.run(read_all(pool, [(name, html, url)])) == here
    finally:
        pool.close()
    assert here == [reading(parse_page, html, url)]


def test_the_workers_start_after_the_first_pages() -> None:
    pages = fixture_pages()[: PAGES_BEFORE_WORKERS - 1]
    pool = ParserPool(2)
    try:
        here = asyncio.run(read_all(pool, pages))
        assert multiprocessing.active_children() == []  # a few pages: no worker
        asyncio.run(read_all(pool, fixture_pages()[-1:]))
        assert pool.wait_ready(60), "the workers did not start"
        assert multiprocessing.active_children()
        assert asyncio.run(read_all(pool, pages)) == here
    finally:
        pool.close()
    assert here == [reading(parse_page, html, url) for _, html, url in pages]
