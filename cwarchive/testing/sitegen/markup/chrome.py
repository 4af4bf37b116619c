"""The site's page chrome (header, mega-menu, pre-footer, footer) in its AEM markup.

`page_shell` puts a page's main part in it; `plain_page_shell` in the class-free
redesign's plain header and footer.

Our own markup following the structure and class names of the recreation in
`../shared/reference/pages/`; it carries no article or archive links, so a listing
page's links are exactly those the listing renderer logs. It is most of a page's
weight (the real pages are 75-115 KB, mostly chrome), which matters for benchmarks.
"""

# Templates keep the site's markup one element per line, as the recreation shows it.
# ruff: noqa: E501

from __future__ import annotations

from functools import cache

from cwarchive.testing.sitegen.facts import SITE
from cwarchive.testing.sitegen.markup.common import attr, text
from cwarchive.testing.sitegen.tags import CURRENT, DISEASES

_TREATMENTS = (
    "Chemotherapy", "Radiation Therapy", "Surgery", "Immunotherapy", "Targeted Therapy",
    "Hormone Therapy", "Stem Cell Transplantation", "CAR T Cell Therapy",
    "Proton Therapy", "Clinical Trials", "Integrative Medicine", "Palliative Care",
    "Rehabilitation Services", "Nutrition", "Psychiatry", "Social Work",
)  # fmt: skip
_PATIENTS = (
    ("Becoming Our Patient", "patients-family/becoming-our-patient"),
    ("Planning Your Visit", "patients-family/becoming-our-patient/planning-for-your-visit"),
    ("Insurance and Billing", "patients-family/becoming-our-patient/insurance-billing"),
    ("International Patients", "patients-family/becoming-our-patient/international-patients"),
    ("Second Opinion", "patients-family/diagnosis-treatment/second-opinion"),
    ("Care Centers and Clinics", "patients-family/diagnosis-treatment/care-centers-clinics"),
    ("Clinical Trials", "patients-family/diagnosis-treatment/clinical-trials"),
    ("Patient Education", "patients-family/life-after-cancer"),
    ("Support Services", "patients-family/support-services"),
    ("Caregivers", "patients-family/caregivers"),
    ("Survivorship", "patients-family/life-after-cancer/survivorship"),
    ("Prevention & Screening", "prevention-screening"),
    ("Manage Your Risk", "prevention-screening/manage-your-risk"),
    ("Get Screened", "prevention-screening/get-screened"),
)
_RESEARCH = (
    "Departments, Labs and Institutes", "Research Areas", "Clinical Trials",
    "Moon Shots Program", "Research Resources", "Therapeutics Discovery",
    "Institute for Data Science in Oncology", "Immunotherapy Platform",
    "Cancer Center Support Grant", "Research Highlights",
)  # fmt: skip
_EDUCATION = (
    "Degree-Granting Schools", "Graduate Medical Education", "Nursing Education",
    "Postdoctoral Training", "Student Programs", "Continuing Professional Education",
)  # fmt: skip
_ABOUT = (
    "Our Locations", "Contact Us", "Facts & History", "Leadership", "Newsroom",
    "Publications", "Careers", "Volunteer", "Give Now", "Strategic Plan",
)  # fmt: skip
_FOOTER_COLUMNS = (
    ("Patients", ("Request an Appointment", "Cancer Types", "Treatment Options",
                  "Clinical Trials", "Insurance and Billing", "Pay My Bill")),
    ("Donors & Volunteers", ("Give Now", "Volunteer", "Donate Blood", "Fundraise",
                             "Planned Giving", "Board of Visitors")),
    ("Health Professionals", ("Refer a Patient", "Physician Relations",
                              "Continuing Education", "Grand Rounds")),
    ("Research", ("Research Areas", "Departments and Labs", "Research Highlights",
                  "Core Facilities")),
    ("About", ("Our Locations", "Newsroom", "Careers", "Contact Us", "Leadership",
               "Publications")),
)  # fmt: skip


