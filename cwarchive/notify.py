"""Alerts after a crawl: the Markdown digest of the run's changes, sent through Apprise.

Apprise speaks to mail, chat and webhook services from one URL each (`mailto://`,
`slack://`, `json://`, ...), so cwarchive holds no HTTP or SMTP code of its own. A
notification is a courtesy, never part of the run: a failure is a warning and a count,
and the crawl's exit status and archive stay as they were.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

NOTIFY_ENV = "CWARCHIVE_NOTIFY"
DEFAULT_NOTIFY_FIELDS = ("reviewed", "title", "removed")

logger = logging.getLogger(__name__)

# A separator between URLs: whitespace, or a comma followed by the next URL's scheme. A
# comma inside one URL (`mailto://...?to=a@example.org,b@example.org`) is not one.
_SEPARATOR = re.compile(r"\s+|,\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)")


def split_urls(values: Iterable[str]) -> list[str]:
    """The notification URLs of `--notify` values or `CWARCHIVE_NOTIFY`, each once."""
    urls: list[str] = []
    for value in values:
        urls += [part.strip(",") for part in _SEPARATOR.split(value) if part.strip(",")]
    return list(dict.fromkeys(urls))


def unreadable_url(urls: Iterable[str]) -> str | None:
    """The first URL Apprise has no service for (checked before a crawl, not after)."""
    import apprise

    for url in urls:
        if not apprise.Apprise().add(url):
            return url
    return None


def shown_url(url: str) -> str:
    """The URL as a log may show it: Apprise URLs carry passwords and tokens."""
    try:
        import apprise

        plugin = apprise.Apprise.instantiate(url)
        if plugin:
            # Without the query: the service's settings, not where the message went.
            return str(plugin.url(privacy=True)).split("?", 1)[0]
    except Exception:  # a URL Apprise cannot read: fall back to the scheme and host
        pass
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}"


@dataclass
class Delivery:
    """How many of the configured URLs took the message, and how many did not."""

    sent: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed}


def send(urls: Iterable[str], title: str, body: str) -> Delivery:
    """The message to each URL in turn (one Apprise object each, so each is counted)."""
    import apprise

    delivery = Delivery()
    for url in urls:
        reason = "the service did not accept the message"
        try:
            sender = apprise.Apprise()
            if not sender.add(url):
                reason = "Apprise has no service for this URL"
                delivered = False
            else:
                delivered = bool(
                    sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.MARKDOWN)
                )
        except Exception as error:  # a plugin that raises instead of returning False
            delivered = False
            reason = f"{type(error).__name__}: {error}"
        if delivered:
            delivery.sent += 1
        else:
            delivery.failed += 1
            logger.warning("notification to %s failed: %s", shown_url(url), reason)
    return delivery


def message(changes: Any) -> tuple[str, str]:
    """The title and Markdown body of the message about a `ChangeSet`."""
    from cwarchive import digest

    found = changes.changes
    noun = "change" if len(found) == 1 else "changes"
    return f"Cancerwise: {len(found)} {noun} in {changes.range.label}", digest.markdown(changes)


def degraded_message(
    run_id: int, degraded: list[dict[str, Any]], held: int, changes: Any = None
) -> tuple[str, str]:
    """The title and Markdown body about a run that stopped reading fields (each a
    `storage.health.FieldHealth` as a dict), with the digest of `changes` if any."""
    from cwarchive import digest

    names = ", ".join(f["field"] for f in degraded)
    lines = [
        f"Run {run_id} stopped reading **{names}** on the article pages:",
        "",
        *(
            f"- `{f['field']}`: {f['lost']} of the {f['had_before']} articles that had it "
            f"lost it ({f['has_after']} of {f['compared']} have it now)"
            for f in degraded
        ),
        "",
        f"{held} versions that only lost it were held back: those articles keep their "
        "current version, and no change was recorded for them. Fix the parser and run "
        f"`cwarchive reparse`, or accept the change: `cwarchive accept {run_id}`.",
    ]
    if changes is not None and changes.changes:
        lines += ["", digest.markdown(changes)]
    return f"Cancerwise: run {run_id} stopped reading {names}", "\n".join(lines)


def notify_run(
    db_url: str,
    run_id: int,
    urls: list[str],
    fields: tuple[str, ...] = DEFAULT_NOTIFY_FIELDS,
    degraded: list[dict[str, Any]] | None = None,
    held: int = 0,
) -> Delivery | None:
    """Send the digest of completed run `run_id`'s changes of `fields` (with those of
    the unfinished runs before it, back to the previous completed run); None when
    there are none. A run that stopped reading fields (`degraded`) sends its message
    whatever `fields` says, naming them."""
    import storage
    from storage.changes import changes, since_last_completed

    with storage.open(db_url, mode="readonly") as reader, reader.connect() as conn:
        found = changes(conn, since_last_completed(conn, run_id), fields)
    if degraded:
        return send(urls, *degraded_message(run_id, degraded, held, found))
    if not found.changes:
        return None
    title, body = message(found)
    return send(urls, title, body)


def after_crawl(
    db_url: str, numbers: dict[str, Any], urls: list[str], fields: tuple[str, ...]
) -> Delivery:
    """The alert of a finished crawl: only a completed run, or one that stopped reading
    a field (`degraded`), is reported, once, and a failure anywhere here (the archive
    unreadable, a service down) is a warning."""
    run_id = numbers.get("run_id")
    degraded = numbers.get("degraded") or []
    if run_id is None or (numbers.get("status") != "completed" and not degraded):
        return Delivery()
    try:
        return (
            notify_run(db_url, int(run_id), urls, fields, degraded, numbers.get("held", 0))
            or Delivery()
        )
    except Exception as error:
        logger.warning(
            "no notification for run %s: its changes could not be read: %s: %s",
            run_id,
            type(error).__name__,
            error,
        )
        return Delivery(failed=len(urls))
