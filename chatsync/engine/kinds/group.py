"""Groups: listed once by ``get_appid_group_list`` (1 call a second, read while the other kinds
are), the declared ones read 50 a call by ``get_group_info`` with their members (paged where a
group is large), created by ``create_group`` with their first members (a create that meets its own
GroupId after a lost answer is recognised and goes on), changed by ``modify_group_base_info``,
``add_group_member`` (20 a call, silent unless the group says ``notify: true``),
``change_group_owner``, ``modify_group_member_info`` and ``delete_group_member`` (100 a call), and
destroyed by ``destroy_group`` (docs/tencent-api.md §10).

An update is made in this order: base info; members added; the new owner; roles; members removed.
Groups are written after the accounts and bots they name (:attr:`Kind.stage`), and their removals
and destroys are made before any account or bot is deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING

from chatsync.domain.kinds import group
from chatsync.domain.live import Wanted, wanted_of
from chatsync.domain.model import Principal
from chatsync.domain.plan import Change
from chatsync.errors import CallFailed
from chatsync.facts import groups as facts
from chatsync.facts.fields import Value
from chatsync.tencent.api import ItemResult
from chatsync.tencent.client import Reply
from chatsync.tencent.group_answers import GroupInfo
from chatsync.tencent.groups import CreateResult, GroupApi, NewGroup

if TYPE_CHECKING:
    from chatsync.engine.apply import Applier
    from chatsync.engine.read import LiveReader

#: A group created whose other members or roles are still to come (a run stopped there reports it
#: partly done; ``apply`` again, or ``apply --plan`` with the same file, goes on from it).
CREATED_ONLY = "created; members not all added"
#: Codes of ``destroy_group`` that say the group is gone: after a retry of an applied destroy, done.
GONE = 10010


def live_fields(info: GroupInfo) -> dict[str, Value]:
    """A group as read, in the config's terms (:data:`chatsync.domain.kinds.group.FIELDS`)."""
    members = info.members or {}
    return {
        "type": info.type,
        "name": info.name,
        "introduction": info.introduction,
        "notification": info.notification,
        "face_url": info.face_url,
        "max_members": info.max_members,
        "apply_join": facts.APPLY_JOIN_NAMES.get(info.apply_join, info.apply_join),
        "owner": info.owner,
        "admins": group.joined(u for u, role in members.items() if role == facts.ADMIN),
        "members": group.joined(u for u, role in members.items() if role == facts.MEMBER),
    }


class GroupReads:
    """The group list is read at once (its pages at 1 a second); the declared groups are read 50 a
    ``get_group_info`` as they are named, with their members, while the list is still coming. For
    ``export`` (the reader's ``every``), every listed group is read too."""

    def __init__(self, reader: LiveReader) -> None:
        self.reader = reader
        self.api = GroupApi(reader.api.client)
        self._named: list[Wanted] = []
        self._wanted: set[str] = set()  # every group named
        # Listed only to prune (or export): whether a declared group exists, its read says.
        self._listing: Future[None] | None = (
            reader.submit(self._read_list) if group.KIND.name in reader.listed else None)

    def declare(self, principal: Principal) -> None:
        self.want(wanted_of(principal))

    def want(self, want: Wanted) -> None:
        with self.reader.lock:
            self._named.append(want)
            self._wanted.add(want.user_id)

    def flush(self) -> None:
        """Read the groups named, 50 a call. Not while a config still loads: parsing the answers
        (every member of every group) is work of its own, and done beside the loading it slowed
        both more than doing one after the other."""
        with self.reader.lock:
            named, self._named = self._named, []
        for start in range(0, len(named), facts.INFO_BATCH):
            self.reader.submit(self._read, named[start:start + facts.INFO_BATCH])

    def settle(self) -> None:
        """Wait for the list; for ``export``, read every listed group no one named."""
        if self._listing is not None:
            self.reader.wait([self._listing])
        every = self.reader.every.get(group.KIND.name)
        if every is not None:
            for group_id in self.reader.live.listed[group.KIND.name]:
                if group_id not in self._wanted:
                    self.want(Wanted(group.KIND.name, group_id, every))
            self.flush()

    def _read_list(self) -> None:
        group_ids = self.api.list_group_ids()
        with self.reader.lock:
            self.reader.live.listed[group.KIND.name] = group_ids

    def _read(self, named: Sequence[Wanted]) -> None:
        results = self.api.get_group_info([w.user_id for w in named])
        with self.reader.lock:
            for want in named:
                result = results.get(want.user_id)
                if result is None:
                    missing = ItemResult(want.user_id, None, "missing from the answer")
                    self.reader.failures.append((want, missing))
                elif result.ok and result.group is not None:
                    live = Principal(group.KIND.name, want.user_id, live_fields(result.group))
                    self.reader.live.principals[live.address] = live
                elif not result.missing:
                    self.reader.failures.append(
                        (want, ItemResult(want.user_id, result.code, result.info, result.attempts)))


