"""The emulated app's data (accounts, bots, profiles) and its crash-safe persistence.

All reads and writes happen under :attr:`Store.lock`. When a state file is set, every change is
written atomically (temp file + rename) before the answer leaves: concurrent writers share
one write ("group commit"), so an OK answer always means the change is on disk. A state file that
cannot be read is an error naming the file; it is never replaced.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from chatsync.errors import ChatsyncError
from chatsync.tencent import profile_tags

STATE_FORMAT = "chatsync-emulator-state"
STATE_VERSION = 1

Profile = dict[str, Any]


class StateFileError(ChatsyncError):
    """The ``--state`` file exists but cannot be used."""


class Store:
    """Accounts (including admins and bots) with their profiles, bot status, deletions and kicks."""

    def __init__(self, sdkappid: int, admins: tuple[str, ...], path: Path | None = None) -> None:
        self.sdkappid = sdkappid
        self.admins = admins
        self.path = path
        self.lock = threading.RLock()
        self.accounts: dict[str, Profile] = {}  # every imported id -> its profile tags
        self.bots: dict[str, bool] = {}  # bot id -> active (False once delete_robot ran)
        self.deleted: set[str] = set()  # ordinary ids deleted by account_delete
        self.kicked: dict[str, int] = {}  # id -> unix second of its last kick
        self.version = 0  # bumped on every change
        self._saved_version = 0
        self._persist_lock = threading.Lock()
        if path is not None:
            _check_writable_folder(path)
            if path.exists():
                self._load(path)
        for admin in admins:
            self.accounts.setdefault(admin, {})

    # -- changes ---------------------------------------------------------------------------
    def changed(self) -> int:
        """Record a change (call with the lock held); returns the version to persist."""
        self.version += 1
        return self.version

    def persist(self, version: int) -> None:
        """Make sure ``version`` is on disk (no-op without a state file). Call without the lock."""
        if self.path is None:
            return
        with self._persist_lock:
            if self._saved_version >= version:
                return  # another writer's snapshot already covered this change
            with self.lock:
                text = json.dumps(self.snapshot(), ensure_ascii=False, separators=(",", ":"))
                snapshot_version = self.version
            try:
                _atomic_write(self.path, text)
            except OSError as exc:
                # The change stays in memory (like a change whose answer was lost) and is
                # written with the next one; the caller answers 70500, never OK.
                raise StateFileError(
                    f"cannot write emulator state file {self.path} ({exc.strerror or exc}); "
                    "check the disk and the folder's permissions"
                ) from None
            self._saved_version = snapshot_version

    def flush(self) -> None:
        """Write any unsaved change (used on shutdown)."""
        self.persist(self.version)

    # -- queries ---------------------------------------------------------------------------
    def active_bots(self) -> list[str]:
        """Active bot ids, in creation order."""
        return [bot for bot, active in self.bots.items() if active]

    def ordinary_count(self) -> int:
        """Imported accounts that are not bots (admins included)."""
        return len(self.accounts) - len(self.bots)

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
        }

    def _load(self, path: Path) -> None:
        where = f"emulator state file {path}"
        advice = "fix or move the file aside; it was left untouched"
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise StateFileError(f"{where} cannot be read ({exc.strerror}); {advice}") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise StateFileError(f"{where} is not UTF-8 text; {advice}") from None
        except json.JSONDecodeError as exc:
            raise StateFileError(
                f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                f"{advice}"
            ) from None
        problem = _shape_problem(data)
        if problem:
            raise StateFileError(f"{where} is not a chatsync emulator state ({problem}); {advice}")
        if data["sdkappid"] != self.sdkappid:
            raise StateFileError(
                f"{where} belongs to SDKAppID {data['sdkappid']}, not {self.sdkappid}; "
                "pass --sdkappid to match it or use another --state file"
            )
        self.accounts = data["accounts"]
        self.bots = data["bots"]
        self.deleted = set(data["deleted"])
        self.kicked = data["kicked"]


def _shape_problem(data: Any) -> str | None:
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        return f"its 'format' is not {STATE_FORMAT!r}"
    if data.get("version") != STATE_VERSION:
        return f"unsupported version {data.get('version')!r}, expected {STATE_VERSION}"
    expected = {"sdkappid": int, "accounts": dict, "bots": dict, "deleted": list, "kicked": dict}
    for key, kind in expected.items():
        if not isinstance(data.get(key), kind):
            return f"'{key}' is missing or not a {kind.__name__}"
    for user_id, profile in data["accounts"].items():
        if not isinstance(profile, dict):
            return f"the profile of {user_id!r} is not an object"
        for tag, value in profile.items():
            if not profile_tags.is_standard(tag) or not profile_tags.has_valid_type(tag, value):
                return f"the profile of {user_id!r} has a bad {tag!r}"
    if not all(isinstance(a, bool) for a in data["bots"].values()):
        return "a bot's status is not true/false"
    if any(bot not in data["accounts"] for bot in data["bots"]):
        return "a bot is missing from 'accounts'"
    if not all(isinstance(d, str) for d in data["deleted"]):
        return "'deleted' holds something other than ids"
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in data["kicked"].values()):
        return "'kicked' holds something other than unix times"
    return None


def _check_writable_folder(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise StateFileError(
            f"the folder of emulator state file {path} does not exist; create it or choose another --state"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StateFileError(
            f"emulator state file {path}: its folder is not writable; choose another --state"
        )


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a killed process leaves either the old or the new file.

    No fsync: this guards against the emulator (or its host process) dying, which is what tests and
    demos meet; surviving a power cut is not worth ~40 ms a change on slow disks.
    """
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise

