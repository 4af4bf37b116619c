"""What a worker process does before its first task: ignore Ctrl-C, and exit when the
process that started it ends. Standard library only (a leaf), so a worker imports
neither Scrapy nor SQLAlchemy; used by the crawl's parser pool (`crawler.parsing`) and
by `cwarchive reparse --jobs` (`storage.reparse`).

A `concurrent.futures` pool worker holds both ends of its task queue's pipe, so once
the process feeding it is gone without stopping the pool (SIGKILL, a crash), it would
wait for tasks forever (and keep a fork server alive with it). Each worker therefore
watches the process that started it and exits when it ends.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time


def start(parent_pid: int) -> None:
    """A pool's initializer: ignore Ctrl-C, and exit when `parent_pid` ends."""
    # Ctrl-C reaches the whole process group: the parent stops itself (a crawl
    # gracefully, a reparse by failing its run), and its workers must not die mid-page
    # (nor print a traceback each).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch = threading.Thread(target=_exit_with, args=(parent_pid,), name="exit-with-parent")
    watch.daemon = True
    watch.start()


def _exit_with(pid: int) -> None:
    try:
        process = os.pidfd_open(pid)  # readable once the process has ended (Linux 5.3+)
    except (AttributeError, OSError):
        while _running(pid):
            time.sleep(1.0)
    else:
        select.select([process], [], [])
    os._exit(0)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, someone else's: the pid was reused, which is rare enough
    return True
