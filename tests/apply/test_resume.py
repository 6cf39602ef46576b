"""A saved plan resumes: ``apply --plan FILE`` stopped part way (Ctrl-C after any number of writes,
SIGTERM to a real process), or with a permanent failure fixed afterwards, finishes when run again
with the same file: what is done is reported ``already done`` and nothing is sent for it; a create
partly done gets only the fields still to set. A third value anywhere (another writer's field value,
an object another writer created or deleted, a bot that appeared or disappeared) is still refused,
with nothing written (docs/contract.md §4)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import chatsync
from chatsync.cli import apply as apply_command
from chatsync.cli.common import progress
from chatsync.emulator import Emulator
from chatsync.engine.plan import recheck
from chatsync.tencent.api import ChatApi
from tests.apply.conftest import Secrets, assert_clean_error, profile, summary, write_config
from tests.apply.test_interrupt import TIMEOUT, env_for, wait_for
from tests.support import SECRET, WRITE_ENDPOINTS, App

NEW = {f"u{i:02d}": {"nick": f"U{i}", "self_signature": f"sig {i}"} for i in range(30)}
CONFIG: dict[str, Any] = dict(
    bots={"@RBT#a": {"nick": "A", "self_signature": "a"},  # create_robot carries both
          "@RBT#b": {"nick": "B", "gender": "male"},  # create_robot, then portrait_set
          "@RBT#old": {"state": "absent"}},
    accounts={"alice": {"nick": "Alice"},  # an update by multiaccount_import
              "bob": {"nick": "Bob", "self_signature": "new"},  # an update by portrait_set
              "mallory": {"state": "absent"},
              **NEW},  # multiaccount_import, then a portrait_set each
)
CHANGES = 3 + 3 + len(NEW)
#: The writes one uninterrupted apply of CONFIG makes: every run of the plan, together, makes these.
WRITES = {"create_robot": 2, "portrait_set": 1 + 1 + len(NEW), "multiaccount_import": 2, "delete_robot": 1,
          "account_delete": 1}
ALL_IDS = ["alice", "bob", "mallory", *NEW]


@pytest.fixture
def app(serve: Callable[..., App]) -> App:
    app = serve()
    app.seed({"@RBT#old": {"nick": "Old"}, "@RBT#keep": {"nick": "Keep"}},
             {"alice": {"nick": "Al"}, "bob": {"nick": "Bob"}, "mallory": {"nick": "M"}})
    return app


@pytest.fixture
def config(tmp_path: Path) -> str:
    return write_config(tmp_path, **CONFIG)


@pytest.fixture
def saved(app: App, config: str, tmp_path: Path) -> str:
    path = str(tmp_path / "plan.json")
    made = app.cli("plan", config, "--out", path)
    assert made.exit_code == 0, made.stderr
    assert f"Plan: {2 + len(NEW)} to create, 2 to update, 2 to delete." in made.stdout
    app.forget_calls()
    return path


@pytest.fixture
def shown_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """The apply's progress line from its start (not only after a second), so a test sees its end."""
    monkeypatch.setattr(apply_command, "progress", partial(progress, after=0.0))


class Writes:
    """Counts the writes the emulator answers; can send this process Ctrl-C after the ``at``-th."""

    def __init__(self, app: App) -> None:
        self.counts: Counter[str] = Counter()
        self.at: int | None = None
        self.lock = threading.Lock()
        handle = app.emulator.handle

        def counting(method: str, target: str, body: bytes) -> Any:
            answer = handle(method, target, body)
            name = target.split("?")[0].rsplit("/", 1)[-1]
            if name in WRITE_ENDPOINTS:
                with self.lock:
                    self.counts[name] += 1
                    stop = sum(self.counts.values()) == self.at
                if stop:  # delivered to the main thread, where the apply runs: its Ctrl-C handler
                    os.kill(os.getpid(), signal.SIGINT)
            return answer

        app.emulator.handle = counting  # type: ignore[method-assign]


def assert_finished(app: App, config: str, saved: str) -> None:
    """The app is exactly CONFIG, a fresh plan is empty, and the plan applied again is all done."""
    assert app.cli("plan", config, "--detailed-exitcode").exit_code == 0
    live = app.read(ALL_IDS)
    assert sorted(live.bots) == ["@RBT#a", "@RBT#b", "@RBT#keep"]
    assert live.accounts == {"alice", "bob", *NEW}
    assert live.profile("alice")["nick"] == "Alice" and live.profile("bob")["self_signature"] == "new"
    for user_id, fields in NEW.items():
        assert live.profile(user_id) == profile(fields["nick"], "", fields["self_signature"]), user_id
    assert live.profile("@RBT#b")["gender"] == "male"
    app.forget_calls()
    again = app.cli("apply", "--plan", saved)
    assert again.exit_code == 0, (again.stdout, again.stderr)
    assert summary(again) == \
        f"Apply complete: 0 created, 0 updated, 0 deleted, 0 failed ({CHANGES} already done)."
    assert app.writes() == {}


