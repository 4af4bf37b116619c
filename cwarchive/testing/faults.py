"""Fault injection for the replay server: a failing, throttling, lying origin.

Three parts, kept apart from the HTTP plumbing of `replay.py`:

- `FaultSpec`: the spec (`--faults SPEC.json`), rates per kind and per-path overrides.
- `Faults.decide`: which fault, if any, a request gets. Deterministic per request:
  the n-th request of one method and target under one seed always draws the same
  number, whatever order the server's threads answer in.
- `Faults.answer`: the bytes of the faulty answer (`FaultyAnswer`), which the server
  sends as told: status and headers, a pause, a body, then how to close.

The kinds and what each sends are in docs/replay.md ("Faults").
"""

from __future__ import annotations

import fnmatch
import functools
import gzip
import hashlib
import json
import os
import random
import re
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

MIB = 1024 * 1024

# The kinds a spec may name. Each applies only where it makes sense (`_APPLIES`): a
# robots fault only to /robots.txt, a sitemap fault only to sitemaps, a content fault
# only to an HTML page that would have been served with a body.
HTTP_STATUS_KINDS = ("500", "502", "503", "429")
TRANSPORT_KINDS = ("reset_before", "reset_mid_body", "stall", "short_body")
ENCODING_KINDS = ("corrupt_gzip", "gzip_bomb")
REDIRECT_KINDS = ("redirect_loop", "redirect_offsite")
CONTENT_KINDS = ("truncated_html", "garbage", "latin1_as_utf8", "utf8_as_latin1", "huge_page")
SITEMAP_KINDS = ("malformed_sitemap", "huge_sitemap", "foreign_sitemap")
ROBOTS_KINDS = ("robots_500", "robots_timeout")
KINDS = (
    *HTTP_STATUS_KINDS,
    *TRANSPORT_KINDS,
    *ENCODING_KINDS,
    *REDIRECT_KINDS,
    *CONTENT_KINDS,
    *SITEMAP_KINDS,
    *ROBOTS_KINDS,
)

# The query mark of the two URLs a redirect loop cycles between (`?cwarchive-loop=1`,
# `=2`): a request carrying it is always redirected, whatever the rates say.
LOOP_PARAMETER = "cwarchive-loop"
_LOOP_QUERY = re.compile(rf"(?:^|&){LOOP_PARAMETER}=(\d+)")

Close = Literal["keep", "fin", "rst"]


