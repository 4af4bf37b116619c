"""The articles of the fixture cases and the bundled site, in facts.

Real facts from `../shared/reference` (titles, URLs, dates, bylines, reviewers and
their profile links, tag ids and counts); the body text, descriptions and key
takeaways are our own short wording, never the site's. Where a fact is not in the
reference (the byline of an article only seen on the landing page, a second
reviewer, an article's tags), it is chosen here and marked `# invented`.
"""

from __future__ import annotations

import datetime as dt
import random

from cwarchive.testing.sitegen.facts import UNNAMED, ArticleFacts, Person
from cwarchive.testing.sitegen.generate import body_blocks

D = dt.date
_PROFILE = "http://faculty.mdanderson.org/profiles/"
SCHLEMBACH = Person("Pamela Schlembach, M.D.", _PROFILE + "pamela_schlembach.html")
RICHARDS = Person("David Richards, M.D.", _PROFILE + "david_richards.html")
BASEN_ENGQUIST = Person("Karen Basen-Engquist, Ph.D.", _PROFILE + "karen_basen-engquist.html")
MAITRA = Person("Anirban Maitra, M.B.B.S.", _PROFILE + "anirban_maitra.html")
SHARMA = Person("Padmanee Sharma, M.D., Ph.D.")  # named in plain text: no link


def insomnia(long: bool = True) -> ArticleFacts:
    """The recreation's article: named reviewer, key takeaways, the long page."""
    body = [
        (
            "p",
            "Trouble falling asleep, or waking up at 3 a.m. and staying awake, is one of "
            "the most common complaints we hear from people in [cancer treatment]"
            "(https://www.mdanderson.org/treatment-options.html).",
        ),
        (
            "p",
            "Pain, medicines, hot flashes and worry can all keep you up. The good news is "
            "that most sleep problems during treatment can be improved.",
        ),
        ("h2", "Why treatment disrupts sleep"),
        (
            "p",
            "Steroids given with chemotherapy can leave you wired at bedtime. Radiation "
            "can cause fatigue that tempts you into long daytime naps, which then make "
            "nights harder.",
        ),
        (
            "p",
            "Anxiety about scans and results is a factor, too. So is a hospital stay, "
            "with its noise, light and checks through the night.",
        ),
        ("h2", "Signs that it is more than a bad night"),
        ("li", "It takes you more than 30 minutes to fall asleep."),
        ("li", "You wake up several times a night, or too early."),
        ("li", "You feel tired, irritable or foggy during the day."),
        (
            "p",
            "When this happens three or more nights a week for a month or longer, talk "
            "with your care team.",
        ),
    ]
    if long:
        body += [
            ("h2", "What you can try at home"),
            ("h3", "Keep a steady schedule"),
            (
                "p",
                "Go to bed and get up at the same time every day, weekends included. A "
                "regular rhythm helps your body know when it is time to rest.",
            ),
            ("h3", "Move during the day"),
            (
                "p",
                "Even a short walk in daylight helps set your internal clock. Check with "
                "your doctor before starting a new exercise routine.",
            ),
            ("h3", "Watch caffeine, alcohol and screens"),
            (
                "p",
                "Stop caffeine by early afternoon, skip alcohol near bedtime and put the "
                "phone away an hour before sleep. The light and the scrolling both keep "
                "the brain alert.",
            ),
            (
                "blockquote",
                "“Sleep is part of your treatment plan, not a luxury,” Schlembach says.",
            ),
            ("h2", "When to ask for help"),
            (
                "p",
                "If home changes do not help, your care team may suggest cognitive "
                "behavioral therapy for insomnia, a short medicine course or a visit to "
                "a sleep specialist.",
            ),
            (
                "p",
                "Tell them about every medicine and supplement you take: some sleep aids "
                "interact with cancer drugs.",
            ),
        ]
    return ArticleFacts(
        slug="how-to-cope-with-insomnia-during-cancer-treatment",
        h00="159856134",
        title="How to cope with insomnia during cancer treatment",
        seo_title="Insomnia during cancer treatment: Causes, symptoms, coping | UT MD Anderson",
        description="Why cancer treatment can keep you awake, and what helps you sleep.",
        authors=["Roman Gokhman"],
        read_minutes=8,
        published=D(2026, 6, 8),
        reviewed=D(2026, 6, 8),
        reviewers=[SCHLEMBACH],
        key_takeaways=[
            "Sleep problems are common during treatment and usually treatable.",
            "A steady schedule, daytime activity and less caffeine help most people.",
            "Ask your care team when poor sleep lasts a month or more.",
        ],
        body=body,
        tags=["cancer-topics/sleep-disorders", "cancer-topics/side-effects",
              "cancer-topics/treatment"],  # invented
        topic="diagnosis-treatment",
    )  # fmt: skip