@pytest.mark.parametrize("stop_after", [1, 2, 3, 4, 6, 10, 20, 30, 35])
def test_a_saved_plan_stopped_after_any_write_resumes_to_completion(app: App, config: str, saved: str,
                                                                    stop_after: int,
                                                                    shown_progress: None) -> None:
    writes = Writes(app)
    writes.at = stop_after
    first = app.cli("apply", "--plan", saved, "--format", "json")
    assert first.exit_code == 130, (first.stdout, first.stderr)
    report = json.loads(first.stdout)
    statuses = Counter(c["status"] for c in report["changes"])
    assert report["ended"] == "interrupted" and statuses["ok"] < CHANGES, statuses
    # the progress line's end counts what was really done, not what was skipped or left partly done
    last = [line for line in first.stderr.splitlines() if line.startswith("Applying: ")][-1]
    finished = statuses["ok"] + statuses["failed"]
    assert last.startswith(f"Applying: {finished}/{CHANGES} changes, 0 failed"), last
    assert last.endswith("s.") and "interrupted after" in last, last

    writes.at = None
    second = app.cli("apply", "--plan", saved, "--format", "json")
    assert second.exit_code == 0, (second.stdout, second.stderr)
    resumed = json.loads(second.stdout)
    done_before = {c["address"] for c in report["changes"] if c["status"] == "ok"}
    partly = {c["address"] for c in report["changes"] if c["status"] == "partial"}
    already = {c["address"] for c in resumed["changes"] if c["state"] == "already done"}
    # each change done in the first run is not made again; nor one partly done whose writes were all
    # made (an update by import not read back yet)
    assert done_before <= already and already - done_before <= partly
    assert {c["status"] for c in resumed["changes"]} == {"ok"}
    assert resumed["summary"]["already_done"] == len(already)
    # no write was made twice: both runs together make the writes of one uninterrupted apply
    assert dict(writes.counts) == WRITES
    assert_finished(app, config, saved)


def test_a_create_partly_done_gets_only_what_remains(app: App, config: str, saved: str) -> None:
    # what a run stopped after its creating calls leaves: the objects, with what those calls carry
    partly = [f"u{i:02d}" for i in range(0, 30, 3)]
    app.api.multiaccount_import({u: {"nick": NEW[u]["nick"]} for u in partly})
    app.api.create_robot("@RBT#b", {"nick": "B"})
    app.forget_calls()
    result = app.cli("apply", "--plan", saved)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert summary(result) == f"Apply complete: {len(NEW) + 2} created, 2 updated, 2 deleted, 0 failed."
    sent = {body["From_Account"]: [item["Tag"] for item in body["ProfileItem"]]
            for body in app.sent("portrait_set")}
    for user_id in partly:  # only the field the import could not carry, and no import again
        assert sent[user_id] == ["Tag_Profile_IM_SelfSignature"], user_id
    assert sent["@RBT#b"] == ["Tag_Profile_IM_Gender"]
    imported = {item["UserID"] for body in app.sent("multiaccount_import") for item in body["AccountList"]}
    assert imported == (set(NEW) - set(partly)) | {"alice"}
    assert [body["UserID"] for body in app.sent("create_robot")] == ["@RBT#a"]
    assert_finished(app, config, saved)


def test_the_python_api_resumes_the_same_way(app: App, config: str, saved: str) -> None:
    writes = Writes(app)
    writes.at = 5
    assert app.cli("apply", "--plan", saved).exit_code == 130
    writes.at = None
    environ = {"CHATSYNC_SECRET_KEY": SECRET}
    planned = chatsync.read_plan(saved, environ=environ)
    report = chatsync.apply(planned, environ=environ)
    assert report.ok and report.counts["already_done"] > 0, report.summary_line()
    assert report.summary_line().endswith(f"({report.counts['already_done']} already done).")
    assert_finished(app, config, saved)
    again = chatsync.apply(planned, environ=environ)
    assert again.ok and again.counts["already_done"] == CHANGES


