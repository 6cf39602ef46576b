"""Golden outputs of ``chatsync plan`` (text, json, markdown) for one rich scenario, end to end.

The scenario has every kind of change and remark a plan can show:

* creates: a bot with all three fields (a unicode id, an emoji, and a value holding a double
  quote, a pipe and ``<b>`` to show the escaping of each format), an account with no fields;
* updates: old -> new, including an empty value before;
* every kind of delete: ``state: absent`` of an account, ``state: absent`` of a bot, and
  ``prune_bots`` of a live bot that is not declared;
* kept ids: a live undeclared bot listed in ``app.protected``, and the admin. The config rejects
  ``state: absent`` for the admin or a protected id, so the only way a plan meets them is
  ``prune_bots``: the admin here is a bot id (``@RBT#root``), which the emulator accepts as a
  second admin, so that the "admin is never deleted" line is shown too;
* objects that need nothing: a matching account, an absent account that does not exist.

The JSON golden has the endpoint's port and the fingerprint replaced by placeholders (they differ
from run to run); the fingerprint's form is checked on its own.

To regenerate the golden files after an intended change of output, run::

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/cli_plan/test_golden.py -k golden

(``-k golden_json`` rewrites one file only), then review ``git diff tests/cli_plan/golden``
before committing: a golden is what the output *should* be, so never regenerate over a bug.
(``rich.md`` holds each special character of a table cell escaped once, ``&#124;`` for ``|``;
when it was made, ``render/markdown.py`` escaped its own entities again, ``&&#35;124;``, and the
golden was corrected by hand.)
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chatsync.domain.plan import Plan
from tests.cli_plan.conftest import write_config
from tests.support import ADMIN, App

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
ROOT_ADMIN = "@RBT#root"
TRICKY = 'Say "hi" | <b>bold</b>'

CONFIG = """
version: 1
app:
  sdkappid: 1400000000
  endpoint: http://127.0.0.1:8080     # CHATSYNC_ENDPOINT overrides it
  admin: "@RBT#root"
  prune_bots: true
  protected: ["@RBT#keep"]
  max_deletes: 10
bots:
  "@RBT#客服":
    nick: 客服 🤖
    face_url: https://example.com/kefu.png
    self_signature: 'Say "hi" | <b>bold</b>'
  "@RBT#news":
    nick: News 📰
    self_signature: Daily
  "@RBT#old":
    state: absent
accounts:
  bob:
  alice:
    nick: Alice
    face_url: https://example.com/alice.png
  "用户🦊":
    nick: 狐狸
  carol:
    nick: Carol
  mallory:
    state: absent
  ghost:
    state: absent
