"""Plans never hide a risk: every output lists deletes, then updates, then creates (a delete of a
protected id, an error, above all), and a cut Markdown comment says what it left out per action."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from chatsync.cli import main
from chatsync.domain.plan import Change, Plan
from chatsync.engine.plan import diff
from chatsync.render import json_plan, markdown, text
from tests.plan.conftest import ENDPOINT, desired, live

CREATES = 45_590
ROW = re.compile(r"\| ([-~+]) (delete|update|create) \| (bot|account) <code>")
LEFT_OUT = re.compile(r"\*(.+) left out: a comment holds at most 60,000 characters\. .*\*")


def _rows(comment: str) -> list[str]:
    """The action of each table row, in order."""
    return [m.group(2) for line in comment.splitlines() if (m := ROW.match(line))]


def _left_out(comment: str) -> dict[str, int]:
    """The note under a cut table, as {action: count}."""
    notes = [m.group(1) for line in comment.splitlines() if (m := LEFT_OUT.fullmatch(line))]
    if not notes:
        return {}
    [note] = notes
    counts = {}
    for part in re.split(r", | and ", note):
        number, noun = part.split(" ")
        counts[noun.rstrip("s")] = int(number.replace(",", ""))
    return counts


@pytest.fixture(scope="module")
def big_plan() -> Plan:
    """45,590 accounts to create and one (declared last) to delete: creates came first before."""
    accounts: dict[str, dict[str, str] | None] = {f"user-{i:05d}": {"nick": f"U{i}"} for i in range(CREATES)}
    accounts["mallory"] = {"state": "absent"}
    return diff(desired(accounts=accounts), live(accounts={"mallory": {}}), endpoint=ENDPOINT)


def test_a_delete_among_45590_creates_is_in_the_markdown_comment(big_plan: Plan) -> None:
    plan = big_plan
    comment = markdown.render(plan)
    assert len(comment) <= markdown.MAX_CHARS
    assert comment.splitlines()[1] == f"**Plan: {CREATES} to create, 0 to update, 1 to delete.**"
    rows = _rows(comment)
    assert rows[0] == "delete" and rows.count("delete") == 1
    assert "| - delete | account <code>mallory</code> |" in comment
    assert 0 < rows.count("create") < CREATES
    assert _left_out(comment) == {"create": CREATES - rows.count("create")}
    assert "not shown here" not in comment  # every delete is shown: no alarm at the top
    assert f"<summary>Show {len(rows)} of {CREATES + 1} changes</summary>" in comment


def test_show_of_the_saved_plan_shows_the_delete_too(big_plan: Plan, tmp_path: Path) -> None:
    """The CLI path, offline: the saved plan keeps the order, and show prints the delete."""
    saved = tmp_path / "plan.json"
    saved.write_text(json_plan.render(big_plan), encoding="utf-8")
    assert json.loads(saved.read_text(encoding="utf-8"))["changes"][0]["action"] == "delete"
    result = CliRunner().invoke(main, ["show", str(saved), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert "| - delete | account <code>mallory</code> |" in result.stdout
    assert _rows(result.stdout)[0] == "delete"


def _changes(action: str, count: int, prefix: str) -> list[Change]:
    long = "x" * 400  # a wide row: few fit in a comment
    ids = [f"{prefix}{i}" for i in range(count)]
    if action == "create":
        return [Change("account", user_id, "create", None, {"nick": long}) for user_id in ids]
    if action == "update":
        return [Change("account", user_id, "update", {"nick": ""}, {"nick": long}) for user_id in ids]
    return [Change("account", user_id, "delete", {}, None, "state: absent " + long) for user_id in ids]


def test_updates_are_shown_before_any_create_and_the_note_counts_each_action() -> None:
    changes = _changes("delete", 3, "d") + _changes("update", 500, "u") + _changes("create", 500, "c")
    comment = markdown.render(Plan(sdkappid=1400000000, endpoint=ENDPOINT, changes=changes))
    rows = _rows(comment)
    assert rows.count("delete") == 3 and "create" not in rows
    assert 0 < rows.count("update") < 500
    assert rows == sorted(rows, key=["delete", "update", "create"].index)
    assert _left_out(comment) == {"update": 500 - rows.count("update"), "create": 500}
    assert re.search(r"\*[\d,]+ updates and 500 creates left out: ", comment)
    assert "not shown here" not in comment


def test_deletes_that_do_not_fit_are_counted_in_the_note_and_at_the_top() -> None:
    changes = _changes("delete", 2000, "d") + _changes("create", 10, "c")
    plan = Plan(sdkappid=1400000000, endpoint=ENDPOINT, changes=changes, errors=["an error"])
    comment = markdown.render(plan)
    assert len(comment) <= markdown.MAX_CHARS
    rows = _rows(comment)
    assert set(rows) == {"delete"} and 0 < len(rows) < 2000
    hidden = 2000 - len(rows)
    assert _left_out(comment) == {"delete": hidden, "create": 10}
    lines = comment.splitlines()
    top = lines.index(f"> **{hidden:,} deletes not shown here:** this comment holds at most 60,000 "
                      "characters. Run `chatsync plan` or see the JSON plan for every one.")
    assert lines[:top + 1] == [markdown.MARKER, "**Plan: 10 to create, 0 to update, 2000 to delete.**", "",
                                "> **Error: this plan cannot be applied.** an error", lines[top]]
    assert top < lines.index("| | object | fields |")


def test_one_delete_left_out_is_counted_in_the_singular() -> None:
    many = Plan(sdkappid=1, endpoint=ENDPOINT, changes=_changes("delete", 2000, "d"))
    fits = len(_rows(markdown.render(many)))
    comment = markdown.render(Plan(sdkappid=1, endpoint=ENDPOINT, changes=_changes("delete", fits + 1, "d")))
    assert _left_out(comment) == {"delete": 1}
    assert "> **1 delete not shown here:**" in comment
    assert "*1 delete left out: " in comment


def test_text_and_json_list_deletes_then_updates_then_creates() -> None:
    want = desired(bots={"@RBT#new": {"nick": "N"}, "@RBT#old": {"state": "absent"}},
                   accounts={"alice": {"nick": "A"}, "bob": {"nick": "B"}, "mallory": {"state": "absent"}})
    plan = diff(want, live(bots={"@RBT#old": {}}, accounts={"bob": {"nick": "b"}, "mallory": {}}),
                endpoint=ENDPOINT)
    expected = ["account.mallory", "bot.@RBT#old", "account.bob", "bot.@RBT#new", "account.alice"]
    assert [c["address"] for c in json.loads(json_plan.render(plan))["changes"]] == expected
    heads = [line.split('"')[1] for line in text.render(plan).splitlines() if re.match(r"  [-~+] ", line)]
    assert heads == [address.split(".", 1)[1] for address in expected]


def test_a_saved_plan_is_listed_risks_first_whatever_order_its_file_has() -> None:
    """A file from an older chatsync (creates first) or edited to slip in a delete of a protected id:
    read back, the protected delete (an error) is first, then the other deletes, updates, creates."""
    changes = [*_changes("create", 2, "c"), *_changes("update", 1, "u"), *_changes("delete", 1, "d"),
               Change("account", "vip", "delete", {}, None, "state: absent")]
    plan = Plan(sdkappid=1400000000, endpoint=ENDPOINT, changes=changes, protected=["vip"])
    again = Plan.from_data(plan.data)
    assert [c.address for c in again.changes] == [
        "account.vip", "account.d0", "account.u0", "account.c0", "account.c1"]
    assert _rows(markdown.render(again)) == ["delete", "delete", "update", "create", "create"]
