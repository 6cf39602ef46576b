"""The plan comment: its marker, what it says of a failed or unsafe plan, and its limits."""

from __future__ import annotations

import pytest

from chatsync.gitops.comment import GITHUB_LIMIT, PlanRun, body, check_env, marker

APPLIES = "merging this pull request applies exactly this plan"


def test_a_good_plan_says_what_applies_it() -> None:
    plan = "<!-- chatsync-plan -->\n**Plan: 1 to create, 0 to update, 0 to delete.**\n"
    text = body(PlanRun("dev", 0, plan,
                        sha="a" * 40, details_url="https://github.com/o/r/actions/runs/1"), applies=APPLIES)
    assert text.startswith(marker("dev") + "\n### chatsync plan: dev\n")
    assert "Plan: 1 to create" in text
    assert text.endswith(f"<sub>For `{'a' * 40}`; {APPLIES}.</sub>")
    assert "Error" not in text


@pytest.mark.parametrize("status", [1, 2, None])
def test_a_failed_plan_never_says_it_will_be_applied(status: int | None) -> None:
    text = body(PlanRun("prod", status, "", printed="Error: envs/prod/app.yaml:3:5: unknown field 'nik'"),
                applies=APPLIES)
    assert APPLIES not in text
    assert "nothing is applied" in text
    assert "unknown field 'nik'" in text  # the problems themselves, not an empty status
    if status is None:
        assert "no plan was made" in text
    else:
        assert f"exited {status}" in text


def test_what_chatsync_printed_cannot_escape_its_code_block() -> None:
    printed = "```\n@everyone <img src=x> [x](https://evil) \x1b[2J\n````"
    text = body(PlanRun("dev", 1, "", printed=printed), applies=APPLIES)
    block = text.split("What chatsync printed:\n\n", 1)[1]
    fence = block.split("text\n", 1)[0]
    assert len(fence) == 5  # longer than any run of backticks inside
    assert block.count(fence) == 2
    assert "\x1b" not in text


def test_the_body_stays_under_the_limit() -> None:
    text = body(PlanRun("dev", 1, "x" * 70_000, printed="y" * 70_000), applies=APPLIES)
    assert len(text) <= GITHUB_LIMIT
    assert "more characters not shown" in text


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://x/a) [evil](https://y", ""])
def test_a_strange_details_url_is_left_out(url: str) -> None:
    text = body(PlanRun("dev", 1, "", printed="Error", details_url=url), applies=APPLIES)
    assert "[the log]" not in text


@pytest.mark.parametrize("name", ["", "dev prod", "-->", "a" * 65, "../x", "é"])
def test_an_environment_name_is_checked(name: str) -> None:
    with pytest.raises(ValueError, match="environment name"):
        check_env(name)