def colorectal() -> ArticleFacts:
    """Two reviewers (`A, M.D., and B, Ph.D.,`), slug with leading `-` and `---`."""
    return ArticleFacts(
        slug="-how-i-knew-i-had-colorectal-cancer---six-survivors-share-symptoms",
        h00="159781968",
        title="‘How I knew I had colorectal cancer’: Six survivors share their symptoms",
        description="Survivors describe the first signs they noticed, and a doctor explains "
        "when to get checked.",
        authors=["Cynthia DeMarco"],
        read_minutes=4,
        published=D(2025, 12, 18),
        reviewed=D(2026, 2, 3),  # invented
        reviewers=[RICHARDS, BASEN_ENGQUIST],  # the second one invented
        key_takeaways=[
            "Blood in the stool is a reason to call your doctor.",
            "Changes in bowel habits that last should be checked.",
        ],
        body=[
            ("p", "Colorectal cancer does not always cause symptoms early on. When it does, "
                  "they are easy to blame on something else."),
            ("h2", "Blood in the stool"),
            ("p", "Several survivors first noticed bright red blood and assumed it was "
                  "hemorrhoids."),
            ("h2", "Changes in bowel habits"),
            ("p", "Diarrhea or constipation that lasts for weeks is worth a visit."),
            ("h2", "Do not wait"),
            ("p", "Screening finds many cancers before symptoms appear."),
        ],
        tags=["diseases/colorectal-cancer", "diseases/colon-cancer",
              "cancer-topics/symptoms"],  # invented
        topic="diagnosis-treatment",
    )  # fmt: skip


def melanoma_seed() -> ArticleFacts:
    """The seed Cancer Frontline article: no author, the unnamed reviewer."""
    return ArticleFacts(
        slug="how-melanoma-resists-immunotherapy-drug",
        h00="159070290",
        section="publications/cancer-frontline",
        title="How melanoma resists an immunotherapy drug",
        description="A study finds how some melanomas escape an immune checkpoint drug.",
        authors=[],
        read_minutes=2,
        published=D(2016, 10, 11),
        reviewed=D(2016, 10, 11),
        reviewers=[UNNAMED],
        body=[
            ("p", "Some melanomas stop responding to an immune checkpoint drug because "
                  "their cells lose the ability to sense an immune signal, a study "
                  "led by Padmanee Sharma, M.D., Ph.D., reports."),
            ("p", "The finding suggests a way to predict who will benefit and points to "
                  "combinations that might overcome the resistance."),
            ("p", "Read more about the study in the [Newsroom]"
                  "(https://www.mdanderson.org/newsroom.html)."),
        ],
        tags=["diseases/skin-cancer", "cancer-topics/research"],  # invented
        topic="research",
        call_to_action=False,
    )  # fmt: skip


