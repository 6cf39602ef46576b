"""The reference pages agree with the code where they keep a table by hand: the app keys and their
defaults (configuration.md) with the JSON Schema, which is built from the code; the profile tags and
rate limits of tencent-api.md with the field table and the endpoint table."""

from __future__ import annotations

import json

import pytest

from chatsync.facts import fields
from chatsync.facts.endpoints import ENDPOINTS
from tests.docs.pages import ROOT, page, section, table_rows

SCHEMA = json.loads((ROOT / "chatsync/schemas/chatsync.schema.json").read_text(encoding="utf-8"))
CONFIG = page("configuration.md")


def test_the_top_level_keys_are_the_schemas() -> None:
    rows = table_rows(section(CONFIG, "## Top level"), "key")
    assert {row[0].strip("`") for row in rows} - {"x-..."} == set(SCHEMA["properties"])


def test_every_app_key_is_documented_with_the_schemas_default() -> None:
    app = SCHEMA["$defs"]["app"]
    rows = {row[0].strip("`"): row for row in table_rows(section(CONFIG, "## `app`"), "field")}
    assert set(rows) == set(app["properties"])
    for name, spec in app["properties"].items():
        default = rows[name][2]
        if name in app["required"]:
            assert default == "required", name
        elif "default" in spec:
            assert default == f"`{json.dumps(spec['default']).strip(chr(34))}`", name


def test_every_rate_limit_key_is_an_endpoint() -> None:
    keys = SCHEMA["$defs"]["app"]["properties"]["rate_limits"]["propertyNames"]["enum"]
    rows = table_rows(section(CONFIG, "### Rate limits"), "API (`app.rate_limits` key)")
    assert [row[0].strip("`") for row in rows] == keys


@pytest.mark.parametrize("field", fields.STANDARD, ids=lambda f: f.name)
def test_tencent_api_lists_each_profile_tag_as_the_field_table_has_it(field: fields.Field) -> None:
    rows = {row[0].strip("`"): row for row in
            table_rows(section(page("tencent-api.md"), "### 6.3 Standard profile tags"), "tag")}
    _, kind, meaning = rows[field.tag]
    assert kind == ("uint32" if field.kind == "uint32" else "string")
    for _, wire in field.values:
        assert f"`{wire}`" in meaning
    if "bytes" in meaning or (field.kind == "text" and field.max_bytes != 500):
        assert f"≤ {field.max_bytes} bytes" in meaning


def test_tencent_api_has_each_documented_rate() -> None:
    rows = table_rows(section(page("tencent-api.md"), "## 7. Rate limits"), "API")
    for endpoint in ENDPOINTS.values():
        row = next(r for r in rows if endpoint.name in r[0].split(" / "))
        assert row[1].startswith(f"{endpoint.rate_per_second}/s"), endpoint.name


def test_the_architecture_pages_layers_are_the_tests() -> None:
    from tests.structure.test_layers import BESIDE, LAYERS

    rows = table_rows(section(page("architecture.md"), "## The layers"), "layer")
    documented = {row[1].strip("`").removesuffix("/").removesuffix(".py"): int(row[0]) for row in rows}
    assert documented == LAYERS
    assert set(BESIDE) == {"emulator"} and "`emulator/`" in section(page("architecture.md"), "## The layers")