def _path(label: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-")


def _flyout(heading: str, links: list[tuple[str, str]], mobile: bool) -> str:
    prefix = "mda-nav-mobile" if mobile else "mda-nav"
    items = "\n".join(
        f'              <li class="{prefix}-flyout-item"><a class="{prefix}-flyout-link" '
        f'href="{SITE}/{path}.html">{text(label)}</a></li>'
        for label, path in links
    )
    return (
        f'          <div class="{prefix}-flyout" hidden>\n'
        f'            <p class="{prefix}-flyout-heading">{text(heading)}</p>\n'
        f'            <ul class="{prefix}-flyout-list">\n{items}\n            </ul>\n'
        f"          </div>"
    )


def _menu() -> list[tuple[str, str, list[tuple[str, str]]]]:
    cancer_types = [
        (label, "cancer-types/" + tag.split("/", 1)[1])
        for group, tag, label, _ in CURRENT
        if group == DISEASES
    ]
    return [
        ("Patients & Family", "patients-family", list(_PATIENTS)),
        ("Cancer Types", "cancer-types", cancer_types),
        (
            "Treatment Options",
            "treatment-options",
            [(t, "treatment-options/" + _path(t)) for t in _TREATMENTS],
        ),
        ("For Physicians", "for-physicians", [(t, "for-physicians/" + _path(t)) for t in _ABOUT]),
        ("Research", "research", [(t, "research/" + _path(t)) for t in _RESEARCH]),
        (
            "Education & Training",
            "education-training",
            [(t, "education-training/" + _path(t)) for t in _EDUCATION],
        ),
        ("About Us", "about-md-anderson", [(t, "about-md-anderson/" + _path(t)) for t in _ABOUT]),
    ]


def _nav(mobile: bool) -> str:
    prefix = "mda-nav-mobile" if mobile else "mda-nav"
    parts = []
    for index, (label, path, links) in enumerate(_menu(), start=1):
        parts.append(
            f'        <li class="dropdown">\n'
            f'          <div class="{prefix}-button-wrapper dropdown-trigger">\n'
            f'            <a id="{prefix}-link-{index}" href="{SITE}/{path}.html">{text(label)}</a>\n'
            f'            <button class="dropdown-trigger-button" type="button"></button>\n'
            f"          </div>\n"
            f"{_flyout(label, links, mobile)}\n"
            f"        </li>"
        )
    items = "\n".join(parts)
    hidden = " hidden" if mobile else ""
    return (
        f'<nav class="{prefix} {"mobile" if mobile else "desktop"}"{hidden}>\n'
        f'  <div class="{prefix}-container">\n'
        f'    <div class="{prefix}-main">\n'
        f'      <ul class="{prefix}-list flex-row">\n{items}\n      </ul>\n'
        f"    </div>\n  </div>\n</nav>"
    )


@cache
def header() -> str:
    """The site header, utility bar and desktop and mobile mega-menus."""
    return f"""<!-- CHROME:TOP -->
<header class="mda-nav" data-canon="chrome-header">
  <a id="content-skip-btn" href="#skip">Skip to Content</a>
  <div class="mda-cta-list-container desktop" data-canon="chrome-utility-bar">
    <ul class="mda-cta-list">
      <li class="mda-cta-list-item login dropdown">
        <a class="dropdown-trigger" href="https://my.mdanderson.org/MyChart/Home/"><span class="red-my">My</span><span class="white-chart">Chart</span></a>
      </li>
      <li class="mda-cta-list-item appointment dropdown">
        <button class="dropdown-trigger" type="button">Request an Appointment</button>
      </li>
      <li class="mda-cta-list-item donate onlypossiblehere">
        <a class="dropdown-trigger" href="{SITE}/gifts/donate.html">Donate Today<i class="fa fa-heart mda-inverse"></i></a>
      </li>
    </ul>
  </div>
  <div class="mda-nav-top flex-row">
    <a id="nav-logo" href="{SITE}/">
      <img src="{SITE}/etc.clientlibs/mda/clientlibs/mda-web/clientlib-site/resources/images/mda-logo.png" alt="The University of Texas MD Anderson Cancer Center">
    </a>
    <div class="spacer desktop"></div>
    <ul class="mda-nav-utility desktop flex-row">
      <li><a class="mda-nav-utility-clinical-trials" href="{SITE}/patients-family/diagnosis-treatment/clinical-trials.html">Clinical Trials</a></li>
      <li><a class="mda-nav-utility-directions" href="{SITE}/about-md-anderson/our-locations.html"><span>Locations</span></a></li>
      <li><a class="careers" href="https://jobs.mdanderson.org/">Careers<span class="mda-icon-linkout"></span></a></li>
      <li><a class="mda-nav-utility-call" href="{SITE}/about-md-anderson/contact-us.html">Contact Us</a></li>
      <li><a class="mda-nav-utility-doctors" href="https://faculty.mdanderson.org/">Our Doctors</a></li>
    </ul>
    <div class="mda-nav-search desktop">
      <form class="search-form" action="{SITE}/search-results.html"><label class="search-label" for="nav-search">Search</label><input type="text" id="nav-search" class="search-field"><input type="submit" class="form-search-submit" value="Go"></form>
    </div>
  </div>
</header>
{_nav(mobile=False)}
{_nav(mobile=True)}
<!-- /CHROME:TOP -->"""


@cache
def footer() -> str:
    """The #EndCancer band and the footer."""
    columns = "\n".join(
        f'      <div class="footer-column">\n'
        f'        <h4 class="footer-heading">{text(title)}</h4>\n'
        f'        <ul class="footer-links">\n'
        + "\n".join(
            f'          <li><a href="{SITE}/{_path(title)}/{_path(link)}.html">'
            f"{text(link)}</a></li>"
            for link in links
        )
        + "\n        </ul>\n      </div>"
        for title, links in _FOOTER_COLUMNS
    )
    promos = "\n".join(
        f"""        <div class="cell-t cell-full-height">
          <div class="module m-bleed">
            <div class="promo promo-no-icon promo-background-red">
              <div class="promo-icon-header-wrapper">
                <div class="promo-header"><h3 class="title minion-heading heading-center">{text(title)}</h3></div>
              </div>
              <div class="promo-text">
                <div class="body promo-text-normal">{text(blurb)}</div>
                <div class="cta-wrapper"><a class="cta" href="{SITE}/{path}.html">{text(cta)}</a></div>
              </div>
            </div>
          </div>
        </div>"""
        for title, blurb, cta, path in (
            ("Give Now", "Every gift funds research and care for our patients.", "Donate",
             "gifts/donate"),
            ("Donate Blood", "Patients need blood donations every day.", "Find a drive",
             "donors-volunteers/donate-blood"),
            ("Shop UT MD Anderson", "Purchases support our mission.", "Shop",
             "about-md-anderson/shop"),
        )
    )  # fmt: skip
    return f"""<!-- CHROME:ENDCANCER -->
<div class="pre-footer" data-canon="chrome-endcancer">
  <div class="iparys_inherited">
    <section class="highlight apply" data-section="endcancer-trio">
      <div class="nested-section-title">
        <h2 class="section-title text-center">Help #EndCancer</h2>
      </div>
      <div class="table table-3col">
{promos}
      </div>
    </section>
  </div>
</div>
<!-- CHROME:FOOTER -->
<footer class="mda-footer" data-canon="chrome-footer">
  <div class="footer-top">
    <div class="footer-columns flex-row">
{columns}
    </div>
  </div>
  <div class="footer-bottom">
    <ul class="footer-legal">
      <li><a href="{SITE}/about-md-anderson/legal-and-policies.html">Legal &amp; Policies</a></li>
      <li><a href="{SITE}/about-md-anderson/legal-and-policies/privacy-policy.html">Privacy Policy</a></li>
      <li><a href="{SITE}/about-md-anderson/legal-and-policies/accessibility.html">Accessibility</a></li>
      <li><a href="{SITE}/sitemap.html">Site Map</a></li>
    </ul>
    <p class="footer-address">1515 Holcombe Blvd., Houston, TX 77030 &middot; 1-877-632-6789</p>
    <p class="footer-copyright">&copy; 2026 The University of Texas MD Anderson Cancer Center</p>
  </div>
</footer>"""


@cache
def plain_header() -> str:
    """The class-free redesign's header and navigation."""
    links = "\n".join(
        f'      <li><a href="{SITE}/{path}.html">{text(label)}</a></li>'
        for label, path, _ in _menu()
    )
    return f"""<header>
  <a href="{SITE}/">The University of Texas MD Anderson Cancer Center</a>
  <nav aria-label="Main">
    <ul>
{links}
    </ul>
  </nav>
</header>"""


@cache
def plain_footer() -> str:
    links = "\n".join(
        f'    <li><a href="{SITE}/{_path(title)}.html">{text(title)}</a></li>'
        for title, _ in _FOOTER_COLUMNS
    )
    return f"""<footer>
  <ul>
{links}
  </ul>
  <p>&copy; 2026 The University of Texas MD Anderson Cancer Center</p>
</footer>"""


def page_shell(head: str, body_class: str, main: str) -> str:
    """A page of the site: its chrome (header, menus, footer) around `main`."""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n{head}\n<body class="{attr(body_class)}">\n'
        f"{header()}\n{main}\n{footer()}\n</body>\n</html>\n"
    )


def plain_page_shell(head: str, main: str) -> str:
    """A page of the class-free redesign: its plain header and footer around `main`."""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n{head}\n<body>\n{plain_header()}\n'
        f"{main}\n{plain_footer()}\n</body>\n</html>\n"
    )
