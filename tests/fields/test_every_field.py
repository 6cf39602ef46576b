"""Every standard profile field and custom fields, end to end through the public API (issue 14).

A config using every field validates, plans (text, JSON, Markdown), applies, plans "No changes"
afterwards and survives an export round trip, against the emulator and against a second, independent
implementation of the API (tests/hostile's HonestApp, which takes the other reading where the docs
are silent). Bad values are located errors; a custom key the app lacks is one clear error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import chatsync
from chatsync.config import ConfigError
from chatsync.emulator.server import RunningEmulator
from chatsync.engine.export import export
from chatsync.facts import fields
from chatsync.facts.endpoints import ENDPOINTS
from tests.hostile.conftest import HonestApp
from tests.hostile.fakes import FakeServer
from tests.support import SDKAPPID, SECRET, make_emulator

RATES = "{" + ", ".join(f"{name}: 100000" for name in ENDPOINTS) + "}"
CONFIG = f"""\
version: 1
app:
  sdkappid: {SDKAPPID}
  custom_fields: [Dept, Tier]
  rate_limits: {RATES}
bots:
  "@RBT#helper":
    nick: Helper
    face_url: https://img.example/h.png
    self_signature: I help
    gender: unknown
    birthday: 20240101
    location: Shenzhen
    allow_type: deny_any
    language: 1
    msg_settings: 1
    admin_forbid_type: none
    level: 7
    role: 2
    custom: {{Dept: Support}}
accounts:
  svc:
    nick: Service
    gender: male
    allow_type: need_confirm
    admin_forbid_type: send_out
    level: 3
    role: 9
    location: 深圳南山
    custom: {{Dept: Ops, Tier: gold}}
  existing:
    gender: female
    level: 5
    custom: {{Tier: silver}}
