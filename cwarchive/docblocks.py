"""The generated blocks of the docs: each between `<!-- generated: NAME -->` and
`<!-- end: NAME -->`, rebuilt from the code it describes.

- `settings` (docs/architecture.md): every setting `crawler/settings.py` sets, the
  `ARCHIVE_*` ones and Scrapy's, with its default and the comment above it.
- `migrations` (docs/architecture.md): every migration in `storage/migrations/versions`,
  with the first sentence of its docstring.
- `view:<name>` (docs/research.md): a research view's columns, from
  `storage.descriptions.VIEWS`, the words Datasette shows too.

`python -m cwarchive.docblocks` rewrites the docs; `tests/test_docs.py` fails while
they are out of date.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
_BLOCK = re.compile(r"(<!-- generated: (\S+) -->\n)(.*?)(<!-- end: \2 -->)", re.DOTALL)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_block() -> str:
    """The settings `crawler/settings.py` sets, in its order: name, default, comment."""
    path = ROOT / "crawler" / "settings.py"
    source = path.read_text("utf-8")
    lines = source.splitlines()
    rows = ["| setting | default | what it is |", "|---|---|---|"]
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign | ast.AnnAssign):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if not names or not names[0].isupper() or names[0].startswith("_"):
            continue
        comment = []
        above = node.lineno - 2
        while above >= 0 and lines[above].lstrip().startswith("#"):
            if lines[above].lstrip().startswith("# ---"):
                break
            comment.insert(0, lines[above].lstrip()[1:].strip())
            above -= 1
        inline = lines[node.lineno - 1].partition("  # ")[2].strip()
        default = ast.get_source_segment(source, node.value) or ""
        default = " ".join(default.split())
        if len(default) > 60:
            default = default[:57] + "..."
        what = " ".join(comment + ([inline] if inline else []))
        rows.append(f"| `{names[0]}` | `{_cell(default)}` | {_cell(what)} |")
    return "\n".join(rows) + "\n"


def migrations_block() -> str:
    """Every migration, oldest first: its revision and the first sentence of its docstring."""
    rows = ["| revision | what it does |", "|---|---|"]
    for path in sorted((ROOT / "storage" / "migrations" / "versions").glob("[0-9]*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text("utf-8"))) or ""
        summary = " ".join(doc.split("\n\n", 1)[0].split())
        rows.append(f"| `{path.stem}` | {_cell(summary)} |")
    return "\n".join(rows) + "\n"


def view_block(name: str) -> str:
    from storage.descriptions import VIEWS

    rows = ["| column | meaning |", "|---|---|"]
    for column, meaning in VIEWS[name].columns.items():
        rows.append(f"| `{column}` | {_cell(meaning)} |")
    return "\n".join(rows) + "\n"


def block(name: str) -> str:
    makers: dict[str, Callable[[], str]] = {
        "settings": settings_block,
        "migrations": migrations_block,
    }
    if name.startswith("view:"):
        return view_block(name.removeprefix("view:"))
    return makers[name]()


def regenerate(text: str) -> str:
    """`text` with every generated block rebuilt."""
    return _BLOCK.sub(lambda m: m.group(1) + block(m.group(2)) + m.group(4), text)


def out_of_date() -> list[Path]:
    """The docs whose generated blocks differ from what the code says."""
    return [
        path
        for path in sorted(DOCS.glob("*.md"))
        if (text := path.read_text("utf-8")) != regenerate(text)
    ]


def main() -> None:
    for path in out_of_date():
        path.write_text(regenerate(path.read_text("utf-8")), "utf-8")
        print(f"rewrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
