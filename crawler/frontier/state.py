"""A distributed run's state in Redis: the run, its processes, leases, the rate limit.

Keys, all under one name (`ARCHIVE_FRONTIER_NAME`, default `cwarchive`), so several
frontiers can share one Redis:

- `NAME:run` (hash): the open or last run: `id`, `status` (`opening`, `running`,
  `finishing`, `done`, `interrupted`), `site_root`, `mode`, `max_rate`, `coordinator`;
- `NAME:queue` (sorted set): pending requests, scrapy-redis' priority queue
  (score = -priority);
- `NAME:dupefilter` (set): fingerprints of every request scheduled in the run
  (scrapy-redis);
- `NAME:workers` (hash): process -> `working`, `done`, `interrupted` or `lost`;
- `NAME:leased:PROCESS` (hash): token -> `score|request`, what the process took and
  has not finished;
- `NAME:alive:PROCESS` (string with a TTL): the process's lease, refreshed by its
  heartbeat;
- `NAME:pending:PROCESS` (hash): article key -> `fetch` or `seen`, the process's
  decisions whose effect has not left it yet (`crawler.frontier.decisions`);
- `NAME:rate:HOST` (string): the host's next free request slot, in Redis' clock
  (microseconds);
- `NAME:listed`, `NAME:decided` (sets), `NAME:listing_links` (hash),
  `NAME:article_requests` (counter): the spider's decisions of the run
  (`crawler.frontier.decisions`).

A request taken from the queue moves, in one script, into its taker's `leased` hash;
it leaves only when the taker finished it (its page committed to the archive), or
goes back to the queue: when its taker re-enqueues it (a retry, a redirect), or when
the taker's `alive` key expired (killed, frozen): then any process's `reclaim` puts
everything that process held back on the queue. So a killed process loses nothing,
and the frontier is drained only when the queue and every `leased` hash are empty.
What a process decided while reading a page it held, and had not yet acted on (an
article claimed, its request not yet queued), is undone in the same step as its leases
go back: the page is read again, and its articles decided again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import redis

logger = logging.getLogger(__name__)

# The spider's shared decisions of a run (`crawler.frontier.decisions`).
DECISIONS = ("listed", "decided", "listing_links", "article_requests")
# What a process refreshes its lease every lease / HEARTBEATS seconds with.
HEARTBEATS = 4
RUNNING = "running"

_POP = """
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return nil end
redis.call('ZREM', KEYS[1], item[1])
local token = ARGV[1] .. '#' .. redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], token, item[2] .. '|' .. item[1])
return {token, item[1]}
"""

# Back on the queue, the lease gone: one step, so the request is always somewhere.
_TRANSFER = """
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

_REQUEUE = """
local function undo(pending, decided, counter)
  local entries = redis.call('HGETALL', pending)
  local fetches = 0
  for j = 1, #entries, 2 do
    redis.call('SREM', decided, entries[j])
    if entries[j + 1] == 'fetch' then fetches = fetches + 1 end
  end
  if fetches > 0 and redis.call('EXISTS', counter) == 1 then
    redis.call('DECRBY', counter, fetches)
  end
  redis.call('DEL', pending)
end
local function requeue(leased, queue)
  local entries = redis.call('HGETALL', leased)
  for j = 2, #entries, 2 do
    local v = entries[j]
    local sep = string.find(v, '|', 1, true)
    redis.call('ZADD', queue, string.sub(v, 1, sep - 1), string.sub(v, sep + 1))
  end
  redis.call('DEL', leased)
  return #entries / 2
end
"""

# Every process whose lease expired gives back what it held; a working one is lost.
_RECLAIM = (
    _REQUEUE
    + """
local n = 0
local ws = redis.call('HGETALL', KEYS[1])
for i = 1, #ws, 2 do
  local w, state = ws[i], ws[i + 1]
  if redis.call('EXISTS', ARGV[1] .. ':alive:' .. w) == 0 then
    undo(ARGV[1] .. ':pending:' .. w, ARGV[1] .. ':decided', ARGV[1] .. ':article_requests')
    n = n + requeue(ARGV[1] .. ':leased:' .. w, KEYS[2])
    if state == 'working' then redis.call('HSET', KEYS[1], w, 'lost') end
  end
end
return n
"""
)