"""
#: What ``existing`` holds before the apply, on the wire: Dept is set but not managed by the config.
SEEDED = {"Tag_Profile_IM_Level": 1, "Tag_Profile_Custom_Dept": "Keep"}
WRITES = ("create_robot", "multiaccount_import", "portrait_set", "delete_robot", "account_delete")


class Emulated:
    """The emulator, served on loopback, with Dept and Tier configured."""

    def __init__(self, custom_fields: tuple[str, ...] = ("Dept", "Tier")) -> None:
        self.emulator = make_emulator(sdkappid=SDKAPPID, custom_fields=custom_fields)
        self.server = RunningEmulator(self.emulator).__enter__()
        self.url = self.server.url
        self.requests: list[str] = []
        handle = self.emulator.handle

        def counting(method: str, target: str, body: bytes) -> Any:
            self.requests.append(target.split("?")[0].rsplit("/", 1)[-1])
            return handle(method, target, body)

        self.emulator.handle = counting  # type: ignore[method-assign]
        with self.emulator.store.lock:
            self.emulator.store.accounts["existing"] = dict(SEEDED)

    def profile(self, user_id: str) -> dict[str, Any]:
        with self.emulator.store.lock:
            return dict(self.emulator.store.accounts[user_id])

    def close(self) -> None:
        self.server.stop()


class Honest:
    """The second implementation: HonestApp behind a loopback fake server."""

    def __init__(self, custom_fields: tuple[str, ...] = ("Dept", "Tier")) -> None:
        self.app = HonestApp(custom_fields=custom_fields)
        self.app.profiles["existing"] = dict(SEEDED)
        self.requests: list[str] = []

        def behaviour(endpoint: str, body: Any) -> Any:
            self.requests.append(endpoint)
            return self.app(endpoint, body)

        self.server = FakeServer(behaviour).__enter__()
        self.url = self.server.url

    def profile(self, user_id: str) -> dict[str, Any]:
        return dict(self.app.profiles[user_id])

    def close(self) -> None:
        self.server.__exit__()


@pytest.fixture(params=[Emulated, Honest], ids=["emulator", "another-implementation"])
def service(request: pytest.FixtureRequest) -> Iterator[Any]:
    live = request.param()
    yield live
    live.close()


def environ(url: str) -> dict[str, str]:
    return {"CHATSYNC_ENDPOINT": url, "CHATSYNC_SECRET_KEY": SECRET}


def write(tmp_path: Path, text: str, name: str = "chatsync.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_every_field_converges_from_python_and_survives_export(service: Any, tmp_path: Path) -> None:
    env = environ(service.url)
    desired = chatsync.load(write(tmp_path, CONFIG))
    assert dict(desired.accounts["svc"].fields)["level"] == 3  # an integer, as written
    planned = chatsync.plan(desired, environ=env)
    assert planned.summary == {"create": 2, "update": 1, "delete": 0}

    # every output shows the fields: integers bare, enums by name, custom keys one by one
    text = chatsync.format_plan(planned, "text")
    assert 'level:       1 -> 5' in text and 'gender:      "" -> "female"' in text
    existing = text.split('~ account "existing"')[1].split("\n  + ")[0]  # the update, up to the creates
    assert 'custom.Tier: "" -> "silver"' in existing and "custom.Dept" not in existing
    assert 'allow_type:        "deny_any"' in text and "birthday:          20240101" in text
    markdown = chatsync.format_plan(planned, "markdown")
    assert 'custom.Tier: "" -&#62; "silver"' in markdown and "level: 1 -&#62; 5" in markdown
    saved = tmp_path / "plan.json"
    chatsync.save_plan(planned, saved)
    update = next(c for c in json.loads(saved.read_text())["changes"] if c["user_id"] == "existing")
    assert update["before"] == {"gender": "", "level": 1, "custom.Tier": ""}
    assert update["after"] == {"gender": "female", "level": 5, "custom.Tier": "silver"}

    # the saved plan reads back sealed, integers still integers, and applies
    reread = chatsync.read_plan(saved, secret_key=SECRET, environ=env)
    assert reread.changes == planned.changes
    estimate = dict(reread.estimate.calls)
    service.requests.clear()
    report = chatsync.apply(reread, secret_key=SECRET, environ=env)
    assert report.ok, chatsync.format_report(report)
    made = {name: service.requests.count(name) for name in WRITES if name in service.requests}
    writes = {name: count for name, count in estimate.items() if name in WRITES}
    assert made == writes == {"create_robot": 1, "multiaccount_import": 1, "portrait_set": 3}
    assert estimate["portrait_get"] == 1  # the read-back of the three objects set

    # Tencent's values on the wire; the key the config leaves out is untouched
    svc = service.profile("svc")
    assert svc["Tag_Profile_IM_Gender"] == "Gender_Type_Male"
    assert svc["Tag_Profile_IM_AdminForbidType"] == "AdminForbid_Type_SendOut"
    assert svc["Tag_Profile_IM_Level"] == 3 and svc["Tag_Profile_Custom_Tier"] == "gold"
    assert service.profile("@RBT#helper")["Tag_Profile_IM_AllowType"] == "AllowType_Type_DenyAny"
    existing = service.profile("existing")
    assert existing["Tag_Profile_Custom_Dept"] == "Keep" and existing["Tag_Profile_Custom_Tier"] == "silver"
    assert existing["Tag_Profile_IM_Level"] == 5

    assert chatsync.plan(desired, environ=env).empty

    # export writes a config its own schema accepts, and planning it changes nothing
    with chatsync.connect(desired.app, environ=env) as api:
        exported = export(api, chatsync.DesiredState(desired.app), {"account": ["svc", "existing"]})
    document = yaml.safe_load(exported.text)
    assert document["accounts"]["svc"]["level"] == 3 and document["accounts"]["svc"]["gender"] == "male"
    assert document["accounts"]["existing"]["custom"] == {"Dept": "Keep", "Tier": "silver"}
    assert document["bots"]["@RBT#helper"]["birthday"] == 20240101
    again = chatsync.load(write(tmp_path, exported.text, "exported.yaml"))
    assert chatsync.plan(again, environ=env).empty


BAD = f"""\
version: 1
app:
  sdkappid: {SDKAPPID}
  custom_fields: [Dept]
accounts:
  a:
    gender: robot
  b:
    level: -1
  c:
    location: "12345678901234567"
  d:
    custom: {{Nope: x}}
  e:
    level: "3"
  f:
    custom: {{Dept1: x}}
