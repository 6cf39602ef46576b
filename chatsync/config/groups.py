"""The ``groups:`` section: a group's body as fields (:mod:`chatsync.domain.kinds.group`), the
rules of one group (its id for its type, text lengths, who may be owner and admin, the type's member
limits), and the rules across files (every owner, admin and member is an account or bot the config
declares, the admin, or a protected id). See docs/configuration.md, "Groups"."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from chatsync.config.yaml_loader import YList, YMap, location
from chatsync.domain.kinds import group
from chatsync.domain.model import AppConfig, Principal
from chatsync.domain.origins import Override
from chatsync.errors import Location, Problem
from chatsync.facts import groups as facts
from chatsync.facts import limits
from chatsync.facts.fields import Value
from chatsync.text.safe import quote

#: The text fields and their byte limits.
TEXTS = {text.name: text.max_bytes for text in facts.TEXT_FIELDS}
#: What a group that takes no applications to join (Work) holds as its ``apply_join``.
NO_APPLICATIONS = facts.APPLY_JOIN_NAMES[facts.PRIVATE_APPLY_JOIN]
#: The fields a body may hold besides ``state``.
BODY_FIELDS = ("type", *TEXTS, "max_members", "apply_join", "owner", "admins", "members", "notify")


def _ids(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, (YList, list)) else []


def fields(body: YMap) -> dict[str, Value]:
    """The fields of one group body whose values have the right type (the schema reports the others)."""
    found: dict[str, Value] = {}
    kind = body.get("type")
    if isinstance(kind, str) and kind in facts.TYPE_BY_NAME:
        found["type"] = group.canonical_type(kind)
    for name in TEXTS:
        value = body.get(name)
        if isinstance(value, str):
            found[name] = value
    most = body.get("max_members")
    if isinstance(most, int) and not isinstance(most, bool):
        found["max_members"] = most
    join = body.get("apply_join")
    if isinstance(join, str) and join in facts.APPLY_JOIN:
        found["apply_join"] = join
    owner = body.get("owner")
    if isinstance(owner, str):
        found["owner"] = owner
    _set_lists(found, _ids(body.get("admins")) if "admins" in body else None,
               _ids(body.get("members")) if "members" in body else None)
    if body.get("notify") is True:
        found["notify"] = 1
    return found


def settled(fields: Mapping[str, Value]) -> dict[str, Value]:
    """``fields`` with each id in one role (an override that gives one another role than the
    declaration does: :func:`_set_lists`)."""
    found = dict(fields)
    _set_lists(found, group.ids(fields["admins"]) if "admins" in fields else None,
               group.ids(fields["members"]) if "members" in fields else None)
    return found


def _set_lists(fields: dict[str, Value], admins: list[str] | None, members: list[str] | None) -> None:
    """Set the ``admins`` and ``members`` given (None: unmanaged) with each id in one role: the
    owner neither an admin nor a plain member, an admin not a plain member."""
    owner = fields.get("owner")
    held = set(admins or ()) - {owner}
    if admins is not None:
        fields["admins"] = group.joined(held)
    if members is not None:
        fields["members"] = group.joined(set(members) - held - {owner})


def body_problems(file: str, group_id: str, body: YMap, *, whole: bool = True) -> Iterator[Problem]:
    """The problems of one group's body that need nothing else (its id's prefix needs its type).
    An override's body (not ``whole``) leaves out the rules of its type, which need the fields it
    does not give: :func:`merged_problems` checks them on the group it makes."""
    where = _Where(group_id)

    def at(name: str) -> Location:
        return location(file, body.meta[name].value_mark)

    written = body.get("type")
    kind = facts.TYPE_BY_NAME.get(written) if isinstance(written, str) else None
    generated = group_id.startswith(facts.GENERATED_PREFIX) and kind is not facts.COMMUNITY
    if kind is not None and facts.group_id_problem(group_id) is None and not generated:
        # (an id the service generated names a group made elsewhere: a plan refuses to create one)
        problem = facts.custom_group_id_problem(group_id, kind)
        if problem:
            yield Problem(location(file, body.meta["type"].key_mark),
                          f"{where}: the id {problem}; choose another GroupId")
    for name, most in TEXTS.items():
        value = body.get(name)
        if isinstance(value, str) and len(value) <= most < len(value.encode("utf-8", "surrogatepass")):
            size = len(value.encode("utf-8", "surrogatepass"))
            yield Problem(at(name), f"{where} {name} is {size} bytes long (UTF-8); it may have at most "
                                    f"{most}; shorten it")
    owner = body.get("owner")
    if isinstance(owner, str) and limits.is_bot_id(owner):
        yield Problem(at("owner"), f"{where}: a bot cannot own a group ({quote(owner)}); make an "
                                   "account the owner and list the bot under members")
    admins = _ids(body.get("admins"))
    members = _ids(body.get("members"))
    for name, named in (("owner", [owner] if isinstance(owner, str) else []), ("admins", admins),
                        ("members", members)):
        if limits.plain_user_ids(named):
            continue  # the common case, decided without building a message
        for user_id in named:
            problem = limits.user_id_problem(user_id)
            if problem:
                yield Problem(at(name), f"{where} {name}: {quote(user_id)} {problem}; fix the id")
    for user_id in admins:
        if limits.is_bot_id(user_id):
            yield Problem(at("admins"), f"{where}: a bot cannot be an admin ({quote(user_id)}); list it "
                                        "under members")
            break
    if kind is not None and whole:
        yield from _type_problems(where, kind, at, owner if isinstance(owner, str) else None, admins, members,
                                  body.get("max_members"), "members" in body, body.get("apply_join"))
    if body.get("state") == "absent":
        managed = [name for name in body if name in BODY_FIELDS]
        if managed:
            yield Problem(location(file, body.meta[managed[0]].key_mark),
                          f"{where} is state: absent, so its fields are ignored; remove {', '.join(managed)}")


def _type_problems(where: str | _Where, kind: facts.GroupType, at: Callable[[str], Location],
                   owner: str | None, admins: Sequence[str], members: Sequence[str], declared_most: Any,
                   lists_members: bool, apply_join: Any) -> Iterator[Problem]:
    """The rules of a group's type: who it keeps, its admins, its member limits, whether it takes
    applications to join. ``at(field)`` locates the field a problem names."""
    name = f"{kind.api_name} ({kind.user_name})" if kind.user_name != kind.api_name else kind.api_name
    if not kind.join_by_application and apply_join in facts.APPLY_JOIN and apply_join != NO_APPLICATIONS:
        yield Problem(at("apply_join"), f"{where}: {_a(name)} group takes no applications to join (the "
                                        f"service keeps its apply_join {NO_APPLICATIONS}); remove "
                                        f"apply_join, or write {NO_APPLICATIONS}")
    if not kind.members_stored and (members or admins):
        field = "members" if members else "admins"
        yield Problem(at(field), f"{where}: {_a(name)} group keeps no members (only its owner); remove "
                                 f"{field}, or choose another type")
        return
    if admins and not kind.admins_allowed:
        yield Problem(at("admins"), f"{where}: {_a(name)} group has no admins; remove admins, or "
                                    "choose Public, Meeting or Community")
    everyone = set(members) | set(admins) | ({owner} if owner else set())
    most = kind.member_ceiling
    if isinstance(declared_most, int) and not isinstance(declared_most, bool):
        if most is not None and declared_most > most:
            yield Problem(at("max_members"), f"{where} max_members is {declared_most}; {_a(name)} group may "
                                             f"have at most {most}; lower it")
        elif declared_most < len(everyone):
            yield Problem(at("max_members"), f"{where} max_members is {declared_most}, but it declares "
                                             f"{len(everyone)} members; raise it or declare fewer")
    if most is not None and len(everyone) > most:
        field = "members" if lists_members else "admins"
        yield Problem(at(field), f"{where} declares {len(everyone)} members; {_a(name)} group may have at "
                                 f"most {most}; declare fewer")


#: The fields the rules of a group's type read.
TYPE_RULED = ("type", "owner", "admins", "members", "max_members", "apply_join")


def merged_problems(base: Principal, merged: Principal, where: Mapping[str, Location],
                    here: Location) -> Iterator[Problem]:
    """The rules of its type broken by a group an override made (``merged``, from ``base`` and the
    override at ``here``, whose fields are at ``where``), and not by the declaration alone: each
    located at the override's field it names, else at the override."""
    if not merged.present or not any(name in where for name in TYPE_RULED):
        return
    already = {problem.message for problem in _rules_of(base, lambda name: here)}
    for problem in _rules_of(merged, lambda name: where.get(name, here)):
        if problem.message not in already:
            yield problem


