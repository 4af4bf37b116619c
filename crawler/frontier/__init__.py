"""The shared frontier of a distributed run: Redis through scrapy-redis (docs/scale-out.md).

`state.Frontier` is the run's state in Redis (no Scrapy): the run record, the
processes taking part, the request queue with its leases, the global rate limit.
`scheduler.FrontierScheduler` is the Scrapy scheduler on top of it (scrapy-redis'
scheduler, queue and dupefilter, with leases), `ratelimit.GlobalRateLimitMiddleware`
the per-host politeness every process shares, and `addon.FrontierAddon` switches all
of it on when `ARCHIVE_FRONTIER_URL` is set.
"""
