"""`cwarchive browse`: the archive in Datasette, immutable, described, with its queries.

One archive is built with the real parts (the demo crawl of the bundled site, then two
ingests of saved pages that change review dates) and served by the real command, as a
child process on loopback; each canned query's JSON is checked against the archive
read with sqlite3 and against the command that answers the same question.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from cwarchive import browse as browsing
from cwarchive.commands import browse as browse_command
from storage import db as storage_db
from storage import search

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "fixtures" / "pages"
DOCS = ROOT / "docs"
WALKING = "cancerwise/your-guide-to-walking-as-exercise"
SOCIAL = "cancerwise/-5-ways-our-social-work-counselors-can-help-during-cancer-treatm"
START_TIMEOUT = 60.0


def cwarchive(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cwarchive", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def immutable(path: Path) -> sqlite3.Connection:
    """The archive as the server reads it; reading it so writes nothing (no -wal, -shm)."""
    conn = sqlite3.connect(f"{path.as_uri()}?immutable=1", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def rows(path: Path, sql: str, params: dict[str, Any] | tuple[Any, ...] = ()) -> list[dict]:
    with immutable(path) as conn:
        return [dict(row) for row in conn.execute(sql, params)]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo crawl (run 1), then two ingests: run 2 gives two articles a review date
    they had not shown; run 3 takes one of them away again."""
    path = tmp_path_factory.mktemp("browse") / "cwarchive.sqlite"
    for args in (
        ("demo", "--once", "--db", str(path)),
        (
            "ingest",
            str(PAGES / "walking-three-reviewers.html"),
            str(PAGES / "social-work-reviewed-before-published.html"),
        ),
        ("ingest", str(PAGES / "walking-retitled.html")),
    ):
        result = cwarchive(*args, *(() if args[0] == "demo" else ("--db", str(path))))
        assert result.returncode == 0, result.stdout + result.stderr
    changes = rows(path, "SELECT to_run FROM reviewed_changes ORDER BY to_run")
    assert [c["to_run"] for c in changes] == [2, 2, 3], "the fixture pages changed"
    assert not Path(f"{path}-wal").exists()
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`cwarchive browse` as a child process, and what it answers."""

    def __init__(self, path: Path) -> None:
        self.port = free_port()
        self.name = path.stem
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cwarchive", "browse", "--db", str(path)]
            + ["--port", str(self.port), "--host", "127.0.0.1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                out, err = self.process.communicate()
                pytest.fail(f"browse exited with {self.process.returncode}: {out}{err}")
            try:
                if self.request("/-/versions.json")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        pytest.fail("browse did not answer")

    def request(self, path: str, method: str = "GET", body: bytes | None = None) -> tuple:
        request = urllib.request.Request(self.base + path, data=body, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def query(self, name: str, **params: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode({"_shape": "array", **params})
        status, text = self.request(f"/{self.name}/{name}.json?{query}")
        assert status == 200, text
        return json.loads(text)

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM, as a service manager stops it; the output once it has exited."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            out, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        return self.process.returncode, out, err


@pytest.fixture(scope="module")
def server(archive: Path) -> Iterator[Server]:
    before = digest(archive)
    running = Server(archive)
    try:
        running.wait_until_up()
        yield running
    finally:
        status, out, err = running.stop()
    assert status == 0, err
    assert out.splitlines()[0] == f"http://127.0.0.1:{running.port}/{running.name}"
    # Gone: nothing answers on the port any more, and the file never changed.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", running.port), timeout=2).close()
    assert digest(archive) == before
    # Nothing was written beside it either: a read-only reader of a WAL archive (the
    # other commands of this module) leaves an empty -wal and its -shm, never a page.
    wal = Path(f"{archive}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


# -- canned queries against the archive ----------------------------------------------------


def test_reviewed_changes_between_is_the_diff_range(server: Server, archive: Path) -> None:
    every = "SELECT * FROM reviewed_changes ORDER BY article_key, to_version"
    cases = [("", ""), ("1", "2"), ("2", "3"), ("1", ""), ("", "2"), ("3", "")]
    for low, high in cases:
        expected = [
            row
            for row in rows(archive, every)
            if (not low or row["to_run"] > int(low)) and (not high or row["to_run"] <= int(high))
        ]
        got = server.query("reviewed_changes_between", from_run=low, to_run=high)
        assert got == expected, (low, high)
        # The same changes as `cwarchive diff --field reviewed --from A --to B`.
        bounds = [*(("--from", low) if low else ()), *(("--to", high) if high else ())]
        result = cwarchive("diff", "--field", "reviewed", *bounds, "--db", str(archive), "--json")
        assert result.returncode == 0, result.stderr
        diff = json.loads(result.stdout)
        assert [(c["article_key"], c["to_version"]) for c in got] == [
            (c["article_key"], c["to_version"]) for c in diff
        ]
    in_run_2 = server.query("reviewed_changes_between", from_run="1", to_run="2")
    assert {c["article_key"] for c in in_run_2} == {WALKING, SOCIAL}
    assert [c["new_reviewed"] for c in in_run_2 if c["article_key"] == WALKING] == ["2025-11-20"]


def test_article_history_lists_the_versions_in_order(server: Server, archive: Path) -> None:
    got = server.query("article_history", article_key=WALKING)
    expected = rows(
        archive, "SELECT * FROM article_versions WHERE article_key = ? ORDER BY version", (WALKING,)
    )
    assert got == expected
    assert [v["version"] for v in got] == [1, 2, 3]
    assert [v["first_run"] for v in got] == [1, 2, 3]
    assert server.query("article_history", article_key="cancerwise/no-such-article") == []


def test_tag_series_by_id_or_label(server: Server, archive: Path) -> None:
    (tag,) = rows(
        archive,
        "SELECT t.tag_id, t.label FROM tags AS t JOIN run_tag_counts AS c ON c.tag_pk = t.id "
        "WHERE t.tag_id IS NOT NULL GROUP BY t.id ORDER BY max(c.count) DESC, t.tag_id LIMIT 1",
    )
    expected = rows(
        archive, "SELECT * FROM tag_count_series WHERE tag_id = ? ORDER BY run", (tag["tag_id"],)
    )
    assert expected
    assert server.query("tag_series", tag=tag["tag_id"]) == expected
    # By label, in any case: the rows `cwarchive tags --tag` finds.
    by_label = server.query("tag_series", tag=tag["label"].upper())
    assert by_label == expected
    result = cwarchive("tags", "--tag", tag["label"], "--db", str(archive), "--json")
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    assert [(r["run"], r["count"]) for r in by_label] == [(r["run"], r["count"]) for r in counts]
    assert server.query("tag_series", tag="") == []


def test_search_current_matches_storage_search(server: Server, archive: Path) -> None:
    engine = create_engine("sqlite://", creator=lambda: immutable(archive), poolclass=NullPool)
    try:
        for q in ("cancer", "screening", "breast cancer", 'walking "exercise', "OR NEAR( *", ""):
            got = server.query("search_current", q=q)
            with engine.connect() as conn:
                expected = search.search(conn, q, limit=1000)
            assert [(r["article_key"], r["snippet"]) for r in got] == [
                (r["article_key"], r["snippet"]) for r in expected
            ], q
            assert [r["rank"] for r in got] == pytest.approx([r["rank"] for r in expected])
    finally:
        engine.dispose()
    assert server.query("search_current", q="cancer")


def test_table_search_on_articles_is_current_versions_only(server: Server, archive: Path) -> None:
    current = {r["article_key"] for r in server.query("search_current", q="screening")}
    status, text = server.request(f"/{server.name}/articles.json?_shape=array&_search=screening")
    assert status == 200, text
    assert {r["article_key"] for r in json.loads(text)} == current
    # `versions` searches every version: never fewer than the current ones.
    status, text = server.request(f"/{server.name}/versions.json?_shape=array&_search=screening")
    assert status == 200, text
    assert len(json.loads(text)) >= len(current)


# -- metadata, read-only ---------------------------------------------------------------------


def test_titles_and_descriptions_show(server: Server) -> None:
    status, page = server.request(f"/{server.name}/current_articles")
    assert status == 200
    assert "<h1>Current articles (view)</h1>" in page
    assert browsing.VIEWS["current_articles"].description.split(":")[0] in page
    status, text = server.request("/-/metadata.json")
    served = json.loads(text)["databases"][server.name]
    assert (
        served["tables"]["runs"]["columns"]["status"] == browsing.TABLES["runs"].columns["status"]
    )
    assert set(served["queries"]) == set(browsing.QUERIES)


def test_nothing_can_write(server: Server, archive: Path) -> None:
    before = digest(archive)
    body = json.dumps({"row": {"id": 999}, "table": "x", "columns": [{"name": "a"}]}).encode()
    for path in (
        f"/{server.name}/reviewed_changes_between",
        f"/{server.name}/-/create",
        f"/{server.name}/runs/-/insert",
        f"/{server.name}/runs/1/-/delete",
        f"/{server.name}/runs/-/drop",
        f"/{server.name}",
    ):
        for method in ("POST", "PUT", "DELETE"):
            status, _ = server.request(path, method=method, body=body)
            assert status == 405, (method, path, status)
    # The SQL page runs SELECT only, and the file is opened immutable anyway.
    sql = urllib.parse.urlencode({"sql": "DELETE FROM runs"})
    status, _ = server.request(f"/{server.name}.json?{sql}")
    assert status == 400
    assert digest(archive) == before
    assert rows(archive, "SELECT count(*) AS n FROM runs") == [{"n": 3}]


# -- the metadata is the archive's and the documents' ----------------------------------------


def _schema(path: Path) -> dict[str, list[str]]:
    """Every table and view Datasette lists, with its columns (not FTS5's own tables)."""
    with immutable(path) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite_%'"
            )
        ]
        shadow = {f"{search.TABLE}_{part}" for part in ("data", "idx", "docsize", "config")}
        return {
            name: [row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')]
            for name in names
            if name not in shadow
        }


def test_every_table_and_column_is_described(archive: Path) -> None:
    described = {**browsing.VIEWS, **browsing.TABLES}
    schema = _schema(archive)
    assert set(described) == set(schema)
    for name, columns in schema.items():
        assert set(described[name].columns) == set(columns), name
        assert described[name].title and described[name].description, name
        assert all(described[name].columns.values()), name


def _documented_columns(markdown: str) -> dict[str, set[str]]:
    """`### \\`name\\`` sections of a document, each with the columns its table names."""
    found: dict[str, set[str]] = {}
    for section in re.split(r"^### ", markdown, flags=re.M)[1:]:
        section = section.split("\n## ", 1)[0]  # up to the next chapter
        heading = re.match(r"`(\w+)`", section)
        if heading:
            cells = re.findall(r"^\| ([^|]+) \|", section, flags=re.M)
            names = {n for cell in cells for n in re.findall(r"`(\w+)`", cell)}
            found[heading.group(1)] = names
    return found


def test_views_match_docs_research(archive: Path) -> None:
    documented = _documented_columns((DOCS / "research.md").read_text("utf-8"))
    assert set(documented) == set(browsing.VIEWS)
    for name, described in browsing.VIEWS.items():
        assert set(described.columns) == documented[name], name


def test_tables_match_docs_storage() -> None:
    text = (DOCS / "storage.md").read_text("utf-8")
    table = text.split("## Tables", 1)[1].split("\n## ", 1)[0]
    documented = {
        name
        for cell in re.findall(r"^\| ([^|]+) \|", table, flags=re.M)
        for name in re.findall(r"`(\w+)`", cell)
    }
    assert documented, "docs/storage.md has no table of tables"
    assert documented <= {*browsing.TABLES, *browsing.VIEWS}


def test_metadata_names_the_database_it_serves() -> None:
    data = browsing.metadata("my-archive")
    (database,) = data["databases"]
    assert database == "my-archive"
    tables = data["databases"][database]["tables"]
    assert tables["articles"]["fts_table"] == search.TABLE
    assert tables["articles"]["fts_pk"] == "current_version_id"
    assert tables["versions"]["fts_pk"] == "id"
    queries = data["databases"][database]["queries"]
    assert queries["search_current"]["params"] == ["q"]
    assert queries["reviewed_changes_between"]["params"] == ["from_run", "to_run"]


# -- what it refuses -------------------------------------------------------------------------


def invoke(*args: str) -> Result:
    group = click.Group()
    browse_command.register(group)
    return CliRunner().invoke(group, ["browse", *args])


def one_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def test_without_datasette_the_command_names_the_extra(tmp_path: Path, archive: Path) -> None:
    # A `datasette` package that cannot be imported, ahead of the installed one.
    shadow = tmp_path / "shadow" / "datasette"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no datasette here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shadow.parent), str(ROOT)])}
    result = cwarchive("browse", "--db", str(archive), "--port", str(free_port()), env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: browse needs Datasette, an optional extra: pip install 'cwarchive[browse]'"
    ]
    assert result.stdout == ""


