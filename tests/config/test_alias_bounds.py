"""Issue 22, item 6: alias expansion is bounded in values and in characters of text. A 1 MB value
aliased 2,000 times, and a "billion laughs" document, are each refused at once with one error line
naming the file, line and column of the alias that went past the bound; a config that repeats
defaults with aliases, even over thousands of accounts, still loads.

The hostile files run through ``python -m chatsync validate`` as a real process with a generous
timeout (a guard against a hang, not a measure: 36 s before the fix, well under a second after)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from chatsync.config import ConfigError, load
from chatsync.config.yaml_loader import ALIAS_TEXT_BUDGET, ALIAS_TEXT_PER_CHARACTER

ROOT = Path(__file__).resolve().parents[2]
PLACE = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<column>\d+): (?P<message>.*)$")


def long_value_aliased(times: int) -> str:
    lines = ["version: 1", "app: {sdkappid: 1400000000}", f"x-long: &long {'A' * 2**20}", "accounts:"]
    lines += [f"  user{i}: {{nick: *long}}" for i in range(times)]
    return "\n".join(lines) + "\n"


def billion_laughs() -> str:
    lines = ["version: 1", 'x-0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"x-{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\nx-all: *a9\n"


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chatsync", "validate", str(path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("make", [lambda: long_value_aliased(2000), billion_laughs],
                         ids=["1MB-x2000", "laughs"])
def test_an_alias_bomb_is_refused_in_one_line_at_the_alias(tmp_path: Path, make: Callable[[], str]) -> None:
    path = tmp_path / "bomb.yaml"
    text = make()
    path.write_text(text, encoding="utf-8")
    result = validate(path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == "1 problem found."
    problems = result.stderr.splitlines()[:-1]
    assert len(problems) == 1 and len(problems[0]) < 300, problems[0][:300]
    found = PLACE.match(problems[0])
    assert found is not None and found["file"] == str(path), problems[0]
    assert found["message"].startswith("too many alias expansions")
    line = text.splitlines()[int(found["line"]) - 1]
    assert line[int(found["column"]) - 1] == "*"  # the alias itself
    assert len(result.stdout) == 0


def test_the_text_bound_is_the_documented_one(tmp_path: Path) -> None:
    """Aliases of a 1 MB value: refused at the first alias past 1,000,000 characters plus 10 per
    character of the file, not before."""
    text = long_value_aliased(40)
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load([str(path)])
    (problem,) = caught.value.problems
    budget = ALIAS_TEXT_BUDGET + ALIAS_TEXT_PER_CHARACTER * len(text)
    allowed = budget // 2**20  # aliases within the budget
    assert problem.location.line == 5 + allowed  # accounts start on line 5
    assert f"more than {budget:,} characters" in problem.message


def test_aliases_that_repeat_defaults_still_load(tmp_path: Path) -> None:
    """The documented merge-key example, and defaults merged into 5,000 accounts."""
    lines = ["version: 1", "app: {sdkappid: 1400000000}", "x-defaults:",
             "  avatar: &avatar", "    face_url: https://example.com/default-avatar-for-everyone.png",
             "  signature: &signature", f"    self_signature: {'Hello from the team. ' * 10}", "accounts:"]
    lines += [f"  user{i}: {{<<: [*avatar, *signature], nick: U{i}}}" for i in range(5000)]
    path = tmp_path / "c.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    state = load([str(path)])
    assert len(state.accounts) == 5000
    assert str(state.accounts["user4999"].fields["face_url"]).endswith("default-avatar-for-everyone.png")
    assert str(state.accounts["user7"].fields["self_signature"]).startswith("Hello from the team.")
