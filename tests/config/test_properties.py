"""Property-based tests of the loader: any input gives a model or located problems, quickly.

Never an escaping exception, never a "please report this as a bug" message, never a hang.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatsync.config import ConfigError, load
from chatsync.config.loader import NOT_A_CONFIG
from chatsync.domain.model import DesiredState, Principal
from chatsync.facts import limits

SETTINGS = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def load_bytes(data: bytes) -> DesiredState | ConfigError:
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "c.yaml")
        Path(path).write_bytes(data)
        try:
            return load([path])
        except ConfigError as exc:
            assert exc.problems
            for problem in exc.problems:
                assert problem.location.file == path
                if problem.message == NOT_A_CONFIG:  # about the whole file: no place in it
                    assert len(exc.problems) == 1
                    continue
                assert problem.location.line >= 1 and problem.location.column >= 1
                assert "report this as a bug" not in problem.message, problem
                assert str(exc)
            return exc


# Fragments of plausible and hostile config text, glued into lines at random indents.
FRAGMENTS = [
    "version: 1",
    "version: 2",
    "app:",
    "sdkappid: 1400000000",
    "sdkappid: '1'",
    "region: tokyo",
    "endpoint: http://127.0.0.1:8080",
    "endpoint: http://x.com/a?b",
    "admin: ops",
    "protected: [a, b]",
    "max_deletes: -1",
    "prune_bots: yes",
    "secret_key: abc",
    "rate_limits: {portrait_set: 0}",
    "bots:",
    "accounts:",
    '"@RBT#a":',
    "@RBT#b:",
    "alice:",
    "bob:",
    "12345:",
    "0x1F:",
    "nick: Alice",
    "nick: yes",
    "nick: 0123",
    "nick:",
    "nick: ''",
    "face_url: https://e.com/a.png",
    "self_signature: 名字",
    "state: absent",
    "state: gone",
    "<<: *d",
    "<<: [*d, *e]",
    "x-d: &d",
    "x-e: &e {nick: E}",
    "&d {face_url: u}",
    "*d",
    "- a",
    "- *d",
    "? [a]",
    ": b",
    "---",
    "...",
    "%YAML 1.1",
    "!!binary aGk=",
    "!foo bar",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "\t",
    "#",
    "&x",
    "*x",
    "|",
    ">",
    "- - -",
    "key: &a [*a]",
    "~: 1",
]


@st.composite
def config_texts(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.tuples(st.sampled_from([0, 2, 4, 6]), st.sampled_from(FRAGMENTS)), max_size=25))
    return "\n".join(" " * indent + fragment for indent, fragment in lines) + "\n"


@SETTINGS
@given(config_texts())
def test_config_like_text_gives_a_model_or_located_problems(text: str) -> None:
    load_bytes(text.encode("utf-8"))


@SETTINGS
@given(st.text(max_size=300))
def test_any_text_gives_a_model_or_located_problems(text: str) -> None:
    load_bytes(text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_give_a_model_or_located_problems(data: bytes) -> None:
    load_bytes(data)


@SETTINGS
@given(st.integers(min_value=1, max_value=12), st.integers(min_value=2, max_value=12))
def test_alias_bombs_fail_fast(levels: int, width: int) -> None:
    lines = ["version: 1", "x-0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"x-{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    lines.append("app: {sdkappid: 1}")
    result = load_bytes("\n".join(lines).encode())
    if width**levels > 100_000:
        assert isinstance(result, ConfigError)
        assert "too many alias expansions" in str(result)


_id_chars = st.characters(min_codepoint=0x21, max_codepoint=0x2FFF, exclude_categories=["Cs"])
_account_ids = st.text(_id_chars, min_size=1, max_size=12).filter(
    lambda i: limits.user_id_problem(i) is None and limits.reserved_prefix(i) is None
)
_values = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=60)
_fields = st.dictionaries(st.sampled_from(["nick", "face_url", "self_signature"]), _values)


@SETTINGS
@given(
    st.dictionaries(_account_ids, st.tuples(_fields, st.sampled_from(["present", "absent"]))),
    st.dictionaries(_account_ids.map(lambda i: "@RBT#" + i[:20]), _fields, max_size=20),
)
def test_valid_models_round_trip_through_yaml(
    accounts: dict[str, tuple[dict[str, str], str]], bots: dict[str, dict[str, str]]
) -> None:
    document: dict[str, Any] = {
        "version": 1,
        "app": {"sdkappid": 1400000000, "protected": []},
        "bots": {b: dict(f) for b, f in bots.items() if limits.utf8_len(b) <= 32},
        # an absent account carries no fields (they would be an error)
        "accounts": {
            a: (dict(f) if s == "present" else {"state": "absent"}) for a, (f, s) in accounts.items()
        },
    }
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    state = load_bytes(text.encode("utf-8"))
    assert isinstance(state, DesiredState), str(state)
    for user_id, body in document["accounts"].items():
        expected = Principal(
            "account",
            user_id,
            {k: v for k, v in body.items() if k != "state"},
            body.get("state", "present"),
        )
        assert state.accounts[user_id] == expected
    assert set(state.bots) == set(document["bots"])


# jsonschema's own wording; none of it may reach the user (every message is worded by chatsync).
RAW_SCHEMA_PHRASES = (
    "does not match",
    "is not valid under",
    "is not of type",
    "is not one of",
    "is too long",
    "is too short",
    "was expected",
    "is less than the minimum",
    "is greater than the maximum",
    "should not be valid under",
    "Additional properties",
    "is a required property",
)
_url_heads = st.sampled_from(
    ["", " ", "http://", "https://", "HTTPS://", "ftp://", "https://u:p@", "http://127.0.0.1:", "https:/"]
)
_hex_keys = st.text("0123456789abcdef", min_size=16, max_size=40)


def _app_with(field: str, value: str) -> bytes:
    # JSON strings are YAML double-quoted strings; ensure_ascii keeps the file itself plain ASCII
    return f"version: 1\napp:\n  sdkappid: 1400000000\n  {field}: {json.dumps(value)}\n".encode()


def _messages(result: DesiredState | ConfigError) -> list[str]:
    return [p.message for p in result.problems] if isinstance(result, ConfigError) else []


@SETTINGS
@given(st.builds(str.__add__, _url_heads, st.text(max_size=40)))
def test_endpoint_messages_are_worded_and_never_show_a_password(url: str) -> None:
    for message in _messages(load_bytes(_app_with("endpoint", url))):
        assert not any(phrase in message for phrase in RAW_SCHEMA_PHRASES), message
        assert ";" in message
        if url.startswith("https://u:p@"):
            assert "u:p@" not in message, message


@SETTINGS
@given(st.one_of(st.text(max_size=40), _hex_keys, st.builds(str.__add__, st.text(max_size=8), _hex_keys)))
def test_secret_key_env_messages_are_worded_and_never_show_a_key(value: str) -> None:
    keys = re.findall(r"[0-9a-fA-F]{16,}", value)
    for message in _messages(load_bytes(_app_with("secret_key_env", value))):
        assert not any(phrase in message for phrase in RAW_SCHEMA_PHRASES), message
        assert ";" in message
        assert not any(key in message for key in keys), message
