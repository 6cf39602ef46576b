"""The emulated app's data (accounts, bots, profiles, groups) and its durable persistence.

All reads and writes happen under :attr:`Store.lock`. With a state file, the promise is a
database's: an OK answer means the change is on disk. Every request takes a :class:`Ticket` for the
state it saw (:meth:`Store.changed` after a change, :meth:`Store.seen` otherwise) and calls
:meth:`Store.commit` before answering. Commit writes the whole state atomically (temp file, fsync,
rename, fsync of the folder); concurrent requests share one write ("group commit"). When a write
fails (a full disk), every change not yet on disk is rolled back in memory and each request that
saw one gets :class:`StateWriteError`, answered with a transient code: a retry applies the change
again and saves it, and nothing is ever answered OK from memory alone.

The state file is checked at start as strictly as a config: not a regular file, not UTF-8 text,
not JSON, unknown keys, values out of range or inconsistent with each other each stop the start
with one line naming the file; it is never replaced.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import stat
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatsync.emulator import group_state, profile_rules
from chatsync.errors import StateFileError, StateWriteError
from chatsync.facts import limits
from chatsync.facts.profile_tags import custom_key

STATE_FORMAT = "chatsync-emulator-state"
STATE_VERSION = 1
STATE_KEYS = ("format", "version", "sdkappid", "accounts", "bots", "deleted", "kicked", "groups",
              "group_seq")
#: Keys a state may leave out (a state written before groups existed): no groups.
OPTIONAL_KEYS = ("groups", "group_seq")

Profile = dict[str, Any]
log = logging.getLogger("chatsync.emulator")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class _Generation:
    """The changes made since the last rollback. ``kept`` is set when a rollback ends it: the
    last version that was on disk then (later versions of this generation were lost)."""

    __slots__ = ("kept",)

    def __init__(self) -> None:
        self.kept: int | None = None


@dataclass(frozen=True)
class Ticket:
    """The state a request saw (or made): a version of one generation."""

    version: int
    generation: _Generation


class Store:
    """Accounts (including admins and bots) with their profiles, bot status, deletions and kicks,
    and groups (:mod:`chatsync.emulator.group_state`).

    ``path`` is the state file (loaded, then written after every change); ``seed`` a file in the
    same format the app starts from when there is no state yet (read only: a benchmark's 10,000
    groups load without every change rewriting them).
    """

    def __init__(self, sdkappid: int, admins: tuple[str, ...], path: Path | None = None, *,
                 custom_fields: tuple[str, ...] = (), fsync: bool = True,
                 now: float | None = None, seed: Path | None = None) -> None:
        self.sdkappid = sdkappid
        self.admins = admins
        self.custom_fields = frozenset(custom_fields)
        self.path = path
        self.fsync = fsync
        self.lock = threading.RLock()
        self.accounts: dict[str, Profile] = {}  # every imported id -> its profile tags
        self.bots: dict[str, bool] = {}  # bot id -> active (False once delete_robot ran)
        self.deleted: set[str] = set()  # ordinary ids deleted by account_delete
        self.kicked: dict[str, int] = {}  # id -> unix second of its last kick
        self.groups: dict[str, group_state.Group] = {}  # GroupId -> its record, in creation order
        self.group_seq = 0  # the Seq of the newest group (orders the listing; never reused)
        self.joined: dict[str, set[str]] = {}  # account -> its groups (an index, rebuilt on load)
        self.version = 0  # bumped on every change
        self._generation = _Generation()
        self._saved_version = 0
        self._persist_lock = threading.Lock()
        self._failing = False  # the last write failed (logged once, until a write succeeds)
        raw = None
        if path is not None:
            _check_writable_folder(path)
            _remove_stale_temp_files(path)
            raw = _read_state_file(path)
            if raw is not None:
                self._load(path, raw, time.time() if now is None else now)
        if raw is None and seed is not None:  # the app starts as the seed says (never written)
            raw = _read_state_file(seed)
            if raw is None:
                raise StateFileError(f"emulator seed file {seed} does not exist")
            self._load(seed, raw, time.time() if now is None else now)
        for admin in admins:
            self.accounts.setdefault(admin, {})
        self._saved_data = self._encode()  # what a rollback returns to

    # -- changes ---------------------------------------------------------------------------
    def changed(self) -> Ticket:
        """Record a change (call with the lock held); commit the ticket before answering."""
        self.version += 1
        return Ticket(self.version, self._generation)

    def seen(self) -> Ticket:
        """The state a request read without changing it (call with the lock held)."""
        return Ticket(self.version, self._generation)

    def commit(self, ticket: Ticket) -> None:
        """Return once the state ``ticket`` saw is on disk (at once without a state file).

        Raises :class:`StateWriteError` when it never will be: the write failed and every change
        not yet saved (this request's, and any other it saw) was rolled back in memory.
        Call without the lock.
        """
        if self.path is None or self._settled(ticket):
            return
        with self._persist_lock:
            if self._settled(ticket):
                return
            with self.lock:
                version = self.version
                try:
                    data = self._encode()
                except ValueError as exc:  # cannot happen for a state the gateway let in
                    self._roll_back()
                    raise StateWriteError(f"cannot encode the emulator state ({exc})") from None
            try:
                _atomic_write(self.path, data, self.fsync)
            except OSError as exc:
                with self.lock:
                    self._roll_back()
                message = (f"cannot write emulator state file {self.path} ({exc.strerror or exc}); "
                           "check the disk and the folder's permissions")
                if not self._failing:
                    log.warning("%s; changes are refused with a transient code until it can be "
                                "written", message)
                    self._failing = True
                raise StateWriteError(message) from None
            self._saved_version, self._saved_data = version, data
            if self._failing:
                log.warning("emulator state file %s is written again", self.path)
                self._failing = False
        if not self._settled(ticket):  # pragma: no cover - the write above covered the ticket
            raise StateWriteError("the change was not saved")

    def _settled(self, ticket: Ticket) -> bool:
        """True when ``ticket``'s state is on disk; raises when it was rolled back."""
        kept = ticket.generation.kept
        if kept is not None and ticket.version > kept:
            raise StateWriteError(
                f"cannot write emulator state file {self.path}; the change was rolled back"
            )
        return ticket.version <= self._saved_version

    def _roll_back(self) -> None:
        """Return to the state last on disk (lock held); end the generation of lost changes.

        The version goes back to the saved one, so the rolled-back state counts as on disk; the
        numbers of lost changes are used again, but only by tickets of the new generation.
        """
        self._generation.kept = self._saved_version
        self._generation = _Generation()
        self.version = self._saved_version
        self._apply(json.loads(self._saved_data))

    def flush(self) -> None:
        """Write any unsaved change (used on shutdown)."""
        with self.lock:
            ticket = self.seen()
        self.commit(ticket)

    # -- queries ---------------------------------------------------------------------------
    def active_bots(self) -> list[str]:
        """Active bot ids, in creation order."""
        return [bot for bot, active in self.bots.items() if active]

    def ordinary_count(self) -> int:
        """Imported accounts that are not bots (admins included)."""
        return len(self.accounts) - len(self.bots)

    # -- groups (call with the lock held) ----------------------------------------------------------
    def add_group(self, group_id: str, group: group_state.Group) -> None:
        """Store a new group (its members included) at the end of the listing."""
        self.groups[group_id] = group
        for account in group["Members"]:
            self.joined.setdefault(account, set()).add(group_id)

    def drop_group(self, group_id: str) -> None:
        """Remove a group and its memberships (destroy_group)."""
        group = self.groups.pop(group_id)
        for account in group["Members"]:
            self._unjoin(account, group_id)

    def add_member(self, group_id: str, account: str, member: group_state.Member) -> None:
        """Make ``account`` a member of the group."""
        self.groups[group_id]["Members"][account] = member
        self.joined.setdefault(account, set()).add(group_id)

    def remove_member(self, group_id: str, account: str) -> None:
        """Take ``account`` out of the group (an owner leaves it ownerless)."""
        group = self.groups[group_id]
        del group["Members"][account]
        if group["Owner_Account"] == account:
            group["Owner_Account"] = ""
        self._unjoin(account, group_id)

    def leave_groups(self, account: str) -> bool:
        """Take ``account`` out of every group (its account or bot was deleted); True if it was in one."""
        group_ids = sorted(self.joined.get(account, ()))
        for group_id in group_ids:
            self.remove_member(group_id, account)
        return bool(group_ids)

    def _unjoin(self, account: str, group_id: str) -> None:
        joined = self.joined.get(account)
        if joined is not None:
            joined.discard(group_id)
            if not joined:
                del self.joined[account]

    # -- serialisation ---------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The whole state as plain JSON data."""
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "sdkappid": self.sdkappid,
            "accounts": self.accounts,
            "bots": self.bots,
            "deleted": sorted(self.deleted),
            "kicked": self.kicked,
            "groups": self.groups,
            "group_seq": self.group_seq,
        }

    def _encode(self) -> bytes:
        return json.dumps(self.snapshot(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def _apply(self, data: dict[str, Any]) -> None:
        self.accounts = data["accounts"]
        self.bots = data["bots"]
        self.deleted = set(data["deleted"])
        self.kicked = data["kicked"]
        self.groups = data.get("groups", {})
        self.group_seq = data.get("group_seq", 0)
        self.joined = group_state.joined_index(self.groups)

    def _load(self, path: Path, raw: bytes, now: float) -> None:
        where = f"emulator state file {path}"
        advice = "fix or move the file aside; it was left untouched"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StateFileError(f"{where} is not UTF-8 text (byte {exc.start}); {advice}") from None
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise StateFileError(
                f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                f"{advice}"
            ) from None
        except (ValueError, RecursionError) as exc:
            detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise StateFileError(f"{where} is not valid JSON ({detail}); {advice}") from None
        # Only a \uD8xx-\uDFxx escape can make a lone surrogate (UTF-8 cannot hold one): a large
        # seeded state without any is not walked string by string.
        suspect = _SURROGATE_ESCAPE.search(raw) is not None
        problem = (_text_problem(data) if suspect else None) or _shape_problem(data)
        if problem is None and data["sdkappid"] != self.sdkappid:
            raise StateFileError(
                f"{where} belongs to SDKAppID {data['sdkappid']}, not {self.sdkappid}; "
                "pass --sdkappid to match it or use another --state file"
            )
        problem = problem or _content_problem(data, self.custom_fields, now)
        if problem:
            raise StateFileError(f"{where} is not a chatsync emulator state ({problem}); {advice}")
        self._apply(data)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _text_problem(data: Any) -> str | None:
    """A string in ``data`` that is not Unicode text (a lone surrogate from a ``\\ud800`` escape)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and limits.encoding_problem(item):
            return f"the string {item.encode('utf-8', 'backslashreplace').decode()[:40]!r} " \
                   "holds a lone UTF-16 surrogate, which is not valid Unicode text"
    return None


def _shape_problem(data: Any) -> str | None:
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        return f"its 'format' is not {STATE_FORMAT!r}"
    if data.get("version") != STATE_VERSION:
        return f"unsupported version {data.get('version')!r}, expected {STATE_VERSION}"
    unknown = sorted(set(data) - set(STATE_KEYS))
    if unknown:
        return f"unknown key {unknown[0]!r}; a state holds {', '.join(STATE_KEYS)}"
    expected = {"sdkappid": int, "accounts": dict, "bots": dict, "deleted": list, "kicked": dict,
                "groups": dict, "group_seq": int}
    for key, kind in expected.items():
        if key in OPTIONAL_KEYS and key not in data:
            continue
        if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
            return f"'{key}' is missing or not a {kind.__name__}"
    return None


def _content_problem(data: dict[str, Any], custom_fields: frozenset[str], now: float) -> str | None:
    """Ids, profiles, bots, deletions and kicks: each valid, and consistent with the others."""
    accounts, bots = data["accounts"], data["bots"]
    for user_id, profile in accounts.items():
        problem = limits.user_id_problem(user_id)
        if problem:
            return f"the account id {user_id!r} {problem}"
        prefix = limits.reserved_prefix(user_id)
        if prefix and not (prefix == limits.BOT_PREFIX and user_id in bots):
            return f"the account id {user_id!r} starts with {prefix}, which ordinary accounts may not"
        if not isinstance(profile, dict):
            return f"the profile of {user_id!r} is not an object"
        for tag, value in profile.items():
            try:
                profile_rules.check_value(profile_rules.check_tag(tag, custom_fields), value)
            except profile_rules.TagProblem as refused:
                key = custom_key(tag) if refused.code == profile_rules.UNKNOWN_TAG else None
                hint = f"; start the emulator with --custom-field {key}" if key else ""
                return f"the profile of {user_id!r} has a bad {tag!r}: {refused}{hint}"
    for bot, active in bots.items():
        if not isinstance(active, bool):
            return "a bot's status is not true/false"
        if not limits.is_bot_id(bot):
            return f"the bot {bot!r} does not start with {limits.BOT_PREFIX}"
        if bot not in accounts:
            return "a bot is missing from 'accounts'"
    deleted = data["deleted"]
    if not all(isinstance(d, str) for d in deleted):
        return "'deleted' holds something other than ids"
    for user_id in deleted:
        if limits.user_id_problem(user_id):
            return f"'deleted' holds {user_id!r}, which is not a valid UserID"
        if user_id in accounts:
            return f"{user_id!r} is both an account and in 'deleted'"
    if len(set(deleted)) != len(deleted):
        return "'deleted' names an id twice"
    for user_id, when in data["kicked"].items():
        if not isinstance(when, int) or isinstance(when, bool):
            return "'kicked' holds something other than unix times"
        if user_id not in accounts:
            return f"'kicked' names {user_id!r}, which is not an account"
        if not 0 <= when <= now:
            return (f"the kick of {user_id!r} is at unix time {when}, which is not between 0 and now "
                    f"({int(now)}); every UserSig of it would be refused")
    return group_state.check_groups(data, now)


def _read_state_file(path: Path) -> bytes | None:
    """The file's bytes; None when it does not exist. Never blocks (a FIFO is refused)."""
    where = f"emulator state file {path}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(
            f"{where} cannot be read ({exc.strerror}); fix or move the file aside; it was left untouched"
        ) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise StateFileError(
                f"{where} is not a regular file (it is {_kind_of(mode)}); "
                "--state must name a JSON file or a path where one can be created"
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError as exc:
        raise StateFileError(
            f"{where} cannot be read ({exc.strerror}); fix or move the file aside; it was left untouched"
        ) from None
    finally:
        os.close(fd)


def _kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def _write_target(path: Path) -> Path:
    """The file a write replaces: ``path`` itself, or the file a symlink at ``path`` leads to (the
    link is kept: the new file is written beside its target and renamed onto it)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _check_writable_folder(path: Path) -> None:
    target = _write_target(path)
    where = f"emulator state file {path}" + (f" (a link to {target})" if target != path else "")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise StateFileError(
            f"the folder of {where} does not exist; create it or choose another --state"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StateFileError(f"{where}: its folder is not writable; choose another --state")


#: The temp files :func:`_atomic_write` makes beside the file it replaces: tempfile.mkstemp's names
#: for the prefix ``.NAME.`` and the suffix ``.tmp`` (8 characters of its alphabet between).
_TEMP_NAME = r"\.{name}\.[a-z0-9_]{{8}}\.tmp"


def _remove_stale_temp_files(path: Path) -> None:
    """Delete the temp files a killed emulator (kill -9 mid-save) left beside the state file.

    Only names :func:`_atomic_write` makes for this state file (``.NAME.XXXXXXXX.tmp``, beside the
    file it replaces and, for a link, beside the link too, where earlier versions wrote), and only
    regular files of this user: never a link, a folder or anything else.
    """
    removed = 0
    for file in dict.fromkeys((path, _write_target(path))):
        pattern = re.compile(_TEMP_NAME.format(name=re.escape(file.name)))
        try:
            entries = list(os.scandir(file.parent if str(file.parent) else "."))
        except OSError:
            continue  # the folder check reports an unusable folder
        for entry in entries:
            if not pattern.fullmatch(entry.name):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and info.st_uid == _euid():
                    os.unlink(entry.path)
                    removed += 1
            except OSError:
                continue
    if removed:
        log.warning("removed %d temp file%s of an interrupted save beside emulator state file %s",
                    removed, "" if removed == 1 else "s", path)


def _euid() -> int:
    return os.geteuid() if hasattr(os, "geteuid") else -1


def _atomic_write(path: Path, data: bytes, fsync: bool) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old or the new file.

    The temp file is written in the same folder and renamed over ``path``; when ``path`` is a
    symlink, over the file it leads to (the link stays as it was). With ``fsync``, the file's bytes
    reach the disk before the rename and the rename before returning (the folder is fsynced too):
    then an OK survives a power cut, not only a killed process. A temp file a killed process
    leaves behind is removed at the next start (:func:`_remove_stale_temp_files`).
    """
    path = _write_target(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if fsync:
        folder = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
