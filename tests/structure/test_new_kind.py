"""A kind is one module per layer: a throwaway fourth kind, ``note``, defined in this file alone (its
:class:`Kind`, and an engine whose reads and writes go to :data:`STORE`, a dict of this test: the
emulator has no notes), registered for one test at a time through the registry
(``chatsync.engine.kinds.registered``), goes through the real pipeline beside the bots and accounts
of an emulator served on loopback: the config loads it (a bad id is a located error; checks of its
own, when it brings them, run where the groups' do), the JSON Schema holds it, plan shows its
creates, updates and deletes, apply writes them, a second plan has nothing to do, and the JSON plan,
a saved plan and an export hold it. No file of chatsync names it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import chatsync
from chatsync.config import schema
from chatsync.config.kinds import CHECKS, OwnFields
from chatsync.config.yaml_loader import YMap, location
from chatsync.domain.kinds import BUILT_IN, BY_NAME, BY_SECTION, KINDS, SECTIONS, Kind
from chatsync.domain.live import Wanted, wanted_of
from chatsync.domain.model import AppConfig, Principal
from chatsync.domain.origins import Override
from chatsync.domain.plan import Change
from chatsync.engine.kinds import ENGINES, register, registered
from chatsync.errors import Problem
from chatsync.tencent.client import Reply
from tests.support import SDKAPPID, App

if TYPE_CHECKING:
    from chatsync.engine.apply import Applier
    from chatsync.engine.read import LiveReader

#: The live notes: id -> fields. The kind's engine reads and writes only this.
STORE: dict[str, dict[str, Any]] = {}


def note_id_problem(note_id: str) -> str | None:
    if note_id and note_id.isascii() and note_id.islower() and note_id.replace("-", "").isalnum():
        return None
    return f"note id {note_id!r} must be lowercase letters, digits and dashes; rename it"


NOTE = Kind(
    name="note",
    section="notes",
    description="Notes, by id: a title and a size (a throwaway kind of tests/structure/test_new_kind.py).",
    id_schema={"type": "string", "minLength": 1, "maxLength": 16, "pattern": "^[a-z0-9-]+$"},
    id_problem=note_id_problem,
    delete_note="thrown away",
    delete_rank=3,
    create_call="",  # no API call: the test's store
    delete_call="",
    profile=False,
    fields={"title": "text", "size": "uint32"},
    body_schema={"type": ["object", "null"], "additionalProperties": False,
                 "properties": {"title": {"type": "string", "maxLength": 40},
                                "size": {"type": "integer", "minimum": 0, "maximum": 100},
                                "state": {"enum": ["present", "absent"]}}},
    calls=lambda change, seen: {},
)


class NoteReads:
    """Notes are read from :data:`STORE` as they are named."""

    def __init__(self, reader: LiveReader) -> None:
        self.reader = reader

    def declare(self, principal: Principal) -> None:
        self.want(wanted_of(principal))

    def want(self, want: Wanted) -> None:
        held = STORE.get(want.user_id)
        if held is not None:
            live = Principal(NOTE.name, want.user_id, dict(held))
            with self.reader.lock:
                self.reader.live.principals[live.address] = live

    def flush(self) -> None:
        pass

    def settle(self) -> None:
        pass


def _put(run: Applier, change: Change) -> None:
    def write() -> Reply:
        STORE.setdefault(change.user_id, {}).update(change.after or {})
        return Reply({}, 1)

    run.single(change, write)


def _drop(run: Applier, change: Change) -> None:
    def drop() -> Reply:
        STORE.pop(change.user_id, None)
        return Reply({}, 1)

    run.single(change, drop)


class NoteEngine:
    kind = NOTE

    def reads(self, reader: LiveReader) -> NoteReads:
        return NoteReads(reader)

    def read_calls(self, declared: int) -> int:
        return 0

    def write(self, run: Applier, changes: Sequence[Change]) -> None:
        for change in changes:
            if change.action != "delete":
                run.spawn(partial(_put, run), change)

    def remove(self, run: Applier, changes: Sequence[Change]) -> None:
        for change in changes:
            if change.action == "delete":
                run.spawn(partial(_drop, run), change)


@pytest.fixture
def note() -> Iterator[Kind]:
    """The note kind, registered for the test (and taken out after it), with an empty store."""
    STORE.clear()
    with registered(NoteEngine()) as kind:
        yield kind
    assert "note" not in BY_NAME and "notes" not in SECTIONS and "note" not in ENGINES


def config(directory: Path, notes: str, accounts: str = "") -> str:
    path = directory / "chatsync.yaml"
    path.write_text(f"version: 1\napp:\n  sdkappid: {SDKAPPID}\n{accounts}notes:\n{notes}", encoding="utf-8")
    return str(path)


@pytest.fixture
def app(serve: Callable[..., App]) -> App:
    return serve()


def test_registering_adds_the_kind_to_every_view_of_the_registry(note: Kind) -> None:
    assert KINDS[-1] is note and BY_NAME["note"] is note and BY_SECTION["notes"] is note
    assert list(SECTIONS) == ["bots", "accounts", "groups", "notes"]
    with pytest.raises(ValueError, match="registered already"):
        register(NoteEngine())


def test_a_bad_id_or_value_is_a_located_error(note: Kind, app: App, tmp_path: Path) -> None:
    path = config(tmp_path, '  "Bad Id":\n    title: x\n  fine:\n    size: "big"\n')
    result = app.cli("validate", path)
    assert result.exit_code == 1, result.output
    bad_id = "note id 'Bad Id' must be lowercase letters, digits and dashes; rename it"
    assert f"{path}:5:3: {bad_id}" in result.stderr
    assert f'{path}:8:11: note "fine" size must be a whole number, not text; write e.g. 10' in result.stderr
    assert "Traceback" not in result.stderr


def test_the_json_schema_holds_the_kind(note: Kind, app: App) -> None:
    printed = json.loads(app.cli("schema").stdout)
    assert printed["properties"]["notes"]["propertyNames"] == {"$ref": "#/$defs/note_id"}
    assert printed["properties"]["notes"]["additionalProperties"] == {"$ref": "#/$defs/note"}
    assert printed["$defs"]["note"]["properties"]["size"]["maximum"] == 100


def test_once_taken_out_nothing_derived_from_it_stays() -> None:
    with registered(NoteEngine()):
        assert "notes" in schema.load_schema()["properties"]
    assert tuple(KINDS) == BUILT_IN
    assert "notes" not in schema.load_schema()["properties"]
    packaged = Path(chatsync.__file__).parent / "schemas" / "chatsync.schema.json"
    assert schema.schema_text() == packaged.read_text(encoding="utf-8")


@dataclass(frozen=True)
class NoteChecks(OwnFields):
    """The notes' own config checks: a rule of one body, and one across files."""

    def body_problems(self, file: str, object_id: str, body: YMap, *,
                      whole: bool = True) -> Iterator[Problem]:
        if body.get("title") == "TODO":
            yield Problem(location(file, body.meta["title"].value_mark), f"note {object_id!r}: write a title")

    def reference_problems(self, declared: Mapping[str, Principal],
                           objects: Mapping[str, Mapping[str, Principal]], app: AppConfig,
                           overrides: Mapping[str, Override] | None = None) -> Iterator[Problem]:
        for note_id, found in declared.items():
            if note_id in objects["account"] and found.location is not None:
                yield Problem(found.location, f"note {note_id!r} has the id of an account; rename it")