@pytest.mark.parametrize("meanwhile, expected", [
    pytest.param(lambda api: api.portrait_set("alice", {"nick": "Third"}),
                 "account.alice: nick was 'Al' when planned, is 'Third' now",
                 id="a-third-value"),
    pytest.param(lambda api: api.portrait_set("bob", {"nick": "Robert"}),
                 "account.bob: nick was 'Bob' when planned, is 'Robert' now",
                 id="a-field-seen-not-changed"),
    pytest.param(lambda api: api.multiaccount_import({"u29": {"nick": "Theirs"}}),
                 "account.u29: exists now (the plan expected no object); "
                 "nick is 'Theirs', the plan sets 'U29'",
                 id="created-by-another"),
    pytest.param(lambda api: api.account_delete(["bob"]), "account.bob: is gone now",
                 id="deleted-by-another"),
    pytest.param(lambda api: api.create_robot("@RBT#sneaky", {}), "bot list: '@RBT#sneaky' appeared",
                 id="a-bot-appeared"),
    pytest.param(lambda api: api.delete_robot("@RBT#keep"), "bot list: '@RBT#keep' disappeared",
                 id="a-bot-disappeared"),
])
def test_after_a_stop_a_third_value_anywhere_is_still_refused_with_nothing_written(
    app: App, saved: str, meanwhile: Callable[[ChatApi], object], expected: str,
) -> None:
    writes = Writes(app)
    writes.at = 3
    assert app.cli("apply", "--plan", saved).exit_code == 130
    writes.at = None
    meanwhile(app.api)
    app.forget_calls()
    before = app.snapshot()
    result = app.cli("apply", "--plan", saved)
    assert_clean_error(result, "stale", "nothing was applied")
    assert expected in result.stderr, result.stderr
    assert "Apply complete" not in result.stdout
    assert app.writes() == {} and app.snapshot() == before


def test_a_third_value_is_refused_before_any_write_too(app: App, saved: str) -> None:
    app.api.portrait_set("alice", {"nick": "Third"})  # the plan saw Al and sets Alice
    app.forget_calls()
    before = app.snapshot()
    assert_clean_error(app.cli("apply", "--plan", saved), "stale")
    assert app.writes() == {} and app.snapshot() == before


def test_the_recheck_says_what_is_done_and_what_remains(app: App, saved: str) -> None:
    app.api.multiaccount_import({"u00": {"nick": "U0"}})  # as the plan's own import leaves it
    app.api.portrait_set("alice", {"nick": "Alice"})  # as the plan makes it
    app.api.account_delete(["mallory"])  # gone: the delete is done
    environ = {"CHATSYNC_SECRET_KEY": SECRET}
    planned = chatsync.read_plan(saved, environ=environ)
    with chatsync.connect(planned.app, environ=environ) as api:
        found = recheck(api, planned)
    assert found.stale == []
    assert found.done == {"account.alice", "account.mallory"}
    assert found.remaining == {"account.u00": {"self_signature": "sig 0"}}


@pytest.mark.parametrize("failing, fix", [
    pytest.param({"allow_account_delete": False},
                 lambda emulator: setattr(emulator.app, "allow_account_delete", True),
                 id="71000-account-deletion-off"),
    pytest.param({"max_accounts": 6 + 20}, lambda emulator: setattr(emulator.app, "max_accounts", None),
                 id="70398-edition-account-limit"),
])
def test_a_permanent_failure_fixed_afterwards_then_the_same_plan_completes(
    serve: Callable[..., App], tmp_path: Path, failing: dict[str, Any], fix: Callable[[Emulator], None],
) -> None:
    app = serve(**failing)
    app.seed({"@RBT#old": {"nick": "Old"}, "@RBT#keep": {"nick": "Keep"}},
             {"alice": {"nick": "Al"}, "bob": {"nick": "Bob"}, "mallory": {"nick": "M"}})
    config = write_config(tmp_path, **CONFIG)
    saved = str(tmp_path / "plan.json")
    assert app.cli("plan", config, "--out", saved).exit_code == 0
    first = app.cli("apply", "--plan", saved, "--format", "json")
    assert first.exit_code == 1, (first.stdout, first.stderr)
    report = json.loads(first.stdout)
    failed = [c for c in report["changes"] if c["status"] == "failed"]
    assert failed and {c["error_code"] for c in failed} <= {71000, 70398}, failed
    fix(app.emulator)
    app.forget_calls()
    second = app.cli("apply", "--plan", saved)
    assert second.exit_code == 0, (second.stdout, second.stderr)
    line = summary(second)
    assert line.endswith(f"({CHANGES - len(failed)} already done)."), line  # only what failed is made
    assert_finished(app, config, saved)


