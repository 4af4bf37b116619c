"""The bundled site some weeks later: what `cwarchive demo` crawls the second time.

The changes the real site goes through in six weeks, on the bundled site
(`cases.small_site`): articles re-reviewed (one moved to a new URL, the old one
answering 301), one retitled, one rewritten, one removed (404), one new, and the
sidebar's counts moved with them. What changes is fixed; only the lastmods are the
wall clock, so a crawler that fetched the site before sees them as newer than its
fetch (as `generate.mutate` does for full-scale sites).
"""

from __future__ import annotations

import datetime as dt

from cwarchive.testing.sitegen.articles import BASEN_ENGQUIST, SCHLEMBACH
from cwarchive.testing.sitegen.facts import ArticleFacts, slugify
from cwarchive.testing.sitegen.generate import MutationReport
from cwarchive.testing.sitegen.site import Site

WEEKS = 6

INSOMNIA = "cancerwise/how-to-cope-with-insomnia-during-cancer-treatment"
COLORECTAL = "cancerwise/-how-i-knew-i-had-colorectal-cancer---six-survivors-share-symptoms"
CYTOKINE_STORM = "cancerwise/what-is-a-cytokine-storm"
WALKING = "cancerwise/your-guide-to-walking-as-exercise"
DRUG_HUNTER = "cancerwise/-drug-hunter--deploys-ai-to-accelerate-path-to-new-therapies"
WHITE_COAT = "cancerwise/what-is-white-coat-syndrome"

# The new article's h00 and the colorectal article's new one (after the site's last).
NEW_H00 = "159861204"
MOVED_H00 = "159861187"


def new_article(day: dt.date) -> ArticleFacts:
    """The article published in those weeks (our own wording)."""
    title = "Sleep after cancer treatment: 5 tips from our experts"
    return ArticleFacts(
        slug=slugify(title),
        h00=NEW_H00,
        title=title,
        description="Why sleep can stay hard after treatment ends, and what helps.",
        authors=["Gina Van Thomme"],
        read_minutes=3,
        published=day,
        reviewed=day,
        reviewers=[SCHLEMBACH],
        body=[
            ("p", "Many survivors find that sleep stays difficult long after their last "
                  "treatment. Our experts share what helps."),
            ("h2", "Keep a regular schedule"),
            ("p", "Going to bed and getting up at the same times every day helps the body "
                  "relearn when to sleep."),
            ("h2", "Move during the day"),
            ("p", "A short walk in daylight makes it easier to fall asleep at night."),
        ],
        tags=["cancer-topics/sleep-disorders", "cancer-topics/survivorship"],
        topic="healthy-living",
    )  # fmt: skip


def weeks_later(site: Site, when: dt.datetime | None = None) -> MutationReport:
    """Change the bundled `site` into the site as it stands WEEKS weeks later.

    The new reviewed and publish dates are WEEKS weeks after the site's date; the
    lastmod of every change is `when`, by default the wall clock (and never before
    those dates' noon or the site's last change).
    """
    if site.stamp is None:
        raise ValueError("the site has no date: no articles")
    day = site.stamp.date() + dt.timedelta(weeks=WEEKS)
    if when is None:
        clock = dt.datetime.now(dt.UTC).replace(microsecond=0)
        when = max(clock, dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC))
    report = MutationReport()

    site.rereview(INSOMNIA, day, reviewers=[SCHLEMBACH, BASEN_ENGQUIST], when=when)
    old_url = site.article(COLORECTAL).url
    site.rereview(COLORECTAL, day, new_h00=MOVED_H00, when=when)
    report.moved[COLORECTAL] = (old_url, site.article(COLORECTAL).url)
    site.rereview(CYTOKINE_STORM, day, when=when)  # its first review: unnamed reviewer
    report.rereviewed += [INSOMNIA, COLORECTAL, CYTOKINE_STORM]

    site.retitle(WALKING, "Is walking good exercise? 5 top questions answered", when=when)
    report.retitled.append(WALKING)
    body = list(site.article(WALKING).body)
    body += [
        ("h2", "Is walking safe during treatment?"),
        ("p", "For most patients, yes: ask your care team how far and how fast is right."),
    ]
    site.edit_body(WALKING, body, when=when)

    drug_hunter = site.article(DRUG_HUNTER)
    body = [*drug_hunter.body, ("p", "The team's first candidate drug entered a clinical trial.")]
    site.edit_body(DRUG_HUNTER, body, when=when)
    report.edited += [WALKING, DRUG_HUNTER]

    site.remove(WHITE_COAT, when=when)
    report.removed.append(WHITE_COAT)
    report.added.append(site.add(new_article(day), when=when).key)

    # The sidebar counts the whole site, not only these articles: the new article's
    # tags, the removed one's, and what else the site published in those weeks.
    report.tag_deltas = site.bump_tag_counts(
        {
            "cancer-topics/sleep-disorders": 1,
            "cancer-topics/survivorship": 1,
            "cancer-topics/treatment": 3,
            "diseases/breast-cancer": 2,
            "cancer-topics/prevention": -1,
        },
        when=when,
    )
    return report