def walking() -> ArticleFacts:
    """Retitled after publication: the slug keeps the first title."""
    return ArticleFacts(
        slug="your-guide-to-walking-as-exercise",
        h00="159694389",
        title="Is walking good exercise? 4 top questions answered",
        description="Our expert explains what walking does for your health and how much "
        "is enough.",
        authors=["Gina Van Thomme"],
        read_minutes=4,
        published=D(2024, 1, 2),
        body=[
            ("p", "Walking is free, needs no gym and can be done almost anywhere."),
            ("h2", "Does walking count as exercise?"),
            ("p", "Yes, when it is brisk enough that talking takes a little effort."),
            ("h2", "How much should I walk?"),
            ("p", "Aim for about 150 minutes a week, spread over most days."),
        ],
        tags=["cancer-topics/prevention"],  # invented
        topic="healthy-living",
    )  # fmt: skip


def drug_hunter() -> ArticleFacts:
    """Leading `-` (the title opens with a quote mark) and `--` in the slug."""
    return ArticleFacts(
        slug="-drug-hunter--deploys-ai-to-accelerate-path-to-new-therapies",
        h00="159852189",
        title="‘Drug hunter’ deploys AI to accelerate path to new therapies",
        description="How a drug discovery team uses computing to move faster.",
        authors=["Jay Martinez"],
        read_minutes=2,
        published=D(2026, 1, 21),
        body=[
            ("p", "Finding a new cancer drug can take more than a decade. A team at UT MD "
                  "Anderson wants to shorten that."),
            ("h2", "Building an integrated team"),
            ("p", "Chemists, biologists and data scientists work side by side."),
        ],
        tags=["cancer-topics/research"],  # invented
        topic="research",
    )  # fmt: skip


def social_work() -> ArticleFacts:
    """A slug cut short (`...during-cancer-treatm`) with a leading `-`."""
    return ArticleFacts(
        slug="-5-ways-our-social-work-counselors-can-help-during-cancer-treatm",
        h00="158988234",
        title="5 ways our social work counselors can help during cancer treatment",
        description="What a social work counselor can do for patients and caregivers.",
        authors=["Kellie Bramlet"],
        read_minutes=2,
        published=D(2015, 6, 1),
        body=[
            ("p", "Social work counselors help with the practical and emotional side of "
                  "treatment."),
            ("li", "Finding lodging and transportation"),
            ("li", "Talking through stress and worry"),
            ("li", "Connecting you with support groups"),
        ],
        tags=["cancer-topics/support", "cancer-topics/mental-health"],  # invented
        topic="patient-caregiver-stories",
    )  # fmt: skip


def zebrafish() -> ArticleFacts:
    """No reviewer."""
    return ArticleFacts(
        slug="zebrafish-photos-put-researcher-on-cutting-edge-of-science-and-photography",
        h00="159143667",
        title="Zebrafish photos put researcher on cutting edge of science and photography",
        description="A researcher's images of zebrafish serve science and win contests.",
        authors=["Gillian Kruse"],
        read_minutes=2,
        published=D(2017, 3, 8),
        body=[
            ("p", "Zebrafish are small and see-through, which makes them a good model for "
                  "watching cells develop."),
            ("p", "The photos also caught the eye of photography judges."),
        ],
        tags=["cancer-topics/research"],  # invented
        topic="research",
    )  # fmt: skip


def holidays_2013() -> ArticleFacts:
    """An article in the 2013 form: `BY MD Anderson`, the date alone (no read time, no
    "Published"), the unnamed reviewer. The URL's code is 789 x 201312."""
    return ArticleFacts(
        slug="5-ways-to-stay-active-through-the-holidays",  # invented
        h00="158835168",
        title="5 ways to stay active through the holidays",
        description="Short walks and small habits that keep you moving in a busy season.",
        authors=["MD Anderson"],
        read_minutes=None,
        published=D(2013, 12, 16),
        reviewed=D(2014, 1, 6),
        reviewers=[UNNAMED],
        bare_date=True,
        body=[
            ("p", "Parties, travel and cold weather can push exercise off the calendar. A "
                  "few small habits keep you moving until January."),
            ("li", "Take a walk after the big meal."),
            ("li", "Park at the far end of the lot."),
            ("li", "Plan one active outing with family."),
            ("p", "Every bit of movement counts toward your weekly goal."),
        ],
        tags=["cancer-topics/prevention"],  # invented
        topic="healthy-living",
    )  # fmt: skip