"""


def test_bad_values_are_located_errors(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    with pytest.raises(ConfigError) as caught:
        chatsync.load(path)
    found = {(p.location.line, p.location.column): p.message for p in caught.value.problems}
    assert "must be one of unknown, female, male, not robot" in found[(7, 13)]
    assert "level must be at least 0, not -1" in found[(9, 12)]
    assert "location is 17 bytes long; it may have at most 16 bytes" in found[(11, 15)]
    assert "Nope is not in app.custom_fields" in found[(13, 14)] and "console" in found[(13, 14)]
    assert "must be a number, not text" in found[(15, 12)]
    assert "may hold English letters" in found[(17, 14)]
    assert len(found) == 6


def test_a_custom_key_the_app_lacks_is_one_clear_error(tmp_path: Path) -> None:
    live = Emulated(custom_fields=("Dept",))  # the console has Dept only; the config also uses Tier
    try:
        env = environ(live.url)
        desired = chatsync.load(write(tmp_path, CONFIG))
        with pytest.raises(chatsync.ChatsyncError) as caught:
            chatsync.plan(desired, environ=env)  # reading existing's Tier fails
        message = str(caught.value)
        assert "Tier" in message and "Chat console" in message and "40009" in message
        assert len(message.splitlines()) <= 3
    finally:
        live.close()


def test_a_new_object_with_a_missing_custom_key_fails_naming_it(tmp_path: Path) -> None:
    live = Emulated(custom_fields=())
    try:
        env = environ(live.url)
        config = CONFIG.split("accounts:")[0].replace("custom: {Dept: Support}", "custom: {Tier: x}")
        planned = chatsync.plan(chatsync.load(write(tmp_path, config)), environ=env)
        report = chatsync.apply(planned, environ=env)
        (outcome,) = report.outcomes
        assert outcome.status == "partial" or outcome.status == "failed"
        assert outcome.error_code == 40009 and "Tier" in outcome.error_info
        assert "console" in outcome.hint
    finally:
        live.close()


def test_the_field_table_is_the_one_source() -> None:
    from chatsync.facts import profile_tags

    assert set(profile_tags.UINT32_TAGS) == {f.tag for f in fields.STANDARD if f.kind == "uint32"}
    assert profile_tags.STRING_TAGS["Tag_Profile_IM_Location"] == (16, None)
    assert profile_tags.STRING_TAGS["Tag_Profile_IM_Gender"][1] == frozenset({
        "Gender_Type_Unknown", "Gender_Type_Female", "Gender_Type_Male"})
    reference = (Path(__file__).resolve().parents[2] / "docs" / "profile-fields.md").read_text("utf-8")
    for f in fields.STANDARD:
        assert f"| `{f.name}` | `{f.tag}` |" in reference, f.name
    for f in fields.STANDARD:
        if f.kind == "enum":
            assert all(f.from_wire(f.to_wire(name)) == name for name in f.names)
        assert f.problem(f.unset) is None or f.kind == "enum"


def test_importing_the_client_loads_no_config_machinery() -> None:
    import subprocess
    import sys

    code = ("import sys, chatsync.tencent.client, chatsync.tencent.api;"
            "print(sorted(m for m in sys.modules"
            " if m.startswith(('chatsync.config', 'yaml', 'jsonschema'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"



def test_fields_with_no_or_wrong_values_are_worded_errors(tmp_path: Path) -> None:
    path = write(tmp_path, f"version: 1\napp: {{sdkappid: {SDKAPPID}}}\naccounts:\n"
                           "  a:\n    gender:\n    level:\n    custom:\n"
                           "  b:\n    allow_type: 1\n    birthday: 1.5\n    role: true\n")
    with pytest.raises(ConfigError) as caught:
        chatsync.load(path)
    messages = [p.message for p in caught.value.problems]
    assert any("gender has no value; write one of unknown, female, male" in m for m in messages)
    assert any("level must be a whole number" in m for m in messages)
    assert any("custom must be a mapping" in m for m in messages)
    assert any("allow_type must be one of need_confirm, allow_any, deny_any, not 1" in m for m in messages)
    assert sum("must be a whole number" in m for m in messages) == 3  # level, birthday, role
    assert not any("report this as a bug" in m for m in messages)


def test_the_stale_check_names_the_integer_field_that_changed(tmp_path: Path) -> None:
    live = Emulated()
    try:
        env = environ(live.url)
        planned = chatsync.plan(chatsync.load(write(tmp_path, CONFIG)), environ=env)
        with live.emulator.store.lock:
            live.emulator.store.accounts["existing"]["Tag_Profile_IM_Level"] = 2  # changed since the plan
        with pytest.raises(chatsync.StalePlan) as caught:
            chatsync.apply(planned, environ=env)
        assert "account.existing: level was 1 when planned, is 2 now" in caught.value.changes
    finally:
        live.close()
