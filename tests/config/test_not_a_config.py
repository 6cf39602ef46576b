"""Issue 22, item 2: a file that is not a chatsync config is refused naming only the file, and no
message quotes more than a short, escaped piece of a key or value.

A link to ``/etc/shadow`` in a config directory, read as root in CI, used to print each of its
lines' keys in ``unknown field '...'`` errors into the job log. Now a file without ``version:`` at
its top is one line, ``FILE: is not a chatsync config ...``, whatever it holds; and in a real config
a key or value is quoted at most 40 characters long, escaped, with its length said."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from chatsync.cli import main
from chatsync.config import ConfigError, load
from chatsync.config.loader import NOT_A_CONFIG
from chatsync.text.safe import SHOWN_MAX

HASH = ("$6$Zp4cQ3.vN8sT2rYw$9X7lK2mQ4pR8sT6vW0yZ3bC5dF7gH9jK1lM3nP5qR7sT9uV1wX3yZ5aB7cD9eF1gH3jK5lM7nP9q"
        "R1sT3uV5w")
SHADOW = (f"root:{HASH}:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n"
          f"alice:{HASH[::-1]}:19800:0:99999:7:::\n")
#: Other files a link or a wrong path could hand the loader: a mapping of the file's secrets,
#: another tool's YAML, a list, a scalar, a YAML syntax error, binary bytes.
NOT_CONFIGS: dict[str, str | bytes] = {
    "shadow": SHADOW,
    "shadow-as-mapping": f"root: {HASH}\ndaemon: '*'\nalice: {HASH[::-1]}\n",
    "compose": "services:\n  web:\n    image: nginx\n    environment: {DB_PASSWORD: hunter2-secret}\n",
    "list": f"- root: {HASH}\n- daemon\n",
    "syntax": f"root: [{HASH}\nalice: {{\n",
    "binary": b"\x7fELF\x02\x01\x01\x00root\xff\xfe" + HASH.encode(),
    "tabs": f"root:\n\t{HASH}: 1\n",
}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("name", sorted(NOT_CONFIGS))
def test_a_file_that_is_no_config_is_refused_naming_only_the_file(tmp_path: Path, name: str) -> None:
    content = NOT_CONFIGS[name]
    path = tmp_path / "entry.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"{path}: {NOT_A_CONFIG}", "1 problem found."]
    for secret in ("root", "daemon", "alice", HASH[:12], "hunter2", "nginx", "ELF"):
        assert secret not in result.stderr.replace(str(path), "")


def test_a_file_that_is_no_config_in_a_directory_is_refused_beside_the_real_ones(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("version: 1\napp: {sdkappid: 1400000000}\naccounts:\n  bob: {}\n")
    (tmp_path / "shadow.yaml").write_text(SHADOW)
    with pytest.raises(ConfigError) as caught:
        load([str(tmp_path)])
    assert [str(p) for p in caught.value.problems] == [f"{tmp_path / 'shadow.yaml'}: {NOT_A_CONFIG}"]


def test_a_config_that_forgot_version_is_told_to_add_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("app:\n  sdkappid: 1400000000\n")
    with pytest.raises(ConfigError) as caught:
        load([str(path)])
    (problem,) = caught.value.problems
    assert problem.message == NOT_A_CONFIG and "start with version: 1" in problem.message


def test_empty_and_utf16_files_keep_their_own_message(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    wide = tmp_path / "wide.yaml"
    wide.write_bytes("version: 1\n".encode("utf-16"))
    with pytest.raises(ConfigError) as caught:
        load([str(empty), str(wide)])
    messages = [p.message for p in caught.value.problems]
    assert messages[0].startswith("the file has no content") and "UTF-16" in messages[1]


LONG_KEY = "k" * 1000  # YAML caps an implicit key at 1024 characters
BIDI_KEY = "ab\u202ecd\x1bx"


@pytest.mark.parametrize(("body", "needle"), [
    (f"accounts:\n  alice: {{{LONG_KEY}: 1}}\n", "unknown field 'kkkk"),
    (f"{LONG_KEY}: 1\n", "unknown field 'kkkk"),
    (f"app_extra:\n  {LONG_KEY}: 1\n", "unknown field 'app_extra'"),
    (f"accounts:\n  {'u' * 1000}: {{nick: A}}\n", "account id \"uuuu"),
    (f"accounts:\n  alice: {{custom: {{{'K' * 1000}: v}}}}\n", "custom"),
    (f"x-anchor: &v {'v' * 5000}\napp2: *v\n", "unknown field 'app2'"),
])
def test_no_message_quotes_more_than_a_short_piece(tmp_path: Path, body: str, needle: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("version: 1\napp: {sdkappid: 1400000000, admin: " + "a" * 5000 + "}\n" + body)
    with pytest.raises(ConfigError) as caught:
        load([str(path)])
    text = str(caught.value)
    assert needle in text, text[:2000]
    for problem in caught.value.problems:
        assert len(problem.message) < 400, problem.message[:400]
        for run_of in ("k", "u", "K", "v", "a"):
            assert run_of * (SHOWN_MAX + 1) not in problem.message, problem.message


def test_a_quoted_key_is_escaped_and_its_length_said(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    key = BIDI_KEY + "z" * 60
    written = key.replace("\x1b", "\\e")  # YAML's escape for ESC, in double quotes
    path.write_text(f'version: 1\napp: {{sdkappid: 1400000000}}\naccounts:\n  alice: {{"{written}": 1}}\n')
    with pytest.raises(ConfigError) as caught:
        load([str(path)])
    (problem,) = caught.value.problems
    assert "\u202e" not in problem.message and "\x1b" not in problem.message
    assert "\\u202e" in problem.message and f"({len(key):,} characters)" in problem.message