@dataclass(frozen=True)
class FaultSpec:
    """What to break and how often (probabilities per request, per kind).

    `paths`: fnmatch patterns on the URL path (no query) -> rates that replace
    `rates` for matching paths; the first matching pattern wins.
    """

    rates: Mapping[str, float] = field(default_factory=dict)
    paths: tuple[tuple[str, Mapping[str, float]], ...] = ()
    # Longer than Scrapy's DOWNLOAD_TIMEOUT (30 s): a stall is a timeout for the client.
    stall_seconds: float = 35.0
    retry_after: int = 1
    huge_page_bytes: int = 20 * MIB
    # Expanded size of the gzip bomb: over 100 MB, about 130 KB on the wire.
    bomb_bytes: int = 128 * MIB
    sitemap_entries: int = 50_000
    # Where a foreign sitemap points. The third looks like the site to a careless
    # prefix check.
    foreign_hosts: tuple[str, ...] = (
        "http://example.invalid",
        "https://cancerwise.example.com",
        "https://www.mdanderson.org.example.com",
    )
    offsite_host: str = "http://example.invalid"

    def __post_init__(self) -> None:
        _check_rates(dict(self.rates), "rates")
        for pattern, rates in self.paths:
            _check_rates(dict(rates), f"paths[{pattern!r}]")
        if self.stall_seconds < 0 or self.retry_after < 0:
            raise ValueError("stall_seconds and retry_after must not be negative")
        if not self.foreign_hosts:
            raise ValueError("foreign_hosts must name at least one host")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultSpec:
        """The spec from its JSON form (docs/replay.md); unknown keys are refused."""
        known = {
            "rates", "paths", "stall_seconds", "retry_after", "huge_page_bytes",
            "bomb_bytes", "sitemap_entries", "foreign_hosts", "offsite_host",
        }  # fmt: skip
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault spec keys: {', '.join(unknown)}")
        options: dict[str, Any] = {k: v for k, v in data.items() if k not in ("rates", "paths")}
        if "foreign_hosts" in options:
            options["foreign_hosts"] = tuple(str(h).rstrip("/") for h in options["foreign_hosts"])
        if "offsite_host" in options:
            options["offsite_host"] = str(options["offsite_host"]).rstrip("/")
        paths = tuple((str(p), dict(r)) for p, r in dict(data.get("paths", {})).items())
        return cls(rates=dict(data.get("rates", {})), paths=paths, **options)

    def to_json(self) -> dict[str, Any]:
        """The JSON form `from_json` reads back (what `spawn` hands its child)."""
        return {
            "rates": dict(self.rates),
            "paths": {pattern: dict(rates) for pattern, rates in self.paths},
            "stall_seconds": self.stall_seconds,
            "retry_after": self.retry_after,
            "huge_page_bytes": self.huge_page_bytes,
            "bomb_bytes": self.bomb_bytes,
            "sitemap_entries": self.sitemap_entries,
            "foreign_hosts": list(self.foreign_hosts),
            "offsite_host": self.offsite_host,
        }

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FaultSpec:
        try:
            data = json.loads(Path(path).read_text("utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not JSON ({error})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a fault spec is a JSON object")
        return cls.from_json(data)

    def rates_for(self, path: str) -> Mapping[str, float]:
        for pattern, rates in self.paths:
            if fnmatch.fnmatchcase(path, pattern):
                return rates
        return self.rates


def _check_rates(rates: dict[str, Any], where: str) -> None:
    unknown = sorted(set(rates) - set(KINDS))
    if unknown:
        raise ValueError(
            f"{where}: unknown fault kinds: {', '.join(unknown)} (known: {', '.join(KINDS)})"
        )
    for kind, rate in rates.items():
        if not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ValueError(f"{where}: the rate of {kind} must be a number in [0, 1]")
    if sum(rates.values()) > 1 + 1e-9:
        raise ValueError(f"{where}: the rates add up to more than 1")


@dataclass
class FaultyAnswer:
    """What the server sends instead of the normal answer, byte for byte.

    `status` None: nothing at all is sent (after `pause_before`), the connection is
    closed as `close` says. `content_length` None: no Content-Length header (the body
    ends when the connection closes); else the value sent, which may lie.
    """

    kind: str  # what the request log records: the kind, and a detail after ':'
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_length: int | None = 0
    pause_before: float = 0.0
    pause_after_headers: float = 0.0
    # How many body bytes are sent (None: all); the rest never leaves.
    send: int | None = None
    close: Close = "keep"


class Faults:
    """The spec with its seed, deciding and building faulty answers for one server."""

    def __init__(self, spec: FaultSpec, seed: int = 0) -> None:
        self.spec = spec
        self.seed = seed
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def _draw(self, method: str, target: str) -> random.Random:
        # One generator per request, seeded with the request's identity and its rank
        # among requests of the same target: a server thread answering late cannot
        # shift the faults of every other page (one shared stream would).
        identity = f"{method} {target}"
        with self._lock:
            count = self._counts.get(identity, 0)
            self._counts[identity] = count + 1
        key = f"{self.seed}\0{identity}\0{count}".encode()
        # Through a hash: Random's own seeding of similar strings gave runs of
        # similar first draws.
        return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))

    def decide(
        self, method: str, target: str, status: int, content_type: str
    ) -> tuple[str | None, random.Random]:
        """The fault for this request (None: answer normally) and its generator.

        `status` and `content_type` are those of the normal answer: content faults
        need an HTML page served with a body, sitemap faults a sitemap.
        """
        rng = self._draw(method, target)
        parts = urlsplit(target)
        if _LOOP_QUERY.search(parts.query):
            return "redirect_loop", rng
        applicable = _applicable(parts.path or "/", status, content_type)
        rates = self.spec.rates_for(parts.path or "/")
        draw = rng.random()
        total = 0.0
        for kind in KINDS:  # a fixed order: the same draw means the same kind
            if kind not in applicable:
                continue
            total += rates.get(kind, 0.0)
            if draw < total:
                return kind, rng
        return None, rng

    def answer(
        self,
        kind: str,
        rng: random.Random,
        target: str,
        host: str,
        normal: tuple[int, dict[str, str], bytes],
    ) -> FaultyAnswer:
        """The bytes of `kind` for this request; `normal` is (status, headers, body)."""
        status, headers, body = normal
        spec = self.spec
        if kind in HTTP_STATUS_KINDS or kind == "robots_500":
            code = 500 if kind == "robots_500" else int(kind)
            page = f"<html><body><h1>{code}</h1></body></html>\n".encode()
            fault_headers = {"Content-Type": "text/html; charset=utf-8"}
            detail = kind
            if code in (503, 429) and rng.random() < 0.5:
                fault_headers["Retry-After"] = str(spec.retry_after)
                detail += f":retry-after={spec.retry_after}"
            return FaultyAnswer(detail, code, fault_headers, page, len(page))
        if kind in ("reset_before", "robots_timeout"):
            # robots_timeout: silence longer than the client waits, then a plain close.
            pause = spec.stall_seconds if kind == "robots_timeout" else 0.0
            close: Close = "fin" if kind == "robots_timeout" else "rst"
            return FaultyAnswer(kind, None, pause_before=pause, close=close)
        if kind in ("reset_mid_body", "short_body"):
            # The true Content-Length, then part of the body: reset or a plain close.
            whole = body or b"<html><body>" + b" " * 4096 + b"</body></html>\n"
            sent = rng.randrange(0, max(1, len(whole) - 1))
            return FaultyAnswer(
                f"{kind}:sent={sent}/{len(whole)}",
                status if body else 200,
                dict(headers),
                whole,
                len(whole),
                send=sent,
                close="rst" if kind == "reset_mid_body" else "fin",
            )
        if kind == "stall":
            return FaultyAnswer(
                kind,
                status,
                dict(headers),
                body,
                len(body),
                pause_after_headers=spec.stall_seconds,
                close="fin",
            )
        if kind == "corrupt_gzip":
            broken, how = corrupt_gzip(body or b"<html></html>", rng)
            fault_headers = {**headers, "Content-Encoding": "gzip"}
            return FaultyAnswer(
                f"{kind}:{how}", status if body else 200, fault_headers, broken, len(broken)
            )
        if kind == "gzip_bomb":
            bomb = gzip_bomb(spec.bomb_bytes)
            fault_headers = {
                "Content-Type": headers.get("Content-Type", "text/html; charset=utf-8"),
                "Content-Encoding": "gzip",
            }
            return FaultyAnswer(kind, 200, fault_headers, bomb, len(bomb))
        if kind == "redirect_loop":
            parts = urlsplit(target)
            match = _LOOP_QUERY.search(parts.query)
            # Target -> ?loop=1 -> ?loop=2 -> ?loop=1 ...: two URLs in a cycle.
            step = 2 if match and match.group(1) == "1" else 1
            location = f"http://{host}{parts.path}?{LOOP_PARAMETER}={step}"
            return FaultyAnswer(kind, 302, {"Location": location}, b"", 0)
        if kind == "redirect_offsite":
            location = spec.offsite_host + urlsplit(target).path
            return FaultyAnswer(kind, 302, {"Location": location}, b"", 0)
        if kind == "truncated_html":
            end = body.lower().rfind(b"</html")
            end = end if end > 0 else len(body)
            cut = rng.randrange(min(64, end - 1), end) if end > 1 else 0
            piece = body[:cut]
            return FaultyAnswer(
                f"{kind}:cut={cut}/{len(body)}", status, dict(headers), piece, len(piece)
            )
        if kind == "garbage":
            size = rng.randrange(1, 64 * 1024)
            noise = rng.randbytes(size)
            fault_headers = {**headers, "Content-Type": "text/html; charset=utf-8"}
            return FaultyAnswer(f"{kind}:{size}", 200, fault_headers, noise, len(noise))
        if kind == "latin1_as_utf8":
            # Windows-1252 bytes (what a misconfigured transcoder sends: curly quotes
            # included) declared as UTF-8. Characters it lacks become character
            # references, which still read right: the lie is in the bytes, not the text.
            text = body.decode("utf-8")
            recoded = text.encode("cp1252", errors="xmlcharrefreplace")
            fault_headers = {**headers, "Content-Type": "text/html; charset=utf-8"}
            return FaultyAnswer(kind, status, fault_headers, recoded, len(recoded))
        if kind == "utf8_as_latin1":
            # The UTF-8 bytes as they are, declared ISO-8859-1.
            fault_headers = {**headers, "Content-Type": "text/html; charset=iso-8859-1"}
            return FaultyAnswer(kind, status, fault_headers, body, len(body))
        if kind == "huge_page":
            page = huge_page(body, spec.huge_page_bytes)
            # With a Content-Length the client can refuse at once; without one (the
            # body ends with the connection) only by counting what arrives.
            if rng.random() < 0.5:
                return FaultyAnswer(f"{kind}:length", status, dict(headers), page, len(page))
            return FaultyAnswer(
                f"{kind}:close-delimited", status, dict(headers), page, None, close="fin"
            )
        if kind == "malformed_sitemap":
            broken, how = malformed_sitemap(body, rng)
            return FaultyAnswer(f"{kind}:{how}", status, dict(headers), broken, len(broken))
        if kind == "huge_sitemap":
            big = huge_sitemap(body, spec.sitemap_entries)
            return FaultyAnswer(kind, status, dict(headers), big, len(big))
        if kind == "foreign_sitemap":
            foreign = foreign_sitemap(body, spec.foreign_hosts)
            return FaultyAnswer(kind, status, dict(headers), foreign, len(foreign))
        raise ValueError(f"unknown fault kind {kind!r}")


