"""Reading the docs pages in tests: a page's text, a section of it, the rows of a Markdown table."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """From the line ``heading`` to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(heading + "\n")
    rest = text[start + len(heading) + 1:]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def table_rows(text: str, first_header: str) -> list[list[str]]:
    """The cells of each row of the first table in ``text`` whose first header cell is
    ``first_header`` (``\\|`` inside a cell kept as ``|``)."""
    rows: list[list[str]] = []
    inside = False
    for line in text.splitlines():
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if not inside:
            inside = bool(cells) and cells[0] == first_header
            continue
        if not line.startswith("|"):
            break
        if not set(line) <= set("|-: "):
            rows.append(cells)
    assert rows, f"no table headed {first_header!r}"
    return rows


def squash(text: str) -> str:
    """Whitespace made single spaces (help texts wrap at the terminal's width, pages do not)."""
    return " ".join(text.split())


def gen_docs() -> ModuleType:
    """scripts/gen_docs.py, the writer of the generated tables."""
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
