"""The worker side of `crawler.parsing`: set up once in each worker process (stdlib only,
so a worker imports no Scrapy).

A pool worker holds both ends of its task queue's pipe, so once the crawl feeding it is
gone without stopping the pool (SIGKILL, a crash), it would wait for tasks forever, and
keep the fork server alive with it. Each worker therefore watches the crawl's process
and exits when it ends.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time


def start(crawl_pid: int) -> None:
    """The pool's initializer: ignore Ctrl-C, and exit when `crawl_pid` ends."""
    # Ctrl-C reaches the whole process group: the crawl stops itself gracefully, and its
    # workers must not die mid-page (nor print a traceback each).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch = threading.Thread(target=_exit_with, args=(crawl_pid,), name="exit-with-crawl")
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
