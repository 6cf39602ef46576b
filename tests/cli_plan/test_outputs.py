"""``chatsync plan`` outputs end to end: the ``--out`` file, stdout purity (JSON, colours, progress)
and the Markdown comment's limits."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import pytest

import chatsync.cli.common as command_common
from chatsync.cli.common import progress as real_progress
from chatsync.domain.plan import Plan
from chatsync.text.safe import markdown
from tests.cli_plan.conftest import accounts_yaml, app_yaml, write_config
from tests.support import SECRET, App

ANSI = re.compile(r"\x1b\[")
#: Creates, an update, a delete and an unsafe line (max_deletes 0): every coloured kind of line.
MIXED = app_yaml(max_deletes=0) + """\
bots:
  "@RBT#new":
    nick: New
accounts:
  alice:
    nick: Alice
  bob:
  mallory:
    state: absent
"""


@pytest.fixture
def mixed(serve: Callable[..., App], tmp_path: Path) -> tuple[App, str]:
    app = serve()
    app.seed(accounts={"alice": {"nick": "Al"}, "mallory": {}})
    return app, write_config(tmp_path, MIXED)


# -- --out ----------------------------------------------------------------------------------------

def test_out_file_equals_the_json_output_and_reads_back(mixed: tuple[App, str], tmp_path: Path) -> None:
    app, config = mixed
    out = tmp_path / "plan.json"
    result = app.plan(config, "--format", "json", "--out", str(out), "--force")
    assert result.exit_code == 0, result.stderr
    saved = out.read_text(encoding="utf-8")
    assert saved == result.stdout
    data = json.loads(saved)
    assert data["summary"] == {"create": 2, "update": 1, "delete": 1}
    assert SECRET not in saved
    assert "usersig" not in saved.lower()
    assert Plan.from_data(data).data == data
    assert not list(tmp_path.glob(".plan.json.*")), "the temporary file was left behind"
    assert app.writes() == {}


def test_out_file_with_text_output_is_the_json_plan(mixed: tuple[App, str], tmp_path: Path) -> None:
    app, config = mixed
    out = tmp_path / "plan.json"
    text = app.plan(config, "--out", str(out), "--force")
    assert text.exit_code == 0, text.stderr
    assert text.stdout.startswith(f"Plan for app 1400000000 at {app.url}\n")
    assert '\n  + bot "@RBT#new"' in text.stdout
    as_json = app.plan(config, "--format", "json", "--force")
    assert out.read_text(encoding="utf-8") == as_json.stdout  # same live state, same fingerprint


def test_out_file_is_written_for_an_unsafe_plan_too(mixed: tuple[App, str], tmp_path: Path) -> None:
    """The reviewed file of an unsafe plan is what ``apply --plan FILE --force`` would take."""
    app, config = mixed
    out = tmp_path / "plan.json"
    result = app.plan(config, "--out", str(out))
    assert result.exit_code == 1
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["safe"] is False and data["unsafe_reasons"]


def test_out_into_a_missing_directory_fails_cleanly(mixed: tuple[App, str], tmp_path: Path) -> None:
    app, config = mixed
    result = app.plan(config, "--force", "--out", str(tmp_path / "nowhere" / "plan.json"))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("Error: cannot write ")
    assert "Traceback" not in result.stderr


# -- stdout purity ----------------------------------------------------------------------------------

class _Tty:
    """A stream that says it is a terminal and writes to another."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return self.inner.write(text)

    def flush(self) -> None:
        self.inner.flush()


