"""The README stays a short front page: the two commands a fresh clone needs come first, it stays
at most about 10 KB (the manual is the docs site), and every link in it leads somewhere. No page
cites a path outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.pages import DOCS, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_top_keeps_the_two_commands() -> None:
    head = README[:800]
    assert re.search(r"^make demo\b", head, re.MULTILINE)
    assert re.search(r"^make test\b", head, re.MULTILINE)


def test_it_stays_short() -> None:
    assert len(README.encode("utf-8")) <= 10 * 1024


def test_every_relative_link_leads_to_a_file() -> None:
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if "://" not in link]
    assert local, "the README links to no page"
    for link in local:
        assert (ROOT / link).exists(), f"README.md links to {link}, which does not exist"


def test_it_links_to_every_page_of_the_site() -> None:
    pages = {path.name for path in DOCS.glob("*.md")} - {"index.md", "contract.md", "tencent-api.md",
                                                          "profile-fields.md"}
    for name in pages:
        assert f"(docs/{name})" in README, f"README.md does not link to docs/{name}"


@pytest.mark.parametrize("path", [ROOT / "README.md", *sorted(DOCS.glob("*.md")), DOCS / "conf.py",
                                  ROOT / "scripts" / "gen_docs.py"], ids=lambda p: p.name)
def test_no_page_cites_a_path_outside_the_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "../shared" not in text and "/work/" not in text, path
