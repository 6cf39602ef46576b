"""One source for every table: the tables scripts/gen_docs.py writes from the code (profile fields,
commands, flags, exit codes, error codes, regions, rate limits) are what the code gives now. After a
change to the code, `make docs` writes them again."""

from __future__ import annotations

import json

from tests.docs.pages import DOCS, ROOT, gen_docs, page, section, table_rows

GEN = gen_docs()


def test_every_generated_table_is_current() -> None:
    assert GEN.stale() == [], "run make docs: a generated table of the docs differs from the code"


def test_a_changed_table_is_found_stale() -> None:
    text = page("profile-fields.md")
    assert GEN.rendered(text) == text
    edited = text.replace("| `nick` | `Tag_Profile_IM_Nick` |", "| `nick` | `Tag_Profile_IM_Nickname` |")
    assert edited != text and GEN.rendered(edited) == text


def test_every_generator_is_used_by_a_page() -> None:
    used = {match.group("name") for path in DOCS.glob("*.md")
            for match in GEN.BLOCK.finditer(path.read_text(encoding="utf-8"))}
    assert used == set(GEN.GENERATORS)


def test_the_field_table_lists_every_schema_field() -> None:
    schema = json.loads((ROOT / "chatsync/schemas/chatsync.schema.json").read_text(encoding="utf-8"))
    rows = table_rows(section(page("configuration.md"), "## `bots` and `accounts`"), "field")
    assert [row[0].strip("`") for row in rows] == list(schema["$defs"]["principal"]["properties"])
