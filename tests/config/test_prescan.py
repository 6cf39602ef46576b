"""The scan that finds the key variable a config names before the config is read
(chatsync/config/prescan.py): right on the plain forms, and None (check after loading) on any other."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatsync.config.prescan import key_variable


@pytest.mark.parametrize(("text", "expected"), [
    ("version: 1\napp:\n  sdkappid: 1\n  secret_key_env: MY_KEY   # a comment\n", "MY_KEY"),
    ("version: 1\napp:\n  sdkappid: 1\n", "CHATSYNC_SECRET_KEY"),
    ("version: 1\napp:   # the app\n\n  # its key\n  secret_key_env: 'K2'\naccounts:\n", "K2"),
    ("version: 1\napp: {sdkappid: 1, secret_key_env: \"K3\"}\n", "K3"),
    ("version: 1\napp: {sdkappid: 1}\n", "CHATSYNC_SECRET_KEY"),
    ("version: 1\napp:\n  rate_limits:\n    secret_key_env: 3\n  secret_key_env: Q\n", "Q"),
    ("version: 1\napp:\n  <<: *defaults\n", None),  # a merge key may name it
    ("version: 1\napp: &a\n  sdkappid: 1\n", None),
    ("version: 1\napp:\n  secret_key_env: &k K\n", None),
    ("version: 1\napp:\n  secret_key_env: A\n  secret_key_env: B\n", None),  # twice: the loader says
    ("version: 1\napp: {sdkappid: 1,\n  secret_key_env: K}\n", None),  # a flow mapping over lines
    ("version: 1\naccounts:\n  alice:\n", None),  # no app: section
])
def test_the_scan_reads_the_plain_forms_and_gives_up_on_the_others(tmp_path: Path, text: str,
                                                                    expected: str | None) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    assert key_variable([path]) == expected


def test_across_files_one_app_section_is_needed(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("version: 1\naccounts:\n  alice:\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("version: 1\napp:\n  secret_key_env: B_KEY\n", encoding="utf-8")
    assert key_variable([tmp_path]) == "B_KEY"
    (tmp_path / "c.yaml").write_text("version: 1\napp:\n  secret_key_env: C_KEY\n", encoding="utf-8")
    assert key_variable([tmp_path]) is None
    assert key_variable([tmp_path / "missing"]) is None
