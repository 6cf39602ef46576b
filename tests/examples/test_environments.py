"""examples/gitops as a user runs it: one repository, two environments. The shared bots and
settings live in bots/, dev gives the support bot its own nick by an override, and each plan and
apply does what its environment should have; the effective config says where each value came from."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner, Result

from chatsync.cli import main
from tests.examples.conftest import KEYS
from tests.examples.workflows import GITOPS
from tests.support import App


def chatsync(app: App | None, *args: str) -> Result:
    name = None if app is None else next(n for n, key in KEYS.items() if key == app.key)
    env = {} if app is None or name is None else {"CHATSYNC_ENDPOINT": app.url,
                                                  f"CHATSYNC_SECRET_KEY_{name.upper()}": KEYS[name]}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture(autouse=True)
def in_the_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GITOPS)


def test_each_environment_plans_and_applies_what_it_should_have(apps: dict[str, App]) -> None:
    dev, prod = apps["dev"], apps["prod"]
    planned = chatsync(dev, "plan", "bots", "envs/dev")
    assert planned.exit_code == 0, planned.stderr
    assert '  + bot "@RBT#support"\n        nick:           "Support (dev)"' in planned.stdout
    planned = chatsync(prod, "plan", "bots", "envs/prod")
    assert planned.exit_code == 0, planned.stderr
    assert '  + bot "@RBT#support"\n        nick:           "Support"' in planned.stdout
    for app, env in ((dev, "envs/dev"), (prod, "envs/prod")):
        applied = chatsync(app, "apply", "bots", env, "--auto-approve")
        assert applied.exit_code == 0, applied.stderr
        again = chatsync(app, "plan", "bots", env, "--detailed-exitcode")
        assert again.exit_code == 0 and "No changes." in again.stdout, again.stdout
    assert dev.nick("@RBT#support") == "Support (dev)"
    assert prod.nick("@RBT#support") == "Support"
    assert dev.nick("@RBT#release-notes") == prod.nick("@RBT#release-notes") == "Release notes"


def test_the_effective_config_says_where_each_value_came_from() -> None:
    shown = chatsync(None, "validate", "--show", "bots", "envs/dev")
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    support = lines.index(next(line for line in lines if line.startswith('  "@RBT#support":')))
    assert lines[support].endswith("# bots/bots.yaml:8:3; overridden at envs/dev/overrides.yaml:9:5")
    assert lines[support + 1].startswith("    nick: Support (dev)")
    assert lines[support + 1].endswith("# override envs/dev/overrides.yaml:10:13")
    assert lines[support + 2] == "    face_url: https://example.com/bots/support.png"  # as declared
    assert any(line.startswith("  protected: [ops-oncall]") and line.endswith("# bots/shared.yaml:9:14")
               for line in lines)
    assert any(line.startswith("  max_deletes: 20") for line in lines)
    prod = chatsync(None, "validate", "--show", "bots", "envs/prod").stdout
    assert "  max_deletes: 5" in prod and "bots/shared.yaml:10:16 + envs/prod/app.yaml:12:16" in prod
    assert "Support (dev)" not in prod and "overridden" not in prod


def test_the_effective_config_needs_no_key_and_no_network() -> None:
    assert "CHATSYNC_SECRET_KEY_DEV" not in os.environ
    shown = chatsync(None, "validate", "--show", "bots", "envs/dev")
    assert shown.exit_code == 0 and shown.stderr.startswith("Valid: 1 app, 3 bots")
