"""Full-scale synthetic sites (`cwarchive fixtures generate`) and their mutation.

Everything is drawn from one `random.Random(seed)`, so the same arguments give the
same site byte for byte; `mutate` draws from its own generator, so the base site does
not depend on whether (or how much) it is mutated afterwards.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from common import urls
from cwarchive.testing.sitegen.facts import (
    TOPIC_TAGS,
    UNNAMED,
    ArticleFacts,
    Block,
    Person,
    slugify,
)
from cwarchive.testing.sitegen.site import Site
from cwarchive.testing.sitegen.tags import CANCER_TOPIC, CURRENT, DISEASES

FIRST_DAY = dt.date(2009, 3, 2)
LAST_DAY = dt.date(2026, 8, 19)
# Real bylines and reviewers (captures and recreation in ../shared/reference).
AUTHORS = (
    "Roman Gokhman", "Kellie Bramlet", "Jay Martinez", "Cynthia DeMarco",
    "Gina Van Thomme", "Gillian Kruse",
)  # fmt: skip
_PROFILE = "http://faculty.mdanderson.org/profiles/"
REVIEWERS = (
    Person("Pamela Schlembach, M.D.", _PROFILE + "pamela_schlembach.html"),
    Person("David Richards, M.D.", _PROFILE + "david_richards.html"),
    Person("Karen Basen-Engquist, Ph.D., MPH", _PROFILE + "karen_basen-engquist.html"),
    Person("Anirban Maitra, M.B.B.S.", _PROFILE + "anirban_maitra.html"),
    Person("Debasish Tripathy, M.D.", _PROFILE + "debasish_tripathy.html"),
    Person("Kevin Nead, M.D.", _PROFILE + "kevin_nead.html"),
    # Named in plain text, without a profile link.
    Person("Padmanee Sharma, M.D., Ph.D."),
)

_DISEASES = [(tag, label, count) for group, tag, label, count in CURRENT if group == DISEASES]
_TOPICS = [(tag, label, count) for group, tag, label, count in CURRENT if group == CANCER_TOPIC]
_THINGS = (
    "sleep", "fatigue", "nausea", "scanxiety", "hair loss", "neuropathy", "appetite",
    "exercise", "walking", "caregiving", "fertility", "clinical trials", "immunotherapy",
    "radiation therapy", "chemotherapy", "surgery", "screening", "genetic testing",
    "survivorship", "nutrition", "stress", "pain", "lymphedema", "second opinions",
)  # fmt: skip
_TITLES = (
    "{n} things to know about {thing}",
    "How to cope with {thing} during cancer treatment",
    "‘How I knew I had {disease}’: Survivors share their symptoms",
    "{Disease} survivor: {Thing} helped me through treatment",
    "What is {thing}? {n} questions, answered",
    "{Disease} and {thing}: What to know",
    "Is {thing} good for you? {n} top questions answered",
    "“{Thing} changed my life,” says {disease} survivor",
    "New research on {disease} and {thing}",
    "{n} ways our experts can help with {thing} during cancer treatment and beyond",
)
_TEXT = (
    "patients often ask their care team about this before treatment begins and the answer "
    "depends on the type of cancer the stage the treatment plan and their overall health "
    "our experts recommend talking with your doctor early asking questions keeping notes "
    "and bringing a caregiver to appointments research shows that small daily habits make "
    "a difference for many survivors during and after treatment including sleep movement "
    "nutrition and support from family friends and other patients who have been there"
)
_WORDS = _TEXT.split()


@dataclass
class MutationReport:
    """What `mutate` changed, by article key."""

    rereviewed: list[str] = field(default_factory=list)
    moved: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (old, new URL)
    retitled: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    tag_deltas: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return len(self.rereviewed) + len(self.retitled) + len(self.edited)


def _sentence(rng: random.Random, words: int) -> str:
    picked = [rng.choice(_WORDS) for _ in range(words)]
    return " ".join(picked).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng, rng.randint(8, 22)) for _ in range(rng.randint(2, 5)))


def body_blocks(rng: random.Random, title: str) -> list[Block]:
    """A realistic body: intro, h2 sections with paragraphs, lists, an h3, a quote."""
    blocks: list[Block] = [("p", _paragraph(rng)) for _ in range(rng.randint(2, 4))]
    blocks[0] = (
        "p",
        blocks[0][1] + " Learn more about [treatment options]"
        "(https://www.mdanderson.org/treatment-options.html) at UT MD Anderson.",
    )
    for section in range(rng.randint(3, 6)):
        blocks.append(("h2", f"{_sentence(rng, rng.randint(3, 7))[:-1]}"))
        blocks += [("p", _paragraph(rng)) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.4:
            blocks += [("li", _sentence(rng, rng.randint(4, 12))) for _ in range(rng.randint(2, 5))]
        if rng.random() < 0.25:
            blocks.append(("h3", _sentence(rng, rng.randint(2, 5))[:-1]))
            blocks.append(("p", _paragraph(rng)))
        if section == 1 and rng.random() < 0.3:
            blocks.append(("blockquote", f"“{_sentence(rng, 14)}”"))
    return blocks


def _title(rng: random.Random) -> str:
    disease = rng.choice(_DISEASES)[1]
    thing = rng.choice(_THINGS)
    return rng.choice(_TITLES).format(
        n=rng.randint(3, 9),
        thing=thing,
        Thing=thing.capitalize(),
        disease=disease.lower(),
        Disease=disease,
    )


def _weighted(rng: random.Random, pool: list[tuple[str, str, int]], k: int) -> list[str]:
    tags = rng.choices([t for t, _, _ in pool], weights=[c + 2 for _, _, c in pool], k=k)
    return list(dict.fromkeys(tags))


def article_facts(
    rng: random.Random,
    slug: str,
    h00: str,
    published: dt.date,
    title: str | None = None,
    section: str = "cancerwise",
) -> ArticleFacts:
    """One article with the page variants of the fixtures, drawn from `rng`."""
    title = title or _title(rng)
    roll = rng.random()
    authors = [] if roll < 0.1 else rng.sample(AUTHORS, 2) if roll < 0.18 else [rng.choice(AUTHORS)]
    roll = rng.random()
    reviewed: dt.date | None = None
    reviewers: list[Person] = []
    if roll < 0.45:
        reviewed = min(LAST_DAY, published + dt.timedelta(days=rng.choice((0, 0, 30, 400))))
        kind = rng.random()
        if kind < 0.15:
            reviewers = [UNNAMED]
        elif kind < 0.3:
            reviewers = rng.sample(REVIEWERS, 2)
        else:
            reviewers = [rng.choice(REVIEWERS)]
    image_roll = rng.random()
    disease_count = rng.choice((0, 1, 1, 2))
    return ArticleFacts(
        slug=slug,
        h00=h00,
        title=title,
        published=published,
        section=section,
        description=_sentence(rng, rng.randint(14, 30)),
        authors=authors,
        read_minutes=rng.randint(2, 9),
        reviewed=reviewed,
        reviewers=reviewers,
        key_takeaways=[_sentence(rng, rng.randint(8, 16)) for _ in range(3)]
        if rng.random() < 0.3
        else [],
        body=body_blocks(rng, title),
        tags=_weighted(rng, _DISEASES, disease_count) + _weighted(rng, _TOPICS, rng.randint(1, 3)),
        topic=rng.choice(TOPIC_TAGS),
        call_to_action=rng.random() < 0.7,
        image="og" if image_roll < 0.9 else "img" if image_roll < 0.97 else "none",
    )


def _day(rank: int, total: int) -> dt.date:
    span = (LAST_DAY - FIRST_DAY).days
    return FIRST_DAY + dt.timedelta(days=span * rank // max(1, total - 1))


def generate_site(
    articles: int = 3400, seed: int = 0, page_size: int = 10, redesign_pct: float = 0
) -> Site:
    """A synthetic site of `articles` Cancerwise articles with URLs of the real shapes.

    Titles make slugs with a leading `-` (a title opening with a quote), `--` (a colon)
    and cut-off ends; `h00` numbers are shared by runs of articles, as on the site.
    """
    rng = random.Random(seed)
    found: dict[str, ArticleFacts] = {}
    h00 = 158514834
    used: set[str] = set()
    for index in range(articles):
        published = _day(index, articles)
        if rng.random() < 0.06:  # about 17 articles per h00, as in the real inventory
            h00 += rng.randint(1000, 60000)
        title = _title(rng)
        slug = slugify(title, limit=64 if rng.random() < 0.2 else 120)
        while slug in used:
            slug += "-" + str(rng.randint(2, 9))
        used.add(slug)
        facts = article_facts(rng, slug, str(h00), published, title)
        found[facts.key] = facts
    site = Site(articles=found, page_size=page_size)
    redesign(site, redesign_pct, seed)
    return site


def site_from_inventory(
    lines: Iterable[str],
    seed: int = 0,
    limit: int | None = None,
    page_size: int = 10,
    redesign_pct: float = 0,
) -> Site:
    """A synthetic site with the article and archive URLs of a real inventory.

    Publish dates follow the order of (h00, slug): the numbers grow with time on the
    site; the inventory's archive months all exist, even where no article is filed.
    """
    rng = random.Random(seed)
    found: list[tuple[str, str, str]] = []
    archives: set[tuple[str, int, int]] = set()
    for line in lines:
        url = line.strip()
        if not url or not urls.is_site_url(url):
            continue
        path = urls.path_of(url)
        section = urls.section_of(url)
        if section is None:
            continue
        if urls.is_article_url(url):
            code = urls.article_code(url) or ""
            slug = urls.article_key(url).rsplit("/", 1)[1]
            found.append((section, slug, code))
        elif urls.is_archive_url(url):
            parts = path.removesuffix(".html").split("/")
            if parts[-1].isdigit() and len(parts[-1]) == 2:
                archives.add((section, int(parts[-2]), int(parts[-1])))
    # By when they were filed; an extension-less URL (the redesign's) has no code: first.
    found.sort(key=lambda item: (urls.filed_order(item[2]) if item[2] else (0, ""), item[1]))
    if limit is not None:
        found = found[:limit]
    articles: dict[str, ArticleFacts] = {}
    for rank, (section, slug, code) in enumerate(found):
        title = slug.strip("-").replace("--", ": ").replace("-", " ").capitalize()
        prefix, _, number = code.partition("-")
        facts = article_facts(rng, slug, number, _day(rank, len(found)), title, section)
        facts.code = prefix or "h00"
        # The inventory lists some slugs under two codes: twins, different articles filed
        # years apart (SITE.md); the one filed first keeps the slug's key.
        if facts.key in articles:
            facts.twin_key = f"{facts.key}.{code}"
        articles[facts.key] = facts
    site = Site(articles=articles, page_size=page_size, archive_months=archives)
    redesign(site, redesign_pct, seed)
    return site


def redesign(site: Site, pct: float, seed: int = 0) -> list[str]:
    """Serve PCT% of the articles in the class-free redesign (a migration under way).

    Its own generator: the rest of the site is the same with or without it.
    """
    if pct <= 0:
        return []
    rng = random.Random(f"redesign:{seed}")
    keys = sorted(site.articles)
    chosen = sorted(rng.sample(keys, min(len(keys), round(len(keys) * pct / 100))))
    for key in chosen:
        site.articles[key].markup = "redesign"
    return chosen


def mutate(
    site: Site, pct: float, seed: int = 0, when: dt.datetime | None = None
) -> MutationReport:
    """Change PCT% of the articles (reviewed date, title or body) and remove some.

    A third of the re-reviews also move to a new `h00` URL with a 301 from the old
    one; one removal per five changes (404, every fourth 410), one new article per ten,
    and changed sidebar counts. What changes is deterministic from `seed`; when it
    changed (the lastmods) is `when`, by default the wall clock, so that a crawler
    that fetched the site before sees the changes as newer than its fetch.
    """
    rng = random.Random(f"mutate:{seed}:{pct}")
    if when is None:
        when = dt.datetime.now(dt.UTC).replace(microsecond=0)
    report = MutationReport()
    keys = sorted(site.articles)
    count = min(len(keys), round(len(keys) * pct / 100))
    chosen = rng.sample(keys, count)
    rest = sorted(set(keys) - set(chosen))
    removals = rng.sample(rest, min(len(rest), max(1, count // 5)))
    day = when.date()
    for key in chosen:
        kind = rng.random()
        facts = site.article(key)
        if kind < 0.4:
            reviewer = [rng.choice(REVIEWERS)]
            # An article at its extension-less URL has no h00 number to move to.
            if rng.random() < 1 / 3 and facts.h00:
                old = facts.url
                new_h00 = str(int(facts.h00) + rng.randint(1000, 90000))
                site.rereview(key, day, new_h00=new_h00, reviewers=reviewer, when=when)
                report.moved[key] = (old, facts.url)
            else:
                site.rereview(key, day, reviewers=reviewer, when=when)
            report.rereviewed.append(key)
        elif kind < 0.7:
            site.retitle(key, facts.title + ": " + rng.choice(_THINGS) + " update", when=when)
            report.retitled.append(key)
        else:
            body = list(facts.body)
            body.insert(rng.randint(1, len(body)), ("p", _paragraph(rng)))
            site.edit_body(key, body, when=when)
            report.edited.append(key)
    for index, key in enumerate(removals):
        site.remove(key, status=410 if index % 4 == 3 else 404, when=when)
        report.removed.append(key)
    for index in range(max(1, count // 10)):
        title = _title(rng)
        facts = article_facts(rng, f"{slugify(title)}-new-{seed}-{index}", "159860000", day, title)
        site.add(facts, when=when)
        report.added.append(facts.key)
    report.tag_deltas = site.bump_tag_counts(seed=rng.randint(0, 2**31), when=when)
    return report


def read_inventory(path: str | Path) -> list[str]:
    return Path(path).read_text("utf-8").splitlines()
