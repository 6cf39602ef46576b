"""Read the live app while the config is still loading, so a plan's reads start at once.

A plan's floor is its reads (docs/tencent-api.md §7: ``account_check`` at 100 calls/s), and a large
config takes a second or more to load; done one after the other, the two add up. :class:`Prefetch`
is the :class:`~chatsync.config.Listener` the loader tells of each part it has checked: when the
``app:`` section is checked it connects (the caller's way) and starts a
:class:`~chatsync.engine.read.LiveReader`, the bot list first; each declared bot or account is then wanted
as soon as it is made, so account checks go out while the rest of the file is parsed.

Only reads go out early, and nothing is planned before the whole config is loaded and valid: when
loading fails, the reads are dropped with the connection. A connection that cannot be made (no
secret key, say) is not an error here: the caller connects again after loading, and the error is
said then, after any config error, as without prefetching.

The reads compete with the loading for the interpreter; the ``chatsync`` command has it switch
threads more often meanwhile (:mod:`chatsync.cli.tuning`), but this module, like the whole library,
leaves such process-wide settings as it found them.
"""

from __future__ import annotations

from collections.abc import Callable

from chatsync.domain.live import wanted_of
from chatsync.domain.model import AppConfig, DesiredState, Principal
from chatsync.engine.read import LiveReader, listings
from chatsync.errors import ChatsyncError
from chatsync.tencent.api import ChatApi


class Prefetch:
    """Starts the reads of a plan as the config loads; ``connect`` opens a connection for an app
    (the caller closes it)."""

    def __init__(self, connect: Callable[[AppConfig], ChatApi]) -> None:
        self._connect = connect
        self.api: ChatApi | None = None
        self._app: AppConfig | None = None
        self._reader: LiveReader | None = None
        self._told: list[Principal] = []  # every principal the loader announced, in order
        self._given = 0  # how many of them the reader has

    def app(self, app: AppConfig) -> None:
        """The loader checked the app section: connect and start reading."""
        try:
            self.api = self._connect(app)
        except ChatsyncError:
            return  # said again, in its place, when the caller connects after loading
        self._app = app
        self._reader = LiveReader(self.api, listed=listings(app))
        self._give()

    def declared(self, principal: Principal) -> None:
        """The loader made one bot or account: read it (once the app section came)."""
        self._told.append(principal)
        if self._reader is not None:
            self._reader.declare(principal)
            self._given += 1

    def reader_for(self, desired: DesiredState) -> LiveReader | None:
        """The reader, told of every object ``desired`` declares, when the reads already going are
        for its app; None otherwise (nothing was read early)."""
        reader = self._reader
        if reader is None or self._app is None or not _same_connection(self._app, desired.app):
            return None
        self._give()
        overridden = self._overridden(desired)
        if overridden is None:  # an override manages a field the early reads left out: read again
            reader.cancel()
            return None
        if len(self._told) != sum(len(declared) for declared in desired.objects.values()) or overridden:
            told = {id(p) for p in self._told}  # some needed the whole config to be checked
            for principal in desired.principals():
                if id(principal) not in told and principal.address not in overridden:
                    reader.declare(principal)
        self._told = []
        return reader

    def _overridden(self, desired: DesiredState) -> set[str] | None:
        """The addresses of the objects an override changed (``overrides:``) that are read already,
        as declared; None when one of them needs a field that read leaves out (the reads must then
        start again). Merged objects are new, so they would otherwise be read a second time."""
        overrides = desired.origins.overrides
        if not overrides:
            return set()
        read = {p.address: p for p in self._told if p.address in overrides}
        for before in read.values():
            merged = desired.of(before.kind).get(before.user_id)
            if merged is None or not set(wanted_of(merged).fields) <= set(wanted_of(before).fields):
                return None
        return set(read)

    def _give(self) -> None:
        """Hand the reader the principals announced before it started."""
        if self._reader is None:
            return
        for principal in self._told[self._given:]:
            self._reader.declare(principal)
        self._given = len(self._told)


def _same_connection(early: AppConfig, app: AppConfig) -> bool:
    """True when a connection made for ``early`` (the ``app:`` section as first read) serves ``app``
    (with the shared settings merged in): same app, endpoint, admin, key variable and rates."""
    return (early.sdkappid, early.region, early.endpoint, early.admin, early.secret_key_env,
            dict(early.rates)) == (app.sdkappid, app.region, app.endpoint, app.admin, app.secret_key_env,
                                   dict(app.rates))