_RELEASE = (
    _REQUEUE
    + """
undo(KEYS[3], KEYS[4], KEYS[5])
return requeue(KEYS[1], KEYS[2])
"""
)

_DRAINED = """
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
for _, w in ipairs(redis.call('HKEYS', KEYS[2])) do
  if redis.call('HLEN', ARGV[1] .. ':leased:' .. w) > 0 then return 0 end
end
return 1
"""

_JOIN = """
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'id') ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], 'working')
redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
return 1
"""

_HEARTBEAT = """
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
if redis.call('HGET', KEYS[2], ARGV[1]) == 'lost' then
  redis.call('HSET', KEYS[2], ARGV[1], 'working')
end
return 1
"""

# A run may open unless one is open whose coordinator is still alive.
_CLAIM = """
local status = redis.call('HGET', KEYS[1], 'status')
local owner = redis.call('HGET', KEYS[1], 'coordinator')
if (status == 'opening' or status == 'running' or status == 'finishing') and owner
   and redis.call('EXISTS', ARGV[2] .. ':alive:' .. owner) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'status', 'opening', 'coordinator', ARGV[1])
return 1
"""

# The next free slot of a host, from Redis' clock so that every machine shares one:
# the caller waits the answer (microseconds), then sends its request.
_RATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, free)
redis.call('SET', KEYS[1], string.format('%.0f', slot + tonumber(ARGV[1])), 'PX', 3600000)
return string.format('%.0f', slot - now)
"""


class FrontierBusy(RuntimeError):
    """Another run is open on this frontier and its coordinator is alive."""


class Frontier:
    """One frontier (Redis URL + name) as every process of a distributed run sees it."""

    def __init__(self, url: str, name: str = "cwarchive", lease: float = 10.0) -> None:
        if lease <= 0:
            raise ValueError("the lease must be positive")
        self.url = url
        self.name = name
        self.lease = lease
        self.redis = redis.Redis.from_url(url)
        self._scripts = {
            name: self.redis.register_script(source)
            for name, source in (
                ("pop", _POP),
                ("transfer", _TRANSFER),
                ("reclaim", _RECLAIM),
                ("release", _RELEASE),
                ("drained", _DRAINED),
                ("join", _JOIN),
                ("heartbeat", _HEARTBEAT),
                ("claim", _CLAIM),
                ("rate", _RATE),
            )
        }
        self._heartbeat: threading.Thread | None = None
        self._stop = threading.Event()
        # The process this object took part as (`join`), until it leaves.
        self.member: str | None = None

    # -- keys -------------------------------------------------------------------------

    def key(self, *parts: str) -> str:
        return ":".join((self.name, *parts))

    @property
    def queue_key(self) -> str:
        return self.key("queue")

    @property
    def dupefilter_key(self) -> str:
        return self.key("dupefilter")

    def _lease_ms(self) -> str:
        return str(int(self.lease * 1000))

    # -- the run ----------------------------------------------------------------------

    def run(self) -> dict[str, str]:
        """The run record (empty when none was ever opened here)."""
        raw = self.redis.hgetall(self.key("run"))
        return {k.decode(): v.decode() for k, v in raw.items()}

    def run_status(self) -> str | None:
        value = self.redis.hget(self.key("run"), "status")
        return value.decode() if value is not None else None

    def coordinator_alive(self) -> bool:
        """The open run's coordinator still holds its lease (a dead one never closes it)."""
        owner = self.redis.hget(self.key("run"), "coordinator")
        return owner is not None and self.alive(owner.decode())

    def claim(self, coordinator: str) -> dict[str, str]:
        """Become the coordinator of the next run; the record it replaces.

        Raises `FrontierBusy` while a run is open whose coordinator is alive. A run
        left `running` by a dead coordinator is the caller's to mark interrupted.
        """
        previous = self.run()
        self.redis.set(self.key("alive", coordinator), "1", px=int(self.lease * 1000))
        if not self._scripts["claim"](keys=[self.key("run")], args=[coordinator, self.name]):
            self.redis.delete(self.key("alive", coordinator))
            raise FrontierBusy(
                f"run {previous.get('id', '?')} is open on frontier {self.name!r} "
                f"(coordinator {previous.get('coordinator', '?')} is alive)"
            )
        return previous

    def open_run(
        self,
        run_id: int,
        *,
        coordinator: str,
        site_root: str,
        mode: str,
        max_rate: float,
        crawl: dict[str, Any] | None = None,
    ) -> None:
        """Start run `run_id` here: the last run's queue, fingerprints and processes go.

        `crawl`: the settings every process must share to decide alike (sections,
        `--tags`, `--limit`, `--since`), kept as JSON for the workers that join.
        """
        self.clear(keep_run=True)
        self.redis.hset(
            self.key("run"),
            mapping={
                "id": str(run_id),
                "status": RUNNING,
                "coordinator": coordinator,
                "site_root": site_root,
                "mode": mode,
                "max_rate": repr(float(max_rate)),
                "opened_at": repr(time.time()),
                "crawl": json.dumps(crawl or {}),
            },
        )

    def set_status(self, status: str) -> None:
        self.redis.hset(self.key("run"), "status", status)

    def close_run(self, status: str) -> None:
        """The run is over (`done`, `interrupted`): its queue, fingerprints and decisions go."""
        pending = [k.decode() for k in self.redis.scan_iter(match=self.key("pending", "*"))]
        self.redis.delete(
            self.queue_key,
            self.dupefilter_key,
            self.key("seq"),
            *map(self.key, DECISIONS),
            *pending,
        )
        self.redis.hset(self.key("run"), mapping={"status": status, "closed_at": repr(time.time())})

    def wait_for_run(
        self, timeout: float | None = None, run_id: str | None = None, poll: float = 0.25
    ) -> dict[str, str] | None:
        """The run record once a run is open (`run_id`: that run only); None on timeout
        or when the awaited run is no longer open."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            run = self.run()
            if run.get("status") == RUNNING and (run_id is None or run.get("id") == run_id):
                # A run whose coordinator died stays `running` until the next one opens:
                # nothing to join there.
                if self.alive(run.get("coordinator", "")):
                    return run
                if run_id is not None:
                    return None
            if run_id is not None and run.get("id") == run_id:
                return None  # that run is over
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(poll)

    def clear(self, keep_run: bool = False) -> None:
        """Delete every key of this frontier (the run record too unless `keep_run`)."""
        doomed = [self.key(k) for k in ("queue", "dupefilter", "workers", "seq", *DECISIONS)]
        for per_process in ("leased", "pending", "rate"):
            doomed += [k.decode() for k in self.redis.scan_iter(match=self.key(per_process, "*"))]
        if not keep_run:
            doomed.append(self.key("run"))
            doomed += [k.decode() for k in self.redis.scan_iter(match=self.key("alive", "*"))]
        self.redis.delete(*doomed)

    # -- processes --------------------------------------------------------------------

    def join(self, worker: str, run_id: str | None = None) -> bool:
        """Take part in the open run (that run only, given `run_id`); False if none is."""
        joined = self._scripts["join"](
            keys=[self.key("run"), self.key("workers"), self.key("alive", worker)],
            args=[worker, self._lease_ms(), run_id or ""],
        )
        if joined:
            self.member = worker
            self.start_heartbeat(worker)
        return bool(joined)

    def heartbeat(self, worker: str) -> None:
        self._scripts["heartbeat"](
            keys=[self.key("alive", worker), self.key("workers")], args=[worker, self._lease_ms()]
        )

    def start_heartbeat(self, worker: str) -> None:
        """Refresh `worker`'s lease from a thread: a busy reactor must not look dead."""
        if self._heartbeat is not None:
            return
        self._stop.clear()

        def beat() -> None:
            while not self._stop.wait(self.lease / HEARTBEATS):
                try:
                    self.heartbeat(worker)
                except redis.RedisError as error:  # a blip: the next beat may do
                    logger.warning("frontier heartbeat failed: %(error)s", {"error": error})

        self._heartbeat = threading.Thread(target=beat, name="frontier-heartbeat", daemon=True)
        self._heartbeat.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(5)
            self._heartbeat = None

    def leave(self, worker: str, status: str = "done") -> None:
        """`worker` is done: what it still held goes back, its lease ends."""
        self.stop_heartbeat()
        self.member = None
        self.release(worker)
        self.set_worker_status(worker, status)
        self.redis.delete(self.key("alive", worker))

    def set_worker_status(self, worker: str, status: str) -> None:
        """`worker`'s state, as `workers()` shows it (its lease untouched)."""
        self.redis.hset(self.key("workers"), worker, status)

    def workers(self) -> dict[str, str]:
        raw = self.redis.hgetall(self.key("workers"))
        return {k.decode(): v.decode() for k, v in raw.items()}

    def alive(self, worker: str) -> bool:
        return bool(self.redis.exists(self.key("alive", worker)))

    def wait_for_workers(self, timeout: float, poll: float = 0.2) -> dict[str, str]:
        """Until no process is `working` (each left, or its lease ran out); their states."""
        deadline = time.monotonic() + timeout
        while True:
            self.reclaim()
            states = self.workers()
            if "working" not in states.values() or time.monotonic() >= deadline:
                return states
            time.sleep(poll)

    # -- requests ---------------------------------------------------------------------

    def push(self, data: bytes, score: float, settles: tuple[str, str] | None = None) -> None:
        """Queue a request; `settles`: (process, article key) whose claim it carries out
        (`settle`, in the same step)."""
        if settles is None:
            self.redis.zadd(self.queue_key, {data: score})
            return
        worker, article_key = settles
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self.queue_key, {data: score}).hdel(self.key("pending", worker), article_key)
            pipe.execute()

    def pop(self, worker: str) -> tuple[str, bytes] | None:
        """The next request, leased to `worker`: (token, encoded request), or None."""
        found = self._scripts["pop"](
            keys=[self.queue_key, self.key("leased", worker), self.key("seq")], args=[worker]
        )
        if not found:
            return None
        token, data = found
        return token.decode(), data

    def ack(self, worker: str, token: str) -> None:
        """`worker` finished the request of `token`."""
        self.redis.hdel(self.key("leased", worker), token)

    def transfer(self, worker: str, token: str, data: bytes, score: float) -> None:
        """A leased request goes back on the queue as `data` (retried, redirected)."""
        self._scripts["transfer"](
            keys=[self.key("leased", worker), self.queue_key], args=[token, repr(score), data]
        )

    def release(self, worker: str) -> int:
        """Everything `worker` holds goes back on the queue, its pending decisions are
        undone (it stops taking part)."""
        keys = [self.key("leased", worker), self.queue_key, self.key("pending", worker)]
        keys += [self.key("decided"), self.key("article_requests")]
        return int(self._scripts["release"](keys=keys, args=[]))

    def settle(self, worker: str, *keys: str) -> None:
        """`worker`'s decisions of these article keys took effect (a request queued, a
        seen mark committed): a loss of `worker` no longer undoes them."""
        if keys:
            self.redis.hdel(self.key("pending", worker), *keys)

    def reclaim(self) -> int:
        """What processes whose lease expired held goes back (and what they decided and
        did not act on is undone); how many requests."""
        n = int(
            self._scripts["reclaim"](keys=[self.key("workers"), self.queue_key], args=[self.name])
        )
        if n:
            logger.warning("frontier: %(n)d requests of lost processes requeued", {"n": n})
        return n

    def drained(self) -> bool:
        """Nothing queued and nothing leased to anyone."""
        return bool(
            self._scripts["drained"](keys=[self.queue_key, self.key("workers")], args=[self.name])
        )

    def pending(self) -> int:
        """Requests queued or leased."""
        leased = sum(self.redis.hlen(self.key("leased", worker)) for worker in self.workers())
        return int(self.redis.zcard(self.queue_key)) + leased

    # -- politeness -------------------------------------------------------------------

    def rate_wait(self, host: str, rate: float) -> float:
        """Seconds to wait before the next request to `host` (`rate` requests/s in all)."""
        interval = 1_000_000 / rate
        wait = self._scripts["rate"](keys=[self.key("rate", host)], args=[repr(interval)])
        return int(wait) / 1_000_000

    def close(self) -> None:
        self.stop_heartbeat()
