"""`cwarchive demo`: the bundled site, then the same site weeks later, and what changed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cwarchive.testing.sitegen.cases import small_site
from cwarchive.testing.sitegen.later import (
    COLORECTAL,
    CYTOKINE_STORM,
    INSOMNIA,
    WALKING,
    WHITE_COAT,
    weeks_later,
)
from storage import Archive
from tests.storage_records import article, raw_page


def cwarchive(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cwarchive", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def as_json(cwd: Path, *args: str) -> Any:
    done = cwarchive(cwd, *args, "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A directory where `cwarchive demo --json` ran, and what it printed."""
    cwd = tmp_path_factory.mktemp("demo")
    return cwd, as_json(cwd, "demo")


def test_the_demo_crawls_the_site_then_the_site_weeks_later(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    cwd, shown = demo
    first, second = shown["crawls"]
    assert (first["run_id"], second["run_id"]) == (1, 2)
    assert [c["status"] for c in shown["crawls"]] == ["completed", "completed"]
    assert first["new"] == 29 and first["errors"] == 0  # 28 Cancerwise, 1 Cancer Frontline
    assert (second["new"], second["changed"], second["gone"]) == (1, 5, 1)
    assert second["skipped"] == 23  # unchanged: not fetched again
    assert Path(shown["db"]) == cwd / "cwarchive.sqlite"
    assert shown["replaced"] is None

    changed = {(c["field"], c["article_key"]) for c in shown["changes"]}
    reviewed = {key for field, key in changed if field == "reviewed"}
    assert reviewed == {INSOMNIA, COLORECTAL, CYTOKINE_STORM}
    assert ("title", WALKING) in changed and ("removed", WHITE_COAT) in changed
    assert [a["title"] for a in shown["new_articles"]] == [
        "Sleep after cancer treatment: 5 tips from our experts"
    ]
    moved = {m["label"]: m["to"] - m["from"] for m in shown["tag_counts"]}
    assert moved == {
        "Breast Cancer": 2,
        "Sleep Disorders": 1,
        "Survivorship": 1,
        "Treatment": 3,
        "Prevention": -1,
    }
    assert shown["site_changes"]["removed"] == [WHITE_COAT]


def test_the_commands_the_demo_suggests_show_its_changes(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    """Every suggested command but `browse` (a server) and `report` (its own tests)."""
    cwd, shown = demo
    commands = [step["command"] for step in shown["next"]]
    assert any(c.startswith("cwarchive report") for c in commands)
    assert any(c.startswith("cwarchive browse") for c in commands)
    by_name = {c.split()[1]: c.split()[2:] for c in commands}
    reviewed = as_json(cwd, "diff", *by_name["diff"])
    assert {r["article_key"] for r in reviewed} == {INSOMNIA, COLORECTAL, CYTOKINE_STORM}
    history = as_json(cwd, "history", *by_name["history"])
    assert [v["title"] for v in history] == [
        "Is walking good exercise? 4 top questions answered",
        "Is walking good exercise? 5 top questions answered",
    ]
    done = cwarchive(cwd, "tags", "--tag", "Breast Cancer", "--json")
    counts = [row["count"] for row in json.loads(done.stdout)]
    assert counts[1] == counts[0] + 2
    found = as_json(cwd, "search", "sleep")
    assert found[0]["article_key"].startswith("cancerwise/sleep-after-cancer-treatment")


def test_the_demo_reads_for_a_person(tmp_path: Path) -> None:
    done = cwarchive(tmp_path, "demo", "--db", "demo.sqlite")
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for said in (
        "crawl 1 (run 1): ",
        "the same site 6 weeks later: articles 3 re-reviewed",
        "crawl 2 (run 2): ",
        "Re-reviewed (3)",
        "What is white coat syndrome?",  # removed
        "New in run 2:",
        "Breast Cancer: 708 -> 710",
        "cwarchive diff --field reviewed --from 1 --to 2 --db demo.sqlite",
        "cwarchive report --out report/ --db demo.sqlite",
        "cwarchive browse --db demo.sqlite",
    ):
        assert said in out, said
    again = cwarchive(tmp_path, "demo", "--db", "demo.sqlite", "--once")
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.startswith("demo.sqlite held an earlier demo (2 runs): starting it over")
    assert [r["id"] for r in as_json(tmp_path, "runs", "--db", "demo.sqlite")] == [1]


def test_the_demo_leaves_any_other_file_alone(tmp_path: Path) -> None:
    notes = tmp_path / "notes.sqlite"
    notes.write_text("not an archive\n")
    other = tmp_path / "other.sqlite"
    archive = Archive.open(f"sqlite:///{other}")
    run = archive.start_run("full", site_root="https://www.mdanderson.org")
    record = article("cancerwise/not-in-the-demo")
    archive.save_article(run, record, raw=raw_page(record), url=record["url"])
    archive.finish_run(run, "completed")
    archive.close()
    for path, why in ((notes, "cannot be read as an archive"), (other, "other articles")):
        before = path.read_bytes()
        done = cwarchive(tmp_path, "demo", "--db", path.name)
        assert done.returncode == 2, done.stderr
        assert why in done.stderr and "--db demo.sqlite" in done.stderr
        assert "Traceback" not in done.stderr
        assert path.read_bytes() == before


def test_weeks_later_changes_the_same_articles_every_time() -> None:
    first, second = small_site(), small_site()
    assert weeks_later(first) == weeks_later(second)
    assert sorted(first.articles) == sorted(second.articles)
    assert WHITE_COAT not in first.articles
    assert first.article(INSOMNIA).reviewed == second.article(INSOMNIA).reviewed
