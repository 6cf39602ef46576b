"""model.Fields: the small read-only mapping every principal keeps its managed fields in. It must
behave as the dict it replaces wherever a plan, a report or a JSON file reads it."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from chatsync.domain.model import Fields, Principal


def test_a_principal_keeps_its_fields_in_table_order_read_only() -> None:
    principal = Principal("account", "alice", {"self_signature": "hi", "nick": "Alice", "level": 3})
    fields = principal.fields
    assert isinstance(fields, Fields)
    assert list(fields) == ["nick", "self_signature", "level"]
    assert dict(fields) == {"nick": "Alice", "self_signature": "hi", "level": 3}
    assert fields["nick"] == "Alice" and fields.get("face_url") is None and fields.get("face_url", "") == ""
    assert "nick" in fields and "face_url" not in fields and len(fields) == 3
    assert list(fields.items()) == [("nick", "Alice"), ("self_signature", "hi"), ("level", 3)]
    assert list(fields.values()) == ["Alice", "hi", 3]
    with pytest.raises(KeyError):
        fields["face_url"]
    with pytest.raises(TypeError):
        fields["nick"] = "Bob"  # type: ignore[index]


def test_fields_equal_any_mapping_with_the_same_items_as_a_dict_does() -> None:
    one = Principal("account", "a", {"nick": "N", "face_url": "u"}).fields
    assert one == {"face_url": "u", "nick": "N"}
    assert {"nick": "N", "face_url": "u"} == one  # noqa: SIM300  (the dict on the left, on purpose)
    assert one == Principal("bot", "@RBT#b", {"face_url": "u", "nick": "N"}).fields
    assert one != {"nick": "N"} and one != Principal("account", "b", {"nick": "M", "face_url": "u"}).fields
    assert Fields(("face_url", "nick"), ("u", "N")) == one  # another order of the same items
    assert repr(one) == repr({"nick": "N", "face_url": "u"})
    with pytest.raises(TypeError):
        hash(one)


def test_principals_with_fields_still_hash_compare_copy_and_serialise() -> None:
    alice = Principal("account", "alice", {"nick": "Alice"})
    assert alice == Principal("account", "alice", {"nick": "Alice"})
    assert len({alice, Principal("account", "alice", {"nick": "Alice"})}) == 1
    assert pickle.loads(pickle.dumps(alice)) == alice
    assert copy.deepcopy(alice) == alice
    assert json.loads(json.dumps(alice.data)) == {"kind": "account", "user_id": "alice", "state": "present",
                                                  "fields": {"nick": "Alice"}}


def test_the_names_are_shared_by_every_principal_with_the_same_fields() -> None:
    first = Principal("account", "a", {"nick": "A", "face_url": "x"}).fields
    second = Principal("account", "b", {"face_url": "y", "nick": "B"}).fields
    assert isinstance(first, Fields) and isinstance(second, Fields)
    assert first._names is second._names
