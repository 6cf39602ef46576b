"""The apply report says what happened (issue: honest summaries, folded repeats, progress that
fits): ``Apply complete`` only when every change was attempted, ``Apply stopped`` /
``Apply interrupted`` otherwise (text and JSON); changes skipped for one reason are one line
unless ``-v``; progress ends saying how the phase ended, fits the terminal and shows an ETA."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from chatsync.cli.common import call_rate, eta, progress
from tests.apply.conftest import summary, write_config
from tests.apply.test_failures import die_after
from tests.support import App

NEW = {f"u{i:03d}": {"nick": f"U{i}"} for i in range(250)}


def test_a_complete_run_says_complete_in_text_and_json(serve: Callable[..., App], tmp_path: Path) -> None:
    app = serve()
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}})
    text = app.cli("apply", config, "--auto-approve")
    assert summary(text) == "Apply complete: 1 created, 0 updated, 0 deleted, 0 failed."
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}, "bob": {"nick": "Bob"}})
    as_json = json.loads(app.cli("apply", config, "--auto-approve", "--format", "json").stdout)
    assert as_json["ended"] == "complete"


def stopped_run(serve: Callable[..., App], tmp_path: Path, *args: str) -> Result:
    app = serve()
    config = write_config(tmp_path, accounts=NEW)
    die_after(app, "multiaccount_import", 1)  # the first import call: the endpoint is gone
    return app.cli("apply", config, "--auto-approve", *args)


def test_a_stopped_run_says_stopped_and_folds_what_it_never_started(serve: Callable[..., App],
                                                                    tmp_path: Path) -> None:
    result = stopped_run(serve, tmp_path)
    assert result.exit_code == 1
    assert summary(result).startswith("Apply stopped: 0 created")
    assert not any(line.startswith("Apply complete") for line in result.stdout.splitlines())
    report = result.stdout.split("Apply would make", 1)[1]
    change_lines = [line for line in report.splitlines() if line.startswith("  + account")]
    folded = [line for line in report.splitlines() if re.match(r"  \d[\d,]* (skipped|failed|partial)", line)]
    assert len(change_lines) + sum(int(line.split()[0].replace(",", "")) for line in folded) == 250
    assert folded and len(report.splitlines()) < 30, report  # not one line per change
    assert all("-v or --format json lists each" in line for line in folded)
    assert sum("cannot reach" in line for line in folded) == 1  # the reason, said once
    assert 'account "u000", account "u001", account "u002", ...' in report  # a few by name


def test_a_stopped_run_lists_each_change_with_v_and_in_json(serve: Callable[..., App],
                                                            tmp_path: Path) -> None:
    verbose = stopped_run(serve, tmp_path, "-v")
    listed = [line for line in verbose.stdout.split("Apply would make", 1)[1].splitlines()
              if line.startswith("  + account")]
    assert len(listed) == 250
    as_json = json.loads(stopped_run(serve, tmp_path, "--format", "json").stdout)
    assert as_json["ended"] == "stopped" and len(as_json["changes"]) == 250


class Terminal(io.StringIO):
    """A stream that says it is a terminal of a given width."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width

    def isatty(self) -> bool:
        return True


def test_progress_fits_a_narrow_terminal_and_says_how_it_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    import chatsync.cli.common as common

    stream = Terminal(40)
    monkeypatch.setattr(common, "_width", lambda s: s.width)
    long_status = "1234/5000 changes, 0 failed, 880 API calls (220/s), about 17s left"
    with progress("Applying", lambda final: long_status, stream=stream, after=0.0) as phase:
        import time
        time.sleep(0.6)
        phase.ending = "stopped"
    written = stream.getvalue()
    updates = [part for part in written.split("\r") if part and not part.startswith("\x1b[K")]
    in_place = [u.split("\x1b[K")[0] for u in updates if "\n" not in u]
    assert in_place and all(len(u) <= 39 for u in in_place), in_place  # never wraps
    last = written.rstrip("\n").splitlines()[-1]
    assert re.fullmatch(r".*, stopped after \d+\.\ds\.", last), last
    assert "done" not in last


def test_progress_says_interrupted_on_ctrl_c() -> None:
    stream = io.StringIO()
    try:
        with progress("Reading the live app", lambda final: "3 API calls", stream=stream, after=0.0):
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    last = stream.getvalue().splitlines()[-1]
    assert last.startswith("Reading the live app: 3 API calls, interrupted after")


def test_reads_show_done_of_total_and_time_left() -> None:
    class Client:
        def __init__(self) -> None:
            self.calls = {"account_check": 0}

    client = Client()
    status = call_rate(client, expected=100)  # type: ignore[arg-type]
    client.calls["account_check"] = 25
    shown = status(False)
    assert shown.startswith("25/100 API calls (") and "s left" in shown
    assert status(True).startswith("25 API calls (")  # the last line: what was done, no guess
    assert eta(50, 100, 10.0) == ", about 10s left" and eta(0, 100, 1.0) == "" and eta(100, 100, 5.0) == ""