# Landing-page articles (../shared/reference/pages/cancerwise.html): real titles, URLs,
# dates and topics. Bylines, reviewers, tags and bodies are invented.
_LANDING: tuple[tuple[str, str, str, D, str], ...] = (
    ("glp-1s-and-anesthesia--what-to-know-before-surgery", "159857712",
     "GLP-1s and anesthesia: What to know before surgery", D(2026, 8, 19), "expert-insights"),
    ("austin-banking-leader-and-prostate-cancer-survivor-driven-to-support-ut-md-anderson",
     "159857712", "Austin banking leader and prostate cancer survivor driven to support UT "
     "MD Anderson", D(2026, 8, 18), "philanthropy"),
    ("3-reasons-why-an-accurate-bladder-cancer-diagnosis-matters", "159857712",
     "3 reasons why an accurate bladder cancer diagnosis matters", D(2026, 8, 17),
     "diagnosis-treatment"),
    ("20-year-breast-cancer-survivor--it-s-never-too-late-to-volunteer-at-ut-md-anderson",
     "159857712", "20-year breast cancer survivor: It’s never too late to volunteer at UT "
     "MD Anderson", D(2026, 8, 14), "patient-caregiver-stories"),
    ("what-is-white-coat-syndrome", "159857712", "What is white coat syndrome?",
     D(2026, 8, 13), "healthy-living"),
    ("first-patient-on-phase-1-clinical-trial-thankful-for-ut-md-anderson", "159857712",
     "First patient on clinical trial thankful for UT MD Anderson", D(2026, 8, 12),
     "patient-caregiver-stories"),
    ("benign-vs--malignant-tumors--their-differences--explained", "159857712",
     "Benign vs. malignant tumors: Their differences, explained", D(2026, 8, 10),
     "diagnosis-treatment"),
    ("shifting-opponents-from-fighting-cancer-to-fighting-sepsis", "159857712",
     "Does having cancer put you at higher risk of developing sepsis?", D(2026, 8, 5),
     "diagnosis-treatment"),
    ("what-is-a-cytokine-storm", "159857712", "What is a cytokine storm?", D(2026, 8, 4),
     "diagnosis-treatment"),
    ("3-benefits-of-personalized-ovarian-cancer-treatment", "159856923",
     "3 benefits of personalized ovarian cancer treatment", D(2026, 7, 30),
     "diagnosis-treatment"),
    ("vitamin-k-and-cancer--is-there-a-connection", "159856923",
     "Vitamin K and cancer: Is there a connection?", D(2026, 7, 28), "healthy-living"),
    ("screening-vs--diagnostic-mammogram--what-is-the-difference", "159856923",
     "Screening vs. diagnostic mammogram: What’s the difference?", D(2026, 7, 27),
     "healthy-living"),
    ("what-is-the-blood-brain-barrier--and-how-can-we-get-past-it-to-treat-cancer",
     "159856923", "What is the blood-brain barrier, and how can we get past it to treat "
     "cancer?", D(2026, 7, 16), "research"),
    ("2-time-cancer-survivor-thankful-for-ut-md-anderson-s-guidance-an", "159856923",
     "2-time cancer survivor thankful for UT MD Anderson’s guidance and expertise",
     D(2026, 7, 6), "patient-caregiver-stories"),
    ("12-things-to-know-about-donating-platelets", "159856134",
     "12 things to know about donating platelets", D(2026, 6, 30), "expert-insights"),
    ("feeling-alone-after-a-cancer-diagnosis--here-is-how-to-break-through-that-isolation",
     "159856134", "Feeling alone after a cancer diagnosis? Here’s how to break through that "
     "isolation", D(2026, 6, 19), "expert-insights"),
    ("mentorship-makes-the-difference-for-physician-microbiome-researcher", "159856134",
     "Mentorship makes the difference for physician-microbiome researcher", D(2026, 6, 18),
     "research"),
    ("finding-the-right-therapist-for-you--3-tips-from-our-experts", "159856134",
     "Finding the right therapist for you: 3 tips from our experts", D(2026, 6, 4),
     "expert-insights"),
    ("top-5-asco-studies-advancing-personalized-medicine", "159855345",
     "Top 5 ASCO studies advancing personalized medicine", D(2026, 5, 28), "research"),
    ("leukemia-caregiver-ensures-her-husband-s-legacy-lives-on", "159855345",
     "Leukemia caregiver ensures her husband’s legacy lives on", D(2026, 5, 15),
     "philanthropy"),
    ("two-time-tongue-cancer-survivor--why-i-support-research-at-ut-mderson", "159854556",
     "Two-time tongue cancer survivor: Why I support research at UT MD Anderson",
     D(2026, 4, 16), "philanthropy"),
    ("7-ways-to-support-md-anderson", "159852978", "7 ways to support UT MD Anderson",
     D(2026, 2, 9), "philanthropy"),
)  # fmt: skip
_AUTHORS = ("Roman Gokhman", "Cynthia DeMarco", "Jay Martinez", "Gina Van Thomme")
_TAG_WORDS = {  # title word -> tag (invented tagging, by what the title is about)
    "breast": "diseases/breast-cancer", "mammogram": "diseases/breast-cancer",
    "prostate": "diseases/prostate-cancer", "bladder": "diseases/bladder-cancer",
    "ovarian": "diseases/ovarian-cancer", "leukemia": "diseases/leukemia",
    "tongue": "diseases/oral-cancer", "brain": "diseases/brain-tumor",
    "tumors": "diseases/sarcoma", "platelets": "cancer-topics/blood-donation",
    "alone": "cancer-topics/mental-health", "therapist": "cancer-topics/mental-health",
    "research": "cancer-topics/research", "studies": "cancer-topics/research",
    "trial": "cancer-topics/clinical-trials", "survivor": "cancer-topics/survivorship",
}  # fmt: skip


