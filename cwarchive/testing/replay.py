"""A static HTTP server for a directory laid out like the site (docs/replay.md).

The crawler is tested and benchmarked against it, so it answers like a real origin
where the crawler cares: `Last-Modified`/`ETag` with 304s, 404s, 410s, redirects and
temporary failures configured in `_rules.json`, and a request log that tests read
to prove what was (not) requested. With a `FaultSpec` it also fails, throttles and
lies on purpose (`cwarchive.testing.faults`, docs/replay.md "Faults").

It is a `ThreadingHTTPServer` speaking HTTP/1.1 keep-alive with a deep listen
backlog: `http.server`'s default backlog of 5 overflows under Scrapy's concurrency
(20 pages/s), and a Twisted server cannot run in a thread beside a Scrapy reactor in
the same process. For benchmarks, `spawn()` runs it in its own process so it never
shares a GIL with the crawler.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, NamedTuple, overload

from cwarchive.testing.faults import Faults, FaultSpec, FaultyAnswer
from cwarchive.testing.replay_site import DEFAULT_TYPE, Answer, ReplaySite

logger = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Scrapy reuses its connections
    server: _Server

    def do_GET(self) -> None:  # http.server calls do_<METHOD>
        self._serve(with_body=True)

    def do_HEAD(self) -> None:  # http.server calls do_<METHOD>
        self._serve(with_body=False)

    def _serve(self, with_body: bool) -> None:
        arrived = time.time()
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_port}"
        if self.server.delay:
            # Network latency stood in for: each answer waits, others go on meanwhile.
            self.server.stopping.wait(self.server.delay)
        try:
            answer = self.server.site.answer(self.command, self.path, self.headers, host)
        except Exception:  # a server bug must show as a 500, not a hung connection
            logger.exception("replay server failed on %s", self.path)
            answer = Answer(500, {})
        body = answer.body
        if answer.status >= 400 and not body:
            body = f"<html><body><h1>{answer.status}</h1></body></html>\n".encode()
            answer.headers.setdefault("Content-Type", DEFAULT_TYPE)
        fault = self._fault(answer, body, host)
        try:
            if fault is not None:
                self.server.record(
                    self.command, self.path, fault.status or 0, fault.kind, at=arrived
                )
                self._send_faulty(fault, with_body)
                return
            # Logged before answering: once a client has its response, the log shows it.
            self.server.record(self.command, self.path, answer.status, at=arrived)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body and answer.status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a refused huge page, a timeout): nothing to answer.
            self.close_connection = True

    def _fault(self, answer: Answer, body: bytes, host: str) -> FaultyAnswer | None:
        faults = self.server.faults
        if faults is None:
            return None
        content_type = answer.headers.get("Content-Type", "")
        kind, rng = faults.decide(self.command, self.path, answer.status, content_type)
        if kind is None:
            return None
        return faults.answer(kind, rng, self.path, host, (answer.status, answer.headers, body))

    def _send_faulty(self, fault: FaultyAnswer, with_body: bool) -> None:
        # Pauses wait on the server's stop event: stopping never waits for a stall.
        if fault.pause_before:
            self.server.stopping.wait(fault.pause_before)
        if fault.status is not None:
            self.send_response(fault.status)
            for name, value in fault.headers.items():
                self.send_header(name, value)
            if fault.content_length is not None:
                self.send_header("Content-Length", str(fault.content_length))
            else:
                self.send_header("Connection", "close")  # the body ends with the connection
            self.end_headers()
            if fault.pause_after_headers:
                self.server.stopping.wait(fault.pause_after_headers)
            if with_body:
                self.wfile.write(fault.body if fault.send is None else fault.body[: fault.send])
        if fault.close == "rst":
            # SO_LINGER 0: close() sends a TCP reset instead of a FIN. socketserver's own
            # shutdown would send a FIN first, so the socket is closed here.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif fault.close == "fin" or fault.status is None:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        # The request log replaces http.server's stderr line per request.
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The point of this class: http.server's backlog of 5 drops connections under load.
    request_queue_size = 1024

    def __init__(
        self,
        address: tuple[str, int],
        site: ReplaySite,
        log: Any,
        faults: Faults | None,
        delay: float = 0.0,
        log_times: bool = False,
    ) -> None:
        self.site = site
        self.faults = faults
        self.delay = delay
        self.log_times = log_times
        self.entries: list[Logged] = []
        self.stopping = threading.Event()
        self._log = log
        self._log_lock = threading.Lock()
        super().__init__(address, _Handler)

    def record(
        self, method: str, target: str, status: int, fault: str = "", at: float | None = None
    ) -> None:
        self.entries.append(Logged(method, target, status, fault))
        if self._log is not None:
            line = f"{method}\t{target}\t{status}\t{fault or '-'}"
            if self.log_times:
                # When the request arrived (epoch seconds): rate limits are read from it.
                line += f"\t{time.time() if at is None else at:.6f}"
            with self._log_lock:
                self._log.write(line + "\n")
                self._log.flush()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-answer is routine under faults, not a server bug.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class Logged(NamedTuple):
    """One answered request: `fault` is the fault applied ("" for none; docs/replay.md)."""

    method: str
    target: str
    status: int  # 0 when nothing was sent (a reset before any byte, a silent robots.txt)
    fault: str


class ReplayServer:
    """Serve `root_dir` on 127.0.0.1 from a background thread.

    >>> server = ReplayServer("fixtures/site").start()
    >>> server.url                      # 'http://127.0.0.1:40123'
    >>> server.requests                 # [('GET', '/robots.txt', 200), ...]
    >>> server.stop()

    Also a context manager (`with ReplayServer(dir) as server: ...`).
    """

    def __init__(
        self,
        root_dir: str | os.PathLike[str],
        port: int = 0,
        log: str | os.PathLike[str] | None = None,
        faults: FaultSpec | None = None,
        seed: int = 0,
        delay: float = 0.0,
        log_times: bool = False,
    ) -> None:
        self.site = ReplaySite(root_dir)
        self.faults = Faults(faults, seed) if faults is not None else None
        self.delay = delay
        self.log_times = log_times
        self._port = port
        self._log_path = log
        self._log_file: Any = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stop_lock = threading.Lock()
        self._stopped = False

    def start(self) -> ReplayServer:
        if self._server is not None:
            return self  # started already (`with spawn(...)`-style use)
        if self._log_path is not None:
            self._log_file = open(self._log_path, "a", encoding="utf-8")  # noqa: SIM115
        self._server = _Server(
            ("127.0.0.1", self._port),
            self.site,
            self._log_file,
            self.faults,
            delay=self.delay,
            log_times=self.log_times,
        )
        self._thread = threading.Thread(
            # A short poll keeps stop() quick; idle cost is negligible.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="replay-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block the calling thread (the CLI) until interrupted, then stop."""
        if self._thread is None:
            raise RuntimeError("replay server not started")
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("replay server not started")
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path+query, status) of every request answered, in order."""
        return [entry[:3] for entry in self.entries]

    @property
    def entries(self) -> list[Logged]:
        """Every request answered, in order, with the fault applied to it."""
        return list(self._server.entries) if self._server else []

    def clear_requests(self) -> None:
        if self._server:
            self._server.entries.clear()

    def stop(self) -> None:
        """Stop serving and close the log; safe to call again, from any thread."""
        with self._stop_lock:
            if self._stopped or self._server is None:
                return
            self._stopped = True
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_SERVING = re.compile(r"serving .* on (http://127\.0\.0\.1:\d+)")


class ReplayProcess:
    """The replay server in a child process (`python -m cwarchive replay-server`).

    For benchmarks and crawls in the same process: the server then never competes
    with the crawler for the GIL. The request log is read back from the log file.
    The child ends with its parent: it stops when its stdin (a pipe from here)
    closes, which also happens when the parent dies without calling `stop()`.
    """

    def __init__(
        self,
        root_dir: str | os.PathLike[str],
        log: str | os.PathLike[str],
        port: int = 0,
        faults: FaultSpec | None = None,
        seed: int = 0,
        delay: float = 0.0,
        log_times: bool = False,
    ) -> None:
        self.root = Path(root_dir)
        self.log = Path(log)
        self._port = port
        self._faults = faults
        self._seed = seed
        self._delay = delay
        self._log_times = log_times
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> ReplayProcess:
        if self._process is not None:
            return self  # started already: `with spawn(...)` must not start a second one
        command = [
            sys.executable, "-m", "cwarchive", "replay-server", str(self.root),
            "--port", str(self._port), "--log", str(self.log), "--stop-on-stdin-eof",
        ]  # fmt: skip
        if self._delay:
            command += ["--delay", repr(self._delay)]
        if self._log_times:
            command.append("--log-times")
        if self._faults is not None:
            # The child reads the spec from a file, as `--faults` does from the shell.
            spec_file = self.log.with_name(self.log.name + ".faults.json")
            spec_file.write_text(json.dumps(self._faults.to_json(), indent=1), "utf-8")
            command += ["--faults", str(spec_file), "--seed", str(self._seed)]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        # The first stdout line names the port; a crash ends stdout instead.
        line = self._process.stdout.readline()
        match = _SERVING.search(line)
        if not match:
            self.stop()
            raise RuntimeError(f"replay server did not start: {line.strip() or 'no output'}")
        self.url = match.group(1)
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        return read_log(self.log)

    @property
    def entries(self) -> list[Logged]:
        return read_log(self.log, with_faults=True)

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> ReplayProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spawn(
    root_dir: str | os.PathLike[str],
    log: str | os.PathLike[str],
    port: int = 0,
    faults: FaultSpec | None = None,
    seed: int = 0,
    delay: float = 0.0,
    log_times: bool = False,
) -> ReplayProcess:
    """Start the replay server in a child process; `.url`, `.requests`, `.stop()`.

    `delay`: seconds every answer waits (network latency, for benchmarks); `log_times`:
    each log line gets the time its request arrived (`read_log_times`).
    """
    return ReplayProcess(
        root_dir, log, port, faults=faults, seed=seed, delay=delay, log_times=log_times
    ).start()


def serve_until_stopped(
    server: ReplayServer,
    *,
    stop_on_stdin_eof: bool = False,
    announce: Callable[[], None] | None = None,
) -> None:
    """Serve in the foreground (the CLI) until Ctrl-C, SIGTERM or, if asked, stdin's end.

    `announce` runs once SIGTERM is handled: a parent that reads the server's first line
    may stop it at once, and must get a clean stop, not a process killed by the signal.
    """

    def on_sigterm(signum: int, frame: object) -> None:
        raise SystemExit(0)  # unwinds through `wait()`, which closes the log

    signal.signal(signal.SIGTERM, on_sigterm)
    if announce is not None:
        announce()
    if stop_on_stdin_eof:

        def watch_stdin() -> None:
            # os.read, not sys.stdin: a daemon thread blocked inside the buffered reader
            # holds its lock, and the interpreter aborts on it at exit.
            while os.read(0, 4096):
                pass
            server.stop()

        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the way to stop it
        server.wait()


@overload
def read_log(
    path: str | os.PathLike[str], *, with_faults: Literal[False] = False
) -> list[tuple[str, str, int]]: ...
@overload
def read_log(path: str | os.PathLike[str], *, with_faults: Literal[True]) -> list[Logged]: ...
def read_log(
    path: str | os.PathLike[str], *, with_faults: bool = False
) -> list[tuple[str, str, int]] | list[Logged]:
    """The request log written with `--log`: (method, path+query, status) per line.

    `with_faults`: `Logged` entries, with the fault of the 4th column ("" for none,
    and for the 3-column lines of logs written before faults existed).
    """
    try:
        text = Path(path).read_text("utf-8")
    except FileNotFoundError:
        return []
    entries = []
    for line in text.splitlines():
        method, target, status, *rest = line.split("\t")
        fault = rest[0] if rest and rest[0] != "-" else ""
        entries.append(Logged(method, target, int(status), fault))
    if with_faults:
        return entries
    return [(entry.method, entry.target, entry.status) for entry in entries]


def read_log_times(path: str | os.PathLike[str]) -> list[tuple[float, str, str, int]]:
    """(arrival time, method, path+query, status) of a log written with `--log-times`."""
    entries = []
    for line in Path(path).read_text("utf-8").splitlines():
        method, target, status, _fault, at, *_ = line.split("\t")
        entries.append((float(at), method, target, int(status)))
    return entries