def _rules_of(declared: Principal, at: Callable[[str], Location]) -> Iterator[Problem]:
    kind = facts.TYPE_BY_NAME.get(str(declared.fields.get("type", "")))
    if kind is None:
        return
    fields = declared.fields
    owner = fields.get("owner")
    yield from _type_problems(f"group {quote(declared.user_id)}", kind, at,
                              owner if isinstance(owner, str) else None, group.ids(fields.get("admins")),
                              group.ids(fields.get("members")), fields.get("max_members"),
                              "members" in fields, fields.get("apply_join"))


class _Where:
    """``group "ID"``, as messages name a group: made only when a message is (quoting costs)."""

    __slots__ = ("group_id",)

    def __init__(self, group_id: str) -> None:
        self.group_id = group_id

    def __str__(self) -> str:
        return f"group {quote(self.group_id)}"


def _a(name: str) -> str:
    return f"an {name}" if name[:1] in "AEIOU" else f"a {name}"


def reference_problems(groups: Mapping[str, Principal], objects: Mapping[str, Mapping[str, Principal]],
                       app: AppConfig, overrides: Mapping[str, Override] | None = None) -> Iterator[Problem]:
    """Owners, admins and members that are neither declared present (an account, a bot), the
    admin, nor protected: chatsync could not make the group as declared. A field an override
    (``overrides``, by address) gave is located there."""
    if not groups:
        return
    known = set(app.protected_ids)
    for kind in ("account", "bot"):
        known.update(user_id for user_id, p in objects[kind].items() if p.present)
    for declared in groups.values():
        if not declared.present:
            continue
        assert declared.location is not None
        where = _Where(declared.user_id)
        override = (overrides or {}).get(declared.address)
        for name in ("owner", "admins", "members"):
            value = declared.fields.get(name)
            if not isinstance(value, str):
                continue
            at = override.fields.get(name, declared.location) if override is not None else declared.location
            named = [value] if name == "owner" else group.ids(value)
            if known.issuperset(named):
                continue  # the common case: every one is known
            for user_id in named:
                if not user_id or user_id in known:
                    continue
                kind = "bot" if limits.is_bot_id(user_id) else "account"
                other = objects[kind].get(user_id)
                if other is None:
                    yield Problem(at,
                                  f"{where} {name}: {quote(user_id)} is not a declared {kind}; declare it "
                                  f"under {kind}s: (or list it in app.protected if it exists already)")
                elif not other.present:
                    yield Problem(at,
                                  f"{where} {name}: {quote(user_id)} is declared state: absent at "
                                  f"{other.location}; keep it, or take it out of the group")


class GroupChecks:
    """The groups' config checks, as the loader asks for them (:class:`chatsync.config.kinds.KindChecks`)."""

    kind = group.KIND

    def fields(self, body: YMap) -> dict[str, Value]:
        return fields(body)

    def body_problems(self, file: str, object_id: str, body: YMap, *,
                      whole: bool = True) -> Iterator[Problem]:
        return body_problems(file, object_id, body, whole=whole)

    def reference_problems(self, declared: Mapping[str, Principal],
                           objects: Mapping[str, Mapping[str, Principal]], app: AppConfig,
                           overrides: Mapping[str, Override] | None = None) -> Iterator[Problem]:
        return reference_problems(declared, objects, app, overrides)

    def settled(self, fields: Mapping[str, Value]) -> dict[str, Value]:
        return settled(fields)

    def merged_problems(self, base: Principal, merged: Principal, where: Mapping[str, Location],
                        here: Location) -> Iterator[Problem]:
        return merged_problems(base, merged, where, here)


CHECKS = GroupChecks()
