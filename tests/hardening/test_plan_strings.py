"""Issue 22, item 4: a saved plan holding any string the JSON parser accepts, a lone surrogate
(``"\\ud800"``) included, in any field or key, gives ``show`` and ``apply --plan`` a one-line error
(or, for a string chatsync can hold, is shown), never a traceback. The seal refuses such a form."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatsync.domain.plan import seal
from chatsync.errors import PlanFileError
from tests.apply.conftest import write_config
from tests.support import SECRET, App

#: Any text, with halves of surrogate pairs mixed in (hypothesis leaves them out by default).
TEXT = st.lists(st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr)), max_size=12).map("".join)


def places(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """Every leaf (``value``) and every key (``key``) of a JSON document, by its path."""
    found: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found.append(((*path, key), "key"))
            found += places(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += places(value, (*path, index))
    else:
        found.append((path, "value"))
    return found


def put(data: Any, path: tuple[Any, ...], what: str, text: str) -> Any:
    """``data`` with the key or the value at ``path`` replaced by ``text``."""
    data = json.loads(json.dumps(data))
    *parents, last = path
    holder = data
    for step in parents:
        holder = holder[step]
    if what == "key":
        holder[text] = holder.pop(last)
    else:
        holder[last] = text
    return data


def one_line_error_or_shown(result: Any) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 0:
        return
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr


@pytest.fixture
def saved(serve: Callable[..., App], tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    app = serve()
    config = write_config(tmp_path, {"@RBT#new": {"nick": "New"}},
                          {"alice": {"nick": "Alice", "self_signature": "hi"}})
    path = tmp_path / "plan.json"
    assert app.cli("plan", config, "--out", str(path)).exit_code == 0
    return app, json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\ud800\\u0041", "x\\udbff"])
@pytest.mark.parametrize("command", ["show", "apply"])
def test_a_lone_surrogate_in_a_plan_is_refused_in_one_line(saved: tuple[App, dict[str, Any]], tmp_path: Path,
                                                           escape: str, command: str) -> None:
    app, data = saved
    text = json.dumps(data).replace('"Alice"', f'"{escape}"')
    path = tmp_path / "surrogate.json"
    path.write_text(text, encoding="utf-8")
    result = app.cli(command, *(["--plan"] if command == "apply" else []), str(path))
    one_line_error_or_shown(result)
    assert result.exit_code == 1
    assert "is not a chatsync plan" in result.stderr and str(path) in result.stderr
    assert app.writes() == {}


def test_any_json_string_anywhere_in_a_plan_never_ends_in_a_traceback(saved: tuple[App, dict[str, Any]],
                                                                      tmp_path: Path) -> None:
    app, data = saved
    spots = places(data)
    path = tmp_path / "edited.json"

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(spot=st.sampled_from(spots), text=TEXT,
           command=st.sampled_from(["text", "json", "markdown", "apply"]))
    def check(spot: tuple[tuple[Any, ...], str], text: str, command: str) -> None:
        path.write_text(json.dumps(put(data, *spot, text)), encoding="ascii")  # \u escapes, as JSON has them
        if command == "apply":
            result = app.cli("apply", "--plan", str(path))
            assert result.exit_code == 1  # edited: the seal no longer matches, or it is no plan at all
        else:
            result = app.cli("show", str(path), "--format", command)
        one_line_error_or_shown(result)

    check()
    assert app.writes() == {}


def test_the_seal_refuses_a_form_that_is_not_unicode_text() -> None:
    with pytest.raises(PlanFileError, match="cannot be sealed"):
        seal({"format_version": "1", "warnings": ["\ud800"]}, SECRET)
    with pytest.raises(PlanFileError, match="cannot be sealed"):
        seal({"format_version": "1", "\udc80": 1}, SECRET)
    assert seal({"format_version": "1", "warnings": ["\U0001f600"]}, SECRET).startswith("hmac-sha256:")


def test_a_resealed_plan_with_a_lone_surrogate_is_refused_before_any_call(saved: tuple[App, dict[str, Any]],
                                                                          tmp_path: Path) -> None:
    """Even sealed with the right key (someone who holds it), such a plan is refused before a call."""
    import hashlib
    import hmac

    app, data = saved
    data = put(data, ("changes", 1, "after", "nick"), "value", "\ud800")
    content = {k: v for k, v in data.items() if k != "signature"}
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    data["signature"] = "hmac-sha256:" + hmac.new(SECRET.encode(), text.encode("utf-8", "surrogatepass"),
                                                  hashlib.sha256).hexdigest()
    path = Path(tmp_path / "resealed.json")
    path.write_text(json.dumps(data), encoding="ascii")
    app.forget_calls()
    result = app.cli("apply", "--plan", str(path))
    one_line_error_or_shown(result)
    assert result.exit_code == 1 and "is not a chatsync plan" in result.stderr
    assert sum(app.emulator.calls.values()) == 0
