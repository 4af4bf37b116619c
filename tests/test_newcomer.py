"""What a newcomer does: the README's set-up line, then its examples; and every help example.

`test_the_readme_works_as_written` copies the checkout (a clone), runs the README's
first line as written in it (a fresh venv, `pip install`, `cwarchive demo`), then
every example of the README's code blocks in order, each of which must exit 0 with
output (or files) naming articles. Examples that need the network or a server are
skipped, each with its reason (`NOT_RUN`). Dependencies come from pip's index or
cache, as in tests/test_wheel.py.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest

from cwarchive.cli import main
from cwarchive.clidoc import command_paths

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# -- every command's --help examples parse -------------------------------------------


def leaf(words: list[str]) -> tuple[click.Command, click.Context, list[str]]:
    """The command `words` name (through the groups), its parent context, the rest."""
    context = click.Context(main, info_name="cwarchive")
    command: click.Command = main
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        name, *words = words
        found = command.get_command(context, name)
        if found is None:
            raise click.UsageError(f"no command {name!r}")
        command = found
        context = click.Context(command, info_name=name, parent=context)
    return command, context, words


def help_text(path: list[str]) -> str:
    command, context, _ = leaf(path)
    return command.get_help(context)


def help_examples(text: str) -> list[str]:
    """The `cwarchive ...` lines after `Example(s):` (continued lines joined), and each
    `E.g. -s NAME=VALUE` of an option's help."""
    examples: list[str] = []
    _, found, block = text.partition("Example")
    if found:
        lines = block.split("\n", 1)[1].splitlines() if "\n" in block else []
        joined = "\n".join(lines).replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.strip()
            if not line:
                break
            examples += [part.strip() for part in line.split("&&")]
    return [e for e in examples if e.startswith("cwarchive ")]


def parse_only(words: list[str]) -> None:
    """Parse `words` as the CLI would, without running the command: every option and
    argument known and well formed (files named need not exist)."""
    command, context, rest = leaf(words)
    try:
        command.make_context(context.info_name, rest, parent=context.parent)
    except click.BadParameter as error:
        if "does not exist" not in str(error):
            raise


COMMANDS = [[], *command_paths(main, [])]


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(["cwarchive", *p]) for p in COMMANDS])
def test_every_help_example_parses(path: list[str]) -> None:
    text = help_text(path)
    examples = help_examples(text)
    for setting in re.findall(r"E\.g\. (-s \S+=\S+)", text):
        examples.append(f"cwarchive {' '.join(path)} {setting}")
    for example in examples:
        words = shlex.split(example, comments=True)
        if ">" in words:  # a shell redirection ends the command
            words = words[: words.index(">")]
        try:
            parse_only(words[1:])
        except click.UsageError as error:
            pytest.fail(f"{example!r} does not parse: {error.format_message()}")


# -- the README, as a newcomer runs it -------------------------------------------------

# README examples not run, and why. Every one must still be in the README.
NOT_RUN = {
    "cwarchive crawl": "the live site: network",
    "cwarchive crawl --full --tags": "the live site: network",
    "cwarchive crawl --site http://127.0.0.1:8000 --limit 50": "a replay server on port "
    "8000 (tests/test_crawl.py crawls one)",
    "cwarchive crawl --job-dir job/ --warc warc/": "the live site: network",
    "cwarchive replay-server fixtures/site": "a server: serves until stopped",
    "cwarchive crawl --frontier redis://queue:6379/0 --db postgresql://db/cwarchive": "Redis "
    "and PostgreSQL servers (tests/test_distributed.py runs it)",
    "cwarchive worker --frontier redis://queue:6379/0 --db postgresql://db/cwarchive": "Redis "
    "and PostgreSQL servers (tests/test_distributed.py runs it)",
    "cwarchive crawl --notify 'mailtos://...'": "the live site and a mail server",
    "cwarchive browse": "a server: serves until stopped (tests/test_browse.py runs it)",
    "cwarchive replay-server fixtures/site --port 8080 --log requests.tsv": "a server: serves "
    "until stopped",
    "cwarchive fixtures generate /tmp/site --urls ../shared/reference/urls/cancerwise.txt": "its "
    "URL inventory is not in the repository",
}
# Examples whose output is about something else than articles (runs, tag counts, the
# schema, files written): they must exit 0 and say something.
NOT_ABOUT_ARTICLES = (
    "cwarchive runs",
    "cwarchive tags",
    "cwarchive reparse",
    "cwarchive db upgrade",
    "cwarchive fixtures",
)
# The demo's archive and the fixture pages hold these sections' articles.
NAMES_AN_ARTICLE = re.compile(r"(cancerwise|publications/cancer-frontline)/[a-z0-9-]{8,}")