"""

LIVE_BOTS = {
    "@RBT#news": {"nick": "News"},  # self_signature "" -> "Daily"
    "@RBT#old": {"nick": "Old"},  # state: absent
    "@RBT#stale": {"nick": "Stale"},  # undeclared: pruned
    "@RBT#keep": {"nick": "Keep"},  # undeclared but protected: kept
    ROOT_ADMIN: {"nick": "Root"},  # undeclared but the admin: kept
}
LIVE_ACCOUNTS = {
    "alice": {"nick": "Al"},  # face_url "" -> url
    "用户🦊": {"nick": "旧 | <i>"},
    "carol": {"nick": "Carol"},  # matches
    "mallory": {"nick": "Mallory"},  # state: absent
}

PORT = re.compile(r"^http://127\.0\.0\.1:\d+$")
FINGERPRINT = re.compile(r"^sha256:[0-9a-f]{64}$")


@pytest.fixture
def rich(serve: Callable[..., App], tmp_path: Path) -> tuple[App, str]:
    app = serve(admins=(ADMIN, ROOT_ADMIN))
    app.seed(bots=LIVE_BOTS, accounts=LIVE_ACCOUNTS)
    return app, write_config(tmp_path, CONFIG)


def normalised(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text)
    assert PORT.match(data["app"]["endpoint"]), data["app"]["endpoint"]
    assert FINGERPRINT.match(data["fingerprint"]), data["fingerprint"]
    data["app"]["endpoint"] = "http://127.0.0.1:PORT"
    data["fingerprint"] = "sha256:FINGERPRINT"
    # the signature seals the endpoint (and so the port) with the test key: checked, then masked
    assert re.fullmatch(r"hmac-sha256:[0-9a-f]{64}", data["signature"]), data["signature"]
    data["signature"] = "hmac-sha256:SIGNATURE"
    return data


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs from its golden; regenerate with UPDATE_GOLDEN=1 if intended"


@pytest.mark.parametrize("output_format", ["text", "markdown"])
def test_golden_text_and_markdown(rich: tuple[App, str], output_format: str) -> None:
    app, config = rich
    result = app.plan(config, "--format", output_format)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    # the target, on top, as written (in Markdown, a code span keeps GitHub from linking it)
    url = app.url
    assert url in result.stdout.splitlines()[0 if output_format == "text" else 3]
    shown = result.stdout.replace(url, "http://127.0.0.1:PORT")
    check_golden(f"rich.{'txt' if output_format == 'text' else 'md'}", shown)
    assert app.writes() == {}


def test_golden_json(rich: tuple[App, str]) -> None:
    app, config = rich
    result = app.plan(config, "--format", "json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    assert result.stdout.endswith("}\n")
    data = normalised(result.stdout)
    check_golden("rich.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    assert json.loads(result.stdout)["app"]["endpoint"] == app.url


def test_the_fingerprint_is_stable_while_the_app_is_unchanged(rich: tuple[App, str]) -> None:
    app, config = rich
    first = json.loads(app.plan(config, "--format", "json").stdout)["fingerprint"]
    again = json.loads(app.plan(config, "--format", "json").stdout)["fingerprint"]
    assert FINGERPRINT.match(first)
    assert first == again
    app.api.portrait_set("alice", {"nick": "Alicia"})  # something the plan touches changes
    moved = json.loads(app.plan(config, "--format", "json").stdout)["fingerprint"]
    assert FINGERPRINT.match(moved)
    assert moved != first


def test_rich_scenario_has_every_kind_of_change(rich: tuple[App, str]) -> None:
    """What the goldens must show, stated independently of their exact text."""
    app, config = rich
    plan = Plan.from_data(json.loads(app.plan(config, "--format", "json").stdout))
    by_address = {c.address: c for c in plan.changes}
    assert [(c.action, c.address) for c in plan.changes] == [
        ("delete", "account.mallory"),
        ("delete", "bot.@RBT#old"),
        ("delete", "bot.@RBT#stale"),
        ("update", "bot.@RBT#news"),
        ("update", "account.alice"),
        ("update", "account.用户🦊"),
        ("create", "bot.@RBT#客服"),
        ("create", "account.bob"),
    ]
    assert by_address["bot.@RBT#客服"].after == {
        "nick": "客服 🤖", "face_url": "https://example.com/kefu.png", "self_signature": TRICKY}
    assert by_address["account.bob"].after == {}
    assert by_address["bot.@RBT#news"].before == {"nick": "News", "self_signature": ""}
    assert by_address["bot.@RBT#news"].after == {"nick": "News 📰", "self_signature": "Daily"}
    assert by_address["account.alice"].before == {"nick": "Al", "face_url": ""}
    assert by_address["account.mallory"].reason == "state: absent"
    assert by_address["bot.@RBT#old"].reason == "state: absent"
    assert by_address["bot.@RBT#stale"].reason == "not declared (prune_bots)"
    assert [(k.address, k.reason) for k in plan.kept] == [
        ("bot.@RBT#keep", "listed in app.protected"),
        (f"bot.{ROOT_ADMIN}", "the admin (app.admin) is never deleted"),
    ]
    assert plan.summary == {"create": 2, "update": 3, "delete": 3}
    assert plan.safe and not plan.errors
    # alice and 用户🦊 change nick/face_url only: one multiaccount_import and one portrait_get read-back
    # for both; the bot's update is a portrait_set (bots are never imported)
    assert plan.estimate.calls == {"create_robot": 1, "delete_robot": 2, "multiaccount_import": 2,
                                   "account_delete": 1, "portrait_get": 1, "portrait_set": 1}


def shown(markdown_text: str) -> str:
    """What a reader of a rendered cell sees, less zero-width spaces."""
    return html.unescape(markdown_text).replace("\u200b", "")


def test_markdown_escapes_quote_pipe_and_html(rich: tuple[App, str]) -> None:
    app, config = rich
    text = app.plan(config, "--format", "markdown").stdout
    assert text.splitlines()[0] == "<!-- chatsync-plan -->"
    assert "<b>" not in text and "<i>" not in text
    assert "&#60;b&#62;bold&#60;/b&#62;" in text
    rows = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| |"):
            cells = line.split("|")
            assert len(cells) == 5, line  # no pipe from a value splits a cell
            _, _action, what, fields, _ = cells
            # (less the zero-width spaces that keep "@RBT" from mentioning a GitHub user "RBT")
            rows[shown(what.strip())] = [shown(part) for part in fields.strip().split("<br>")]
    # What a reader of the rendered comment sees is exactly the value, as the text format shows it:
    # each special character escaped once (an entity), never an entity escaped again.
    assert rows["bot <code>@RBT#客服</code>"] == [
        'nick: "客服 🤖"', 'face_url: "https://example.com/kefu.png"',
        'self_signature: "Say \\"hi\\" | <b>bold</b>"']
    assert rows["account <code>用户🦊</code>"] == ['nick: "旧 | <i>" -> "狐狸"']
    assert "&&#" not in text, "an HTML entity was escaped twice (shows as literal '&#124;' on GitHub)"


def test_text_shows_values_json_quoted(rich: tuple[App, str]) -> None:
    app, config = rich
    text = app.plan(config).stdout
    assert '        self_signature: "Say \\"hi\\" | <b>bold</b>"' in text
    assert '        nick:           "News" -> "News 📰"' in text  # aligned with self_signature
    assert '        self_signature: "" -> "Daily"' in text
    assert text.splitlines()[-4:] == [
        "Plan: 2 to create, 3 to update, 3 to delete.",
        text.splitlines()[-3],
        "Calls: 1 create_robot, 2 delete_robot, 2 multiaccount_import, 1 account_delete, 1 portrait_get, "
        "1 portrait_set.",
        "Warning: Deleting an account is permanent: on paid editions its id cannot be re-imported "
        "for 3 months.",
    ]
    assert re.fullmatch(r"Apply would make 8 API calls, about \d+\.\d\d s at the API's rate limits\.",
                        text.splitlines()[-3])


def test_field_values_line_up_within_each_change(rich: tuple[App, str]) -> None:
    app, config = rich
    lines = app.plan(config).stdout.splitlines()
    blocks: list[list[str]] = []
    for line in lines:
        if line.startswith("  ") and not line.startswith("        "):
            blocks.append([])
        elif line.startswith("        ") and blocks:
            blocks[-1].append(line)
    assert any(len(block) >= 2 for block in blocks)
    for block in blocks:
        starts = {len(line) - len(line.split(": ", 1)[1].lstrip()) for line in block}
        assert len(starts) <= 1, block  # every value starts in one column


def test_every_delete_shows_why(rich: tuple[App, str]) -> None:
    app, config = rich
    deletes = [line for line in app.plan(config).stdout.splitlines() if line.startswith("  - ")]
    assert deletes and all(("state: absent;" in d) or ("not declared (prune_bots);" in d) for d in deletes)