def test_a_kind_brings_its_own_config_checks(app: App, tmp_path: Path) -> None:
    path = config(tmp_path, "  todo:\n    title: TODO\n  alice:\n", accounts="accounts:\n  alice:\n")
    with registered(NoteEngine(), NoteChecks(NOTE)):
        assert CHECKS["note"].kind is NOTE
        result = app.cli("validate", path)
    assert result.exit_code == 1, result.output
    assert f"{path}:8:12: note 'todo': write a title" in result.stderr
    assert f"{path}:9:3: note 'alice' has the id of an account; rename it" in result.stderr
    assert "note" not in CHECKS


def _plan_json(app: App, *args: str) -> Mapping[str, Any]:
    result = app.plan(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    data: Mapping[str, Any] = json.loads(result.stdout)
    return data


def test_plan_apply_and_plan_again_go_through_the_real_pipeline(note: Kind, app: App, tmp_path: Path) -> None:
    STORE.update({"old": {"title": "Old", "size": 1}, "keep": {"title": "Keep", "size": 2}})
    path = config(tmp_path, "  welcome:\n    title: Welcome\n    size: 3\n  keep:\n    title: Kept\n"
                            "  old:\n    state: absent\n", accounts="accounts:\n  alice:\n    nick: Alice\n")
    assert chatsync.load(path).summary() == "1 app, 0 bots, 1 account, 3 notes (1 to delete) in 1 file"

    shown = app.plan(path)
    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    assert '  - note "old"   (state: absent; thrown away)\n' in text
    assert '  ~ note "keep"\n        title: "Keep" -> "Kept"\n' in text
    assert '  + account "alice"\n        nick: "Alice"\n' in text
    assert '  + note "welcome"\n        title: "Welcome"\n        size:  3\n' in text
    assert text.index('- note "old"') < text.index('~ note "keep"') < text.index('+ note "welcome"')
    assert "Plan: 2 to create, 1 to update, 1 to delete." in text

    data = _plan_json(app, path)
    assert {c["address"]: c["action"] for c in data["changes"]} == {
        "note.old": "delete", "note.keep": "update", "note.welcome": "create", "account.alice": "create"}
    assert data["observed"]["objects"]["note.keep"] == {"title": "Keep", "size": 2}

    saved = tmp_path / "plan.json"
    assert app.plan(path, "--out", str(saved)).exit_code == 0
    assert json.loads(saved.read_text(encoding="utf-8"))["changes"] == data["changes"]
    assert '+ note "welcome"' in app.cli("show", str(saved)).stdout
    read_back = chatsync.read_plan(saved, sealed=False)
    assert [c.data for c in read_back.changes] == data["changes"]
    applied = app.cli("apply", "--plan", str(saved))
    assert applied.exit_code == 0, applied.output
    assert STORE == {"keep": {"title": "Kept", "size": 2}, "welcome": {"title": "Welcome", "size": 3}}
    assert app.nick("alice") == "Alice"

    again = app.plan(path, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.stdout
    assert _plan_json(app, path)["changes"] == []


def test_export_writes_the_declared_objects_and_plans_to_no_change(note: Kind, app: App,
                                                                   tmp_path: Path) -> None:
    STORE.update({"keep": {"title": "Keep", "size": 2}})
    path = config(tmp_path, "  keep:\n  gone:\n    state: absent\n")
    out = tmp_path / "exported.yaml"
    result = app.cli("export", path, "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "notes:\n  keep:\n    title: Keep\n    size: 2\n" in text
    assert "gone" not in text and result.stderr == ""
    planned = app.plan(str(out), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