def _applicable(path: str, status: int, content_type: str) -> frozenset[str]:
    if path == "/robots.txt":
        return _FOR_ROBOTS
    with_body = status == 200
    if path.endswith(".xml"):
        return _FOR_SITEMAPS if with_body else _GENERAL
    if with_body and content_type.startswith("text/html"):
        return _FOR_HTML
    return _GENERAL


_GENERAL = frozenset((*HTTP_STATUS_KINDS, *TRANSPORT_KINDS, *ENCODING_KINDS, *REDIRECT_KINDS))
_FOR_HTML = _GENERAL | frozenset(CONTENT_KINDS)
_FOR_SITEMAPS = _GENERAL | frozenset(SITEMAP_KINDS)
_FOR_ROBOTS = _GENERAL | frozenset(ROBOTS_KINDS)


# --- Byte-level answers --------------------------------------------------------------


def corrupt_gzip(body: bytes, rng: random.Random) -> tuple[bytes, str]:
    """`body` gzipped, then broken one of four ways (named in the second value)."""
    packed = gzip.compress(body, mtime=0)
    how = rng.choice(("garbage", "cut", "flipped", "crc"))
    if how == "garbage":  # a gzip header, then noise
        return packed[:10] + rng.randbytes(max(16, len(packed) - 10)), how
    if how == "cut":  # the stream stops half way: a lenient reader returns a prefix
        return packed[: max(11, len(packed) // 2)], how
    if how == "flipped":  # bytes flipped in the deflate data: garbled or an error
        data = bytearray(packed)
        for _ in range(8):
            index = rng.randrange(10, max(11, len(data) - 8))
            data[index] ^= 0xFF
        return bytes(data), how
    # The data whole, the CRC in the trailer wrong.
    data = bytearray(packed)
    data[-8] ^= 0xFF
    return bytes(data), how


@functools.lru_cache(maxsize=2)
def gzip_bomb(expanded: int) -> bytes:
    """A gzip stream of `expanded` bytes of one repeated byte: ~1/1000 on the wire."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * MIB
    pieces = [compressor.compress(b"<html><body>")]
    left = expanded
    while left > 0:
        pieces.append(compressor.compress(chunk[: min(left, MIB)]))
        left -= MIB
    pieces.append(compressor.flush())
    return b"".join(pieces)


def huge_page(body: bytes, size: int) -> bytes:
    """The page grown to `size` bytes by a comment before `</body>` (still a page)."""
    start = body.lower().rfind(b"</body")
    if start < 0:
        body, start = b"<html><body></body></html>\n", len(b"<html><body>")
    padding = max(0, size - len(body) - 9)
    return body[:start] + b"<!-- " + b"x" * padding + b" -->" + body[start:]


def malformed_sitemap(body: bytes, rng: random.Random) -> tuple[bytes, str]:
    """The sitemap broken one of three ways (named in the second value)."""
    how = rng.choice(("cut", "unescaped", "html"))
    if how == "cut":  # stops mid-document, maybe inside a <lastmod>
        return body[: rng.randrange(len(body) // 4, max(len(body) // 4 + 1, len(body) - 20))], how
    if how == "unescaped":  # a bare `&` and an unclosed element in the middle
        middle = body.find(b"</url>", len(body) // 2)
        middle = middle if middle > 0 else len(body) // 2
        return body[:middle] + b"<url><loc>https://www.mdanderson.org/?a&b</url>" + body[
            middle:
        ], how
    # An error page served as the sitemap, with a 200.
    return b"<html><body><h1>Service temporarily unavailable</h1></body></html>\n", how


def huge_sitemap(body: bytes, entries: int) -> bytes:
    """The sitemap's own entries, then filler of another section up to `entries`."""
    own = re.findall(rb"<url>.*?</url>", body, re.DOTALL)
    filler = (
        b"<url><loc>https://www.mdanderson.org/newsroom/filler-%d.html</loc>"
        b"<lastmod>2026-01-01</lastmod></url>"
    )
    rows = own + [filler % index for index in range(max(0, entries - len(own)))]
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + b"\n".join(rows)
        + b"\n</urlset>\n"
    )


def foreign_sitemap(body: bytes, hosts: tuple[str, ...]) -> bytes:
    """Every `<loc>` moved onto other hosts (same paths), in turn."""
    count = 0

    def move(match: re.Match[bytes]) -> bytes:
        nonlocal count
        host = hosts[count % len(hosts)].encode()
        count += 1
        path = urlsplit(match.group(1).decode("utf-8", "replace")).path.encode()
        return b"<loc>" + host + path + b"</loc>"

    return re.sub(rb"<loc>\s*([^<]*?)\s*</loc>", move, body)
