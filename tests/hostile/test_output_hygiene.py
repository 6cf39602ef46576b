"""Item 2: every string from the server or a config is shown safely. Control and bidi characters are
escapes, server text is cut, a value cannot forge a line, and Markdown values stay inert text
(proved with GitHub's own parser, cmark-gfm)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import cmarkgfm
import pytest
from click.testing import Result

from chatsync.text.safe import SERVER_TEXT_MAX, UNSAFE, clipped, markdown, markdown_code, quoted, visible
from tests.hostile.conftest import HonestApp, overriding
from tests.hostile.fakes import Behaviour, FakeServer, fail, ok

ESCAPES = "\x1b[2J\x1b]0;pwned\x07\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\\x9b31m\u202eevil\u2066"
FORGED = "\nApply complete: 9 created, 0 updated, 0 deleted, 0 failed.\n"


def test_visible_escapes_every_control_and_bidi_character() -> None:
    for code in [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x202E, 0x2066, 0x2069, 0x200F, 0x2028]:
        shown = visible(f"a{chr(code)}b")
        assert not UNSAFE.search(shown) and shown.startswith("a\\") and shown.endswith("b"), hex(code)
    assert visible("plain ünïcode 客服 🤖") == "plain ünïcode 客服 🤖"
    assert quoted('say "hi" \\ \n') == '"say \\"hi\\" \\\\ \\n"'
    assert clipped("x" * 1000, 10).startswith("x" * 10 + "...") and "990 more" in clipped("x" * 1000, 10)


def test_error_info_cannot_clear_the_screen_or_forge_the_summary(fake: Callable[[Behaviour], FakeServer],
                                                                 cli: Callable[..., Result]) -> None:
    server = fake(overriding(HonestApp(), create_robot=fail(10004, ESCAPES + FORGED + "x" * 5000)))
    result = cli(server.url, "apply", "--auto-approve", bots={"@RBT#new": {"nick": "N"}})
    assert result.exit_code == 1
    summaries = [line for line in result.stdout.splitlines() if line.startswith("Apply complete")]
    assert summaries == ["Apply complete: 0 created, 0 updated, 0 deleted, 1 failed."]
    assert not any(line.startswith("Apply complete") for line in result.stderr.splitlines())
    assert "\\x1b[2J" in result.stdout and "\\u202e" in result.stdout  # shown, as escapes
    failed_line = next(line for line in result.stdout.splitlines() if "failed 10004" in line)
    assert len(failed_line) < SERVER_TEXT_MAX * 2 and "more characters not shown" in failed_line


def test_json_report_escapes_c1_and_bidi_but_keeps_the_value(fake: Callable[[Behaviour], FakeServer],
                                                             cli: Callable[..., Result]) -> None:
    server = fake(overriding(HonestApp(), create_robot=fail(10004, ESCAPES)))
    result = cli(server.url, "apply", "--auto-approve", "--format", "json", bots={"@RBT#new": {}})
    report = json.loads(result.stdout)
    assert report["changes"][0]["error_info"] == ESCAPES


def test_live_values_with_c1_and_bidi_controls_are_escaped_in_the_text_plan(
    fake: Callable[[Behaviour], FakeServer], cli: Callable[..., Result],
) -> None:
    live_nick = "Ad\u202emin\x85\x9b2J\x1b[31m"
    app = HonestApp(accounts={"alice": {"nick": live_nick}})
    server = fake(app)
    result = cli(server.url, "plan", accounts={"alice": {"nick": "Alice"}})
    assert result.exit_code == 0, result.stderr
    assert quoted(live_nick) in result.stdout


def test_config_values_with_controls_are_escaped_in_errors(cli: Callable[..., Result],
                                                           tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text('version: 1\napp:\n  sdkappid: 1400000000\n  region: "sg\\u202e\\x85\\e[2J"\n',
                      encoding="utf-8")
    result = cli("http://127.0.0.1:9", "validate", str(config), config=False)
    assert result.exit_code == 1
    assert "\\u202e" in result.stderr or "\\x85" in result.stderr, result.stderr


# -- Markdown -------------------------------------------------------------------------------------

HOSTILE_VALUES = ["@octocat hi", "@github/security", "#123 and org/repo#9 and GH-1",
                  "https://evil.example/x", "www.evil.example", "mail me@evil.example",
                  "<img src=x onerror=alert(1)>", "**bold** _i_ `c`",
                  "[link](https://evil.example)", "a | b", "line\rbreak", "line\nbreak", "![i](x)",
                  "<!-- -->", "&amp; &#124;", "\u202eevil", ":smile: $x^2$"]


class _Text(HTMLParser):
    """The text of rendered HTML (outside <code>), and every tag used."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.tags.append("!--")