class GroupEngine:
    """Reads and writes groups."""

    kind = group.KIND

    def reads(self, reader: LiveReader) -> GroupReads:
        return GroupReads(reader)

    def read_calls(self, declared: int) -> int:
        return -(-declared // facts.INFO_BATCH)  # the infos (and, to prune, the list: not counted)

    def write(self, run: Applier, changes: Sequence[Change]) -> None:
        for change in changes:
            if change.action == "create":
                run.spawn(partial(_create, run), change)
            elif change.action == "update":
                run.spawn(partial(_update, run), change)

    def remove(self, run: Applier, changes: Sequence[Change]) -> None:
        for change in changes:
            if change.action == "delete":
                run.spawn(partial(_destroy, run), change)


def _api(run: Applier) -> GroupApi:
    return GroupApi(run.api.client)


def _silent(change: Change) -> bool:
    return not (change.after or {}).get("notify")


def _members_call(endpoint: str, change: Change, call: Callable[[], Mapping[str, ItemResult]],
                  ok: Callable[[ItemResult], bool] = lambda r: r.ok) -> Callable[[], Reply]:
    """A member batch as one step: the first member refused fails it, naming the member; a call
    refused whole (each of its members with the same code, a group full say) names the group only."""

    def step() -> Reply:
        results = call()
        attempts = max((r.attempts for r in results.values()), default=1)
        refused = [(user_id, result) for user_id, result in results.items() if not ok(result)]
        if refused:
            user_id, first = refused[0]
            whole = first.code is not None and len(refused) == len(results) and all(
                (r.code, r.info) == (first.code, first.info) for _, r in refused)
            who = f"group {change.user_id}" if whole else f"group {change.user_id}, member {user_id}"
            raise CallFailed(endpoint, first.code, f"{who}: {first.info or 'refused'}", first.attempts)
        return Reply({}, attempts)

    return step


def _create(run: Applier, change: Change) -> None:
    """``create_group`` with the first members, then the rest of them and the roles of the admins
    among the rest. A group found made already (its GroupId answered 10021/10025 and the group
    there is the one declared: a lost answer, or a run stopped before the rest) goes on from what it
    holds: the members it lacks are added, and the admins it holds as plain members get their role."""
    after = change.after or {}
    owner = str(after.get("owner", ""))
    members = {u: role for u, role in group.roles(after).items() if u != owner}
    spec = NewGroup(
        group_id=change.user_id, type=str(after.get("type", "")), name=str(after.get("name", "")),
        owner=owner, introduction=_text(after, "introduction"), notification=_text(after, "notification"),
        face_url=_text(after, "face_url"),
        max_members=int(after["max_members"]) if "max_members" in after else None,
        apply_join=_text(after, "apply_join"), members=members)
    made: list[CreateResult] = []

    def create() -> Reply:
        result = _api(run).create_group(spec)
        made.append(result)
        return Reply({}, result.attempts)

    attempts = run.single(change, create, finish=False)
    if attempts is None:
        return
    result = made[0]
    held = (result.existing.members or {}) if result.existing is not None else {}
    left = list(result.members_left)
    steps: list[Callable[[], Reply]] = []
    if left:
        steps.append(_members_call("add_group_member", change, lambda: _api(run).add_members(
            change.user_id, left, silence=_silent(change)), _joined))
    coming = set(left)
    for user_id, role in members.items():  # the admins to come, and those held as plain members
        in_group = user_id in coming or user_id in held
        if role == facts.ADMIN and held.get(user_id) != facts.ADMIN and in_group:
            steps.append(partial(_api(run).set_member_role, change.user_id, user_id, facts.ADMIN))
    if steps:
        run.progressed(change, CREATED_ONLY)
    _made_in_steps(run, change, steps, attempts)


def _made_in_steps(run: Applier, change: Change, steps: Sequence[Callable[[], Reply]], attempts: int) -> None:
    """Make ``steps`` one after the other; ``change`` is done once every one is (a step that fails
    fails it, and the rest are not made)."""
    for step in steps:
        done = run.single(change, step, attempts, finish=False)
        if done is None:
            return
        attempts = done
    run.finish(change, "ok", attempts=attempts)


def _text(after: Mapping[str, Value], name: str) -> str | None:
    value = after.get(name)
    return None if value is None else str(value)


def _joined(result: ItemResult) -> bool:
    """An add that made a member, or met one already there."""
    return result.ok and not str(result.data.get("result", "added")).startswith("invited")


def _update(run: Applier, change: Change) -> None:
    after = dict(change.after or {})
    seen = {**(run.plan.observed_objects.get(change.address) or {}), **(change.before or {})}
    api = _api(run)
    gid = change.user_id
    steps: list[Callable[[], Reply]] = []
    base = {name: after[name] for name in group.BASE if name in after}
    if base:
        steps.append(partial(api.modify_group_base_info, gid, base))
    new = list(group.added(seen, after))
    if new:
        steps.append(_members_call("add_group_member", change,
                                   lambda: api.add_members(gid, new, silence=_silent(change)), _joined))
    owner = after.get("owner")
    if isinstance(owner, str) and owner and owner != seen.get("owner"):
        steps.append(partial(api.change_group_owner, gid, owner))
    for user_id, role in sorted(group.role_changes(seen, after).items()):
        steps.append(partial(api.set_member_role, gid, user_id, role))
    gone = list(group.removed(seen, after))
    if gone:
        steps.append(_members_call("delete_group_member", change, lambda: api.delete_members(gid, gone)))
    _made_in_steps(run, change, steps, 0)


def _destroy(run: Applier, change: Change) -> None:
    def destroy() -> Reply:
        try:
            return _api(run).destroy_group(change.user_id)
        except CallFailed as failure:
            if failure.code == GONE and failure.attempts > 1:
                return Reply({}, failure.attempts)  # a retry of a destroy that was made
            raise

    run.single(change, destroy)


ENGINE = GroupEngine()