def test_json_stdout_stays_json_while_progress_is_reported(serve: Callable[..., App], tmp_path: Path) -> None:
    """A slow app (over 1 s): the end-of-phase progress line goes to stderr, stdout is only JSON."""
    app = serve(latency_ms=1100)
    config = write_config(tmp_path, app_yaml() + accounts_yaml({"alice": {"nick": "A"}}))
    result = app.plan(config, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["create"] == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert re.fullmatch(r"Reading the live app: .*2 (API )?calls.*1\.\ds\.\n", result.stderr), result.stderr


def test_json_stdout_stays_json_with_live_progress_on_a_terminal(
        serve: Callable[..., App], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """stderr a terminal: the in-place progress line (``\\r``, erase) still never reaches stdout."""

    @contextmanager
    def eager(*args: Any, **kwargs: Any) -> Iterator[None]:
        """The command's own progress call, with stderr a terminal and no 1 s grace."""
        with real_progress(*args, **{**kwargs, "stream": _Tty(sys.stderr), "after": 0.0}):
            yield

    monkeypatch.setattr(command_common, "progress", eager)
    app = serve(latency_ms=400)
    config = write_config(tmp_path, app_yaml() + accounts_yaml({"alice": {"nick": "A"}}))
    for output_format in ("json", "markdown"):
        result = app.plan(config, "--format", output_format)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code == 0, result.stderr
        assert "\r" not in result.stdout and not ANSI.search(result.stdout)
        if output_format == "json":
            json.loads(result.stdout)
        else:
            assert result.stdout.startswith("<!-- chatsync-plan -->\n")
        assert "\rReading the live app: " in result.stderr
        assert "\r\x1b[K" in result.stderr
        last = result.stderr.rsplit("\x1b[K", 1)[-1]  # after the in-place line is erased
        assert re.fullmatch(r"Reading the live app: .*2 (API )?calls.*0\.\ds\.\n", last), result.stderr


@pytest.mark.parametrize("env, flags", [({"NO_COLOR": "1"}, ()), ({}, ()), ({}, ("--no-color",))])
def test_no_ansi_when_not_a_terminal(mixed: tuple[App, str], env: dict[str, str],
                                     flags: tuple[str, ...]) -> None:
    app, config = mixed
    result = app.plan(config, "--force", *flags, env=app.env(**env))
    assert result.exit_code == 0, result.stderr
    assert not ANSI.search(result.stdout)
    assert not ANSI.search(result.stderr)
    assert "Unsafe: " in result.stdout


def run_on_a_terminal(app: App, config: str, *flags: str, **env: str) -> str:
    """``chatsync plan`` in its own process with stdout on a pseudo-terminal; what it printed."""
    environ = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environ.update({"CHATSYNC_SECRET_KEY": SECRET, "CHATSYNC_ENDPOINT": app.url, **env})
    primary, secondary = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "chatsync", "plan", config, "--force", *flags],
                                   stdin=subprocess.DEVNULL, stdout=secondary, stderr=subprocess.PIPE,
                                   env=environ)
    finally:
        os.close(secondary)
    chunks = []
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(primary)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_colours_on_a_terminal_only_without_no_color(mixed: tuple[App, str]) -> None:
    app, config = mixed
    coloured = run_on_a_terminal(app, config)
    assert ANSI.search(coloured), "control: a terminal without NO_COLOR gets colours"
    assert "Plan: 2 to create, 1 to update, 1 to delete." in coloured
    for plain in (run_on_a_terminal(app, config, NO_COLOR="1"), run_on_a_terminal(app, config, "--no-color")):
        assert not ANSI.search(plain), plain
        assert _strip(coloured) == plain  # the same text, only without the colours


def _strip(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


# -- Markdown -----------------------------------------------------------------------------------------

HOSTILE = "<img src=x onerror=alert(1)>|x"


def test_markdown_of_3000_changes_is_cut_folded_and_says_how_many_were_left_out(
        serve: Callable[..., App], tmp_path: Path) -> None:
    app = serve()
    accounts = {"evil": {"nick": HOSTILE}, **{f"user-{i:05d}": {"nick": f"User {i}"} for i in range(2999)}}
    config = write_config(tmp_path, app_yaml() + accounts_yaml(accounts))
    result = app.plan(config, "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    lines = text.splitlines()
    assert lines[0] == "<!-- chatsync-plan -->"
    assert lines[1] == "**Plan: 3000 to create, 0 to update, 0 to delete.**"
    assert len(text) <= 60_000
    rows = [line for line in lines if line.startswith("| + create |")]
    notes = [re.fullmatch(r"\*([\d,]+) creates? left out: .*\*", line) for line in lines]
    counts = [int(match.group(1).replace(",", "")) for match in notes if match]
    assert counts == [3000 - len(rows)], "one note, saying exactly how many rows are not shown"
    assert 0 < len(rows) < 3000
    opened, note, closed = lines.index("<details>"), next(i for i, m in enumerate(notes) if m), \
        lines.index("</details>")
    assert opened < lines.index("| | object | fields |") < note < closed
    # the fold's label counts what is inside it, of how many
    assert lines[opened + 1] == f"<summary>Show {len(rows)} of 3000 changes</summary>"
    assert "<img" not in text
    assert "&#60;img src=x onerror=alert(1)&#62;" in text
    evil = next(line for line in rows if "evil" in line)
    assert evil.count("|") == 4, evil
    assert app.writes() == {}
    assert app.emulator.calls["account_check"] == 30


def test_markdown_stays_whole_with_a_long_kept_list_and_a_huge_plan(serve: Callable[..., App],
                                                                    tmp_path: Path) -> None:
    """Twenty protected live bots (the most an app has) and thousands of changes: the text is cut in
    the table, never in the closing lines, so every kept id is named and no tag is left open."""
    app = serve()
    bots = [f"@RBT#protected-bot-{i:02d}-xxxxxxxx" for i in range(20)]  # 32 bytes each
    app.seed(bots={bot: {} for bot in bots})
    accounts = {f"user-{i:05d}": {"nick": f"User {i}"} for i in range(3000)}
    protected = "[" + ", ".join(f'"{bot}"' for bot in bots) + "]"
    settings = app_yaml(prune_bots="true", protected=protected)
    config = write_config(tmp_path, settings + accounts_yaml(accounts))
    result = app.plan(config, "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert len(text) <= 60_000
    assert text.endswith("\n")
    kept = text.splitlines()[-1]
    assert kept.startswith("Kept (not deleted): ")
    for bot in bots:
        assert f"<code>{markdown(bot)}</code>" in kept, bot
    assert kept.count("<code>") == kept.count("</code>") == 20