def _landing_article(index: int, row: tuple[str, str, str, D, str]) -> ArticleFacts:
    slug, h00, title, published, topic = row
    rng = random.Random(slug)
    words = title.lower().replace("’", " ").split()
    tags = list(dict.fromkeys(tag for word, tag in _TAG_WORDS.items() if word in words))
    # Enough articles under one tag and one author for listings with a next page.
    tags += ["cancer-topics/treatment"] if index % 2 == 0 else ["cancer-topics/prevention"]
    if index % 3 == 0:
        tags.append("diseases/breast-cancer")
    body = body_blocks(rng, title)[:8]
    reviewed = published if index % 4 == 1 else None
    return ArticleFacts(
        slug=slug,
        h00=h00,
        title=title,
        published=published,
        description=f"{title.rstrip('?.')}: what our experts and patients say.",
        authors=[] if index % 9 == 4 else [_AUTHORS[index % len(_AUTHORS)]],
        read_minutes=2 + index % 6,
        reviewed=reviewed,
        reviewers=[(SCHLEMBACH, RICHARDS, MAITRA)[index % 3]] if reviewed else [],
        key_takeaways=["Ask your care team what applies to you."] if index % 5 == 2 else [],
        body=body,
        tags=list(dict.fromkeys(tags)),
        topic=topic,
        call_to_action=index % 3 != 2,
    )


def landing_articles() -> list[ArticleFacts]:
    """The landing page's 22 articles, newest first."""
    return [_landing_article(i, row) for i, row in enumerate(_LANDING)]