# -- SIGTERM to a real process ---------------------------------------------------------------------

BIG = {f"user{i:03d}": {"nick": f"User {i}", "self_signature": f"Hello {i}"} for i in range(400)}


def start_plan_apply(saved: str, url: str) -> subprocess.Popen[str]:
    """``python -m chatsync apply --plan FILE --format json`` as a separate process."""
    return subprocess.Popen([sys.executable, "-m", "chatsync", "apply", "--plan", saved, "--format", "json"],
                            env=env_for(url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])


@pytest.fixture
def big(serve: Callable[..., App], tmp_path: Path) -> Iterator[tuple[App, str, str]]:
    app = serve(latency_ms=20)
    app.seed(accounts={"alice": {"nick": "Al"}})
    config = write_config(tmp_path, {"@RBT#one": {"nick": "One", "gender": "female"}},
                          {"alice": {"nick": "Alice"}, **BIG}, fast=False)  # the documented rates
    saved = str(tmp_path / "big.json")
    assert app.cli("plan", config, "--out", saved).exit_code == 0
    app.forget_calls()
    yield app, config, saved


@pytest.mark.parametrize("endpoint, count", [("multiaccount_import", 1), ("portrait_set", 30),
                                             ("portrait_set", 200)])
def test_sigterm_at_several_points_then_the_same_plan_file_finishes(big: tuple[App, str, str],
                                                                    secrets: Secrets, endpoint: str,
                                                                    count: int) -> None:
    app, config, saved = big
    process = start_plan_apply(saved, app.url)
    wait_for(lambda: app.emulator.calls.get(endpoint, 0) >= count, process, f"{count} {endpoint} calls")
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=TIMEOUT)
    secrets.shown("stdout of the stopped apply", out)
    secrets.shown("stderr of the stopped apply", err)
    assert process.returncode == 143, (out[-2000:], err)
    assert "Traceback" not in err
    report = json.loads(out)
    assert report["ended"] == "interrupted"
    done = sum(1 for c in report["changes"] if c["status"] in ("ok", "failed"))
    assert done < len(report["changes"])
    ends = [line for line in err.splitlines() if line.startswith("Applying: ") and "interrupted" in line]
    for line in ends:  # shown when the run lasted a second: it counts what was done
        assert line.startswith(f"Applying: {done}/{len(report['changes'])} changes"), line

    rerun = app.cli("apply", "--plan", saved)
    assert rerun.exit_code == 0, (rerun.stdout[-2000:], rerun.stderr)
    already = re.search(r"\((\d+) already done\)\.$", summary(rerun))
    assert already and int(already.group(1)) >= done, summary(rerun)
    assert app.cli("plan", config, "--detailed-exitcode").exit_code == 0
    live = app.read(["alice", *BIG])
    assert live.accounts == {"alice", *BIG} and live.profile("alice")["nick"] == "Alice"
    assert all(live.profile(u)["self_signature"] == f["self_signature"] for u, f in BIG.items())


def env_without_key(app: App, **override: str | None) -> dict[str, str | None]:
    return app.env(CHATSYNC_SECRET_KEY=None, **override)


def test_the_missing_key_error_names_the_flag_of_the_path_taken(app: App, config: str, saved: str) -> None:
    on_plan = assert_clean_error(app.cli("apply", "--plan", saved, env=env_without_key(app)),
                                 "CHATSYNC_SECRET_KEY is not set", "--secret-key-env NAME")
    assert "app.secret_key_env" not in on_plan  # --plan never reads it
    other = assert_clean_error(app.cli("apply", "--plan", saved, "--secret-key-env", "PROD_KEY",
                                       env=env_without_key(app)),
                               "PROD_KEY is not set", "--secret-key-env NAME")
    assert "app.secret_key_env" not in other
    on_config = assert_clean_error(app.cli("apply", config, "--auto-approve", env=env_without_key(app)),
                                   "CHATSYNC_SECRET_KEY is not set", "app.secret_key_env")
    assert "--secret-key-env" not in on_config  # a config names its variable itself
    assert app.writes() == {}


def test_apply_help_gives_every_exit_code(app: App) -> None:
    result = app.cli("apply", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for code in ("0 every planned change done", "1 anything failed", "130 interrupted by Ctrl-C",
                 "143 stopped by SIGTERM"):
        assert code in text, text
