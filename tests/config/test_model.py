"""The value objects: equality ignores locations, fields are frozen and limited to managed ones."""

from __future__ import annotations

import json

import pytest

from chatsync.domain.model import PROFILE_FIELDS, AppConfig, DesiredState, Principal
from chatsync.errors import Location


def test_location_prints_file_line_column() -> None:
    assert str(Location("a.yaml", 3, 7)) == "a.yaml:3:7"
    assert str(Location("a.yaml", 0, 0)) == "a.yaml"  # the file as a whole


def test_principal_equality_ignores_location_and_field_order() -> None:
    a = Principal("account", "alice", {"nick": "A", "face_url": "u"}, location=Location("a", 1, 1))
    b = Principal("account", "alice", {"face_url": "u", "nick": "A"})
    assert a == b and hash(a) == hash(b)
    assert a != Principal("account", "alice", {"nick": "A"})
    assert a != Principal("bot", "alice", {"nick": "A", "face_url": "u"})


def test_principal_address_and_data() -> None:
    bot = Principal("bot", "@RBT#x", {"nick": ""}, "absent")
    assert bot.address == "bot.@RBT#x"
    assert bot.data == {"kind": "bot", "user_id": "@RBT#x", "state": "absent", "fields": {"nick": ""}}
    json.dumps(bot.data)
    assert not bot.present


def test_principal_fields_are_read_only_and_checked() -> None:
    source = {"nick": "A"}
    principal = Principal("account", "a", source)
    source["nick"] = "B"
    assert principal.fields["nick"] == "A"
    with pytest.raises(TypeError):
        principal.fields["nick"] = "C"  # type: ignore[index]
    with pytest.raises(ValueError, match="unknown profile field"):
        Principal("account", "a", {"gendre": "x"})
    with pytest.raises(ValueError, match="unknown profile field"):
        Principal("account", "a", {"custom.Bad1": "x"})
    assert dict(Principal("account", "a", {"custom.Dept": "x", "level": 3, "nick": "n"}).fields) == {
        "nick": "n", "level": 3, "custom.Dept": "x"}
    with pytest.raises(ValueError):
        Principal("robot", "a")
    with pytest.raises(ValueError):
        Principal("account", "a", state="gone")  # type: ignore[arg-type]


def test_profile_fields_map_to_tencent_tags() -> None:
    assert PROFILE_FIELDS == {
        "nick": "Tag_Profile_IM_Nick",
        "face_url": "Tag_Profile_IM_Image",
        "self_signature": "Tag_Profile_IM_SelfSignature",
        "gender": "Tag_Profile_IM_Gender",
        "birthday": "Tag_Profile_IM_BirthDay",
        "location": "Tag_Profile_IM_Location",
        "allow_type": "Tag_Profile_IM_AllowType",
        "language": "Tag_Profile_IM_Language",
        "msg_settings": "Tag_Profile_IM_MsgSettings",
        "admin_forbid_type": "Tag_Profile_IM_AdminForbidType",
        "level": "Tag_Profile_IM_Level",
        "role": "Tag_Profile_IM_Role",
    }


def test_app_protected_ids_always_include_the_admin() -> None:
    app = AppConfig(sdkappid=1, admin="boss", protected=["ops"])  # type: ignore[arg-type]
    assert app.protected == ("ops",)
    assert app.protected_ids == {"boss", "ops"}
    assert AppConfig(sdkappid=1).protected_ids == {"administrator"}
    hash(app)


def test_desired_state_counts() -> None:
    state = DesiredState(
        app=AppConfig(sdkappid=1),
        bots={"@RBT#a": Principal("bot", "@RBT#a")},
        accounts={
            "a": Principal("account", "a"),
            "b": Principal("account", "b", state="absent"),
        },
        sources=("x.yaml",),
    )
    assert [p.address for p in state.principals()] == ["bot.@RBT#a", "account.a", "account.b"]
    assert (state.bot_count, state.account_count, state.deletion_count) == (1, 2, 1)
    assert state.summary() == "1 app, 1 bot, 2 accounts (1 to delete) in 1 file"