def readme_commands() -> tuple[str, list[str]]:
    """The README's set-up line, and every example line of its other `sh` blocks (the
    first block's test command is the suite itself: not an example)."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text("utf-8"), re.S)
    lines = [
        [line.strip() for line in block.splitlines() if line.strip() and line[0] != "#"]
        for block in blocks
    ]
    setup = lines[0][0]
    return setup, [strip_comment(line) for block in lines[1:] for line in block]


def strip_comment(line: str) -> str:
    """The command of an example line, without its trailing `  # comment`."""
    return line.split(" # ", 1)[0].strip()


def test_the_not_run_examples_are_in_the_readme() -> None:
    _, examples = readme_commands()
    assert set(NOT_RUN) <= set(examples), set(NOT_RUN) - set(examples)


def evidence(example: str, cwd: Path, bin_dir: Path, done: subprocess.CompletedProcess) -> str:
    """What the example printed, and the text of what it wrote (`--out`, `-o`)."""
    found = done.stdout + done.stderr
    words = shlex.split(example)
    for flag in ("--out", "-o"):
        if flag in words:
            target = cwd / words[words.index(flag) + 1]
            files = sorted(target.rglob("*")) if target.is_dir() else [target]
            for file in files:
                if file.suffix == ".parquet":
                    found += subprocess.run(
                        [str(bin_dir / "python"), "-c", PARQUET_ROWS, str(file)],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                elif file.suffix in (".html", ".xml", ".csv", ".json", ".md"):
                    found += file.read_text("utf-8", errors="replace")
    return found


PARQUET_ROWS = "import sys, pyarrow.parquet as pq; print(pq.read_table(sys.argv[1]).to_pylist())"


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """The tracked files, as a fresh clone has them."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (t.decode() for t in tracked)):
        if (ROOT / name).is_file():
            (tmp_path / "clone" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tmp_path / "clone" / name)
    return tmp_path / "clone"


def test_the_readme_works_as_written(clone: Path, tmp_path: Path) -> None:
    setup, examples = readme_commands()
    # `python3` is this interpreter (3.11+), whatever the machine's PATH holds.
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "python3").symlink_to(getattr(sys, "_base_executable", sys.executable))
    home = tmp_path / "home"
    home.mkdir()
    scratch = tmp_path / "scratch"  # stands for /tmp in the examples
    scratch.mkdir()
    env = {**os.environ, "HOME": str(home), "PATH": f"{shims}:/usr/bin:/bin"}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    started = time.monotonic()
    done = subprocess.run(
        ["sh", "-c", setup], cwd=clone, env=env, capture_output=True, text=True, timeout=1500
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"set-up line: {time.monotonic() - started:.1f} s")
    assert "Re-reviewed (3)" in done.stdout and NAMES_AN_ARTICLE.search(done.stdout)

    bin_dir = clone / ".venv" / "bin"
    env["PATH"] = f"{bin_dir}:{env['PATH']}"  # `. .venv/bin/activate`
    env["VIRTUAL_ENV"] = str(clone / ".venv")
    for example in examples:
        if example in NOT_RUN:
            print(f"not run: {example}: {NOT_RUN[example]}")
            continue
        line = example.replace("/tmp/", f"{scratch}/")
        started = time.monotonic()
        done = subprocess.run(
            ["sh", "-c", line], cwd=clone, env=env, capture_output=True, text=True, timeout=600
        )
        print(f"{time.monotonic() - started:5.1f} s  {example}")
        assert done.returncode == 0, f"{example}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
        said = evidence(line, clone, bin_dir, done)
        assert said.strip(), f"{example}: printed nothing"
        if not example.startswith(NOT_ABOUT_ARTICLES):
            assert NAMES_AN_ARTICLE.search(said), f"{example}: names no article: {said[:2000]}"
