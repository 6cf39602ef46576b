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


def test_the_plan_it_shows_is_what_chatsync_prints(tmp_path: Path) -> None:
    """The README's sample plan: the quickstart against an app holding alice ("Al") and mallory,
    as `make demo` seeds it, printed by the chatsync command itself."""
    import os
    import subprocess
    import sys

    from chatsync.emulator.server import RunningEmulator
    from tests.support import SECRET, api_for, call, make_emulator

    block = re.search(r"```\n\$ (chatsync plan examples/quickstart)\s+#[^\n]*\n(.*?)```", README, re.DOTALL)
    assert block, "the README shows no plan of the quickstart"
    emulator = make_emulator(sdkappid=1400000000)
    call(api_for(emulator), "multiaccount_import",
         {"AccountList": [{"UserID": "alice", "Nick": "Al"}, {"UserID": "mallory"}]})
    with RunningEmulator(emulator) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSYNC_") and k != "NO_COLOR"}
        env.update(CHATSYNC_SECRET_KEY=SECRET, CHATSYNC_ENDPOINT=server.url)
        result = subprocess.run([str(Path(sys.executable).parent / "chatsync"), *block.group(1).split()[1:]],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    shown = block.group(2).replace("http://127.0.0.1:8080", server.url)
    assert result.stdout + result.stderr == shown