def test_without_datasette_in_process(monkeypatch: pytest.MonkeyPatch, archive: Path) -> None:
    real_import = builtins.__import__

    def no_datasette(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] == "datasette":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_datasette)
    assert "pip install 'cwarchive[browse]'" in one_error(invoke("--db", str(archive)))


def test_postgresql_is_refused_with_the_way_out() -> None:
    line = one_error(invoke("--db", "postgresql://user@localhost/cwarchive"))
    assert "SQLite archive only" in line
    assert "cwarchive export" in line and "cwarchive query" in line


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    line = one_error(invoke("--db", str(tmp_path / "nothing.sqlite")))
    assert "no archive at" in line
    assert not (tmp_path / "nothing.sqlite").exists()


def test_not_an_archive(tmp_path: Path) -> None:
    empty, junk = tmp_path / "empty.sqlite", tmp_path / "junk.sqlite"
    sqlite3.connect(empty).close()
    junk.write_bytes(b"not a database at all" * 100)
    assert "no archive in" in one_error(invoke("--db", str(empty)))
    assert "cannot open the archive" in one_error(invoke("--db", str(junk)))


def test_an_old_schema_is_refused_not_upgraded(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    engine = storage_db.make_engine(str(old))
    storage_db.upgrade(engine, "0002")
    engine.dispose()
    before = digest(old)
    assert "cwarchive db upgrade" in one_error(invoke("--db", str(old)))
    assert digest(old) == before


def test_an_archive_being_written_is_refused(tmp_path: Path, archive: Path) -> None:
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(archive, copy)
    # A writer at work: a transaction committed to the log, not yet checkpointed.
    writer = sqlite3.connect(copy)
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("CREATE TABLE writer_at_work (a)")
        writer.commit()
        assert Path(f"{copy}-wal").stat().st_size > 0
        assert "write-ahead log" in one_error(invoke("--db", str(copy)))
    finally:
        writer.close()
    assert not Path(f"{copy}-wal").exists()  # folded in once the writer is done


def test_a_port_in_use_is_one_line(archive: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_error(invoke("--db", str(archive), "--port", str(port)))
    assert f"cannot listen on 127.0.0.1:{port}" in line


def test_a_path_datasette_would_misread_is_refused(tmp_path: Path) -> None:
    # Datasette puts the path into a `file:` URI as it is: `#` would end the file name.
    line = one_error(invoke("--db", str(tmp_path / "a#b.sqlite")))
    assert "rename it" in line
    assert list(tmp_path.iterdir()) == []
