"""Test tooling, not the product: what the tests, benchmarks and `cwarchive demo` run against.

`layout` is how a copy of the site is kept on disk (URL <-> file), `replay` the HTTP
server that serves such a copy on loopback like the real origin, and `sitegen` the
generator of synthetic sites in the source's markup with the records they must parse
to. Only the commands that expose them (`cwarchive replay-server`, `cwarchive
fixtures`, `cwarchive demo`), tests and benchmarks import this package, as web-poet
ships `web_poet.testing` beside the page objects.
"""