def rendered(markdown_text: str) -> _Text:
    html = cmarkgfm.github_flavored_markdown_to_html(markdown_text, options=cmarkgfm.Options.CMARK_OPT_UNSAFE)
    parser = _Text()
    parser.feed(html)
    return parser


LIVE_TRIGGERS = [re.compile(r"@[A-Za-z0-9]"), re.compile(r"#\d"), re.compile(r"https?://"),
                 re.compile(r"(?i)www\."), re.compile(r"GH-\d")]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_markdown_cells_render_as_inert_text(value: str) -> None:
    table = f"| a | b |\n|---|---|\n| <code>{markdown(value)}</code> | {markdown(value)} |\n"
    page = rendered(table)
    assert set(page.tags) <= {"table", "thead", "tr", "th", "tbody", "td", "code"}, page.tags
    assert page.tags.count("tr") == 2 and page.tags.count("td") == 2  # the row is whole
    text = "".join(page.text).replace("\u200b", "")
    assert visible(value) in text  # a reader sees the value (controls as escapes)
    inert = "".join(page.text)
    for trigger in LIVE_TRIGGERS[:2] + LIVE_TRIGGERS[3:]:
        assert not trigger.search(inert), (trigger.pattern, inert)


@pytest.mark.parametrize("value", [*HOSTILE_VALUES, "https://adminapisgp.im.qcloud.com", "`a``b`", " x ",
                                   "``"])
def test_a_markdown_code_span_is_literal_and_copies_as_written(value: str) -> None:
    """The plan's target line: a code span, so a URL is neither linked nor broken by a zero-width
    space, and nothing in it is a mention, a link, HTML or a line of its own."""
    page = rendered(f"For app at {markdown_code(value)}.\n")
    assert set(page.tags) <= {"p", "code"}, page.tags
    assert page.tags.count("code") == 1
    assert visible(value) in "".join(page.text)  # exactly, without a zero-width space
    assert "\u200b" not in "".join(page.text)


def test_markdown_plan_of_hostile_live_ids_and_nicks_stays_inert(fake: Callable[[Behaviour], FakeServer],
                                                                 cli: Callable[..., Result]) -> None:
    hostile_bots = ["@RBT#@octocat", "@RBT#1 #123", "@RBT#<b>x</b>", "@RBT#a|b\rc", "@RBT#https://e.x"]
    app = HonestApp(bots={bot: {} for bot in hostile_bots},
                    accounts={"alice": {"nick": "@github/security <script> #42 www.evil.example"}})
    server = fake(app)
    result = cli(server.url, "plan", "--format", "markdown", accounts={"alice": {"nick": "Alice"}},
                 prune_bots=True)
    # pruning every live bot is unsafe (a forgotten file?): exit 1, the plan still printed in full
    assert result.exit_code == 1 and "prune_bots would delete 5" in result.stderr, result.stderr
    page = rendered(result.stdout)
    assert "a" not in page.tags and "script" not in page.tags and "b" not in page.tags
    assert page.tags.count("tr") == 1 + len(hostile_bots) + 1  # header, the deletes, the update
    inert = "".join(page.text)
    for trigger in (LIVE_TRIGGERS[0], LIVE_TRIGGERS[1], LIVE_TRIGGERS[3]):
        assert not trigger.search(inert), (trigger.pattern, inert)


def test_the_markdown_plan_escapes_the_live_answer_of_portrait_get(fake: Callable[[Behaviour], FakeServer],
                                                                   cli: Callable[..., Result]) -> None:
    app = HonestApp(accounts={"alice": {}})
    server = fake(overriding(app, portrait_get=lambda body: ok(UserProfileItem=[
        {"To_Account": "alice", "ResultCode": 0,
         "ProfileItem": [{"Tag": "Tag_Profile_IM_Nick", "Value": "x\r| y | z |\n| w"}]}])))
    result = cli(server.url, "plan", "--format", "markdown", accounts={"alice": {"nick": "A"}})
    page = rendered(result.stdout)
    assert page.tags.count("tr") == 2 and page.tags.count("td") == 3


def test_export_writes_control_and_bidi_characters_as_yaml_escapes(fake: Callable[[Behaviour], FakeServer],
                                                                   cli: Callable[..., Result]) -> None:
    import yaml

    bot = "@RBT#a\u202eb"
    nick = "x\x85y\u2028\x1b[2J\x9b\u2066"
    server = fake(HonestApp(bots={bot: {"nick": nick}}))
    result = cli(server.url, "export", bots={})
    assert result.exit_code == 0, result.stderr
    exported = yaml.safe_load(result.stdout)
    assert exported["bots"][bot]["nick"] == nick  # the same value, written with escapes
