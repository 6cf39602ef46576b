"""The admin's credentials: the secret key from the environment and a cached, renewed UserSig.

The key is read from the variable the config names (``app.secret_key_env``), never from a file.
The UserSig is made with Tencent's signer (:func:`chatsync.tencent.usersig.make`), reused while
it has more than a safety margin of life left, and renewed before that, so no call carries a sig
that expires in flight. :meth:`SigCache.renew` forces a new one after a refresh-sig code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from chatsync.errors import CredentialsError
from chatsync.tencent import usersig

#: Lifetime of the sigs chatsync makes: one day (Tencent recommends at least 24 hours).
SIG_LIFETIME = 86400
#: Renew when less than this much life is left: long enough for any run's slowest call.
RENEW_MARGIN = 3600


def secret_key_from_env(variable: str, environ: Mapping[str, str],
                        named_by: str = "app.secret_key_env") -> str:
    """The secret key held in ``environ[variable]``; a clear error when it is unset or blank, saying
    how to name another variable: ``named_by`` (the config's ``app.secret_key_env``, or for a saved
    plan, which never takes the file's choice, ``apply --plan``'s ``--secret-key-env NAME``)."""
    value = environ.get(variable, "")
    if not value.strip():
        state = "is empty" if variable in environ else "is not set"
        raise CredentialsError(
            f"the environment variable {variable} {state}; export the app's secret key in it "
            "(console: Applications > your app > Basic information > Key), or name another "
            f"variable with {named_by}"
        )
    if value != value.strip():
        raise CredentialsError(
            f"the secret key in {variable} has spaces or a newline at the start or end; remove them"
        )
    return value


class SigCache:
    """One admin UserSig, made on first use and renewed ``RENEW_MARGIN`` seconds before it expires."""

    def __init__(
        self,
        sdkappid: int,
        identifier: str,
        secret_key: str,
        *,
        lifetime: int = SIG_LIFETIME,
        margin: int = RENEW_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if margin >= lifetime:
            raise ValueError("the renewal margin must be shorter than the sig's lifetime")
        self.sdkappid = sdkappid
        self.identifier = identifier
        self._secret_key = secret_key
        self._lifetime = lifetime
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self._sig = ""
        self._issued: list[str] = []
        self._expires = 0.0
        self.renewals = 0  # how many sigs were made (for tests and debug logs)

    @property
    def secret_key(self) -> str:
        """The key (only for redaction: never print it)."""
        return self._secret_key

    def current(self) -> str:
        """A sig with at least ``margin`` seconds of life left."""
        with self._lock:
            if not self._sig or self._clock() >= self._expires - self._margin:
                self._make()
            return self._sig

    def renew(self, stale: str) -> str:
        """A new sig to replace ``stale`` (refused by the server); made once however many callers ask."""
        with self._lock:
            if self._sig == stale:
                self._make()
            return self._sig

    def secrets(self) -> tuple[str, ...]:
        """Every secret this object has handed out, for :func:`chatsync.text.redact.redact`."""
        return (self._secret_key, *self._issued)

    def _make(self) -> None:
        issued = self._clock()
        self._sig = usersig.make(self.sdkappid, self._secret_key, self.identifier, self._lifetime)
        self._issued.append(self._sig)
        self._expires = issued + self._lifetime
        self.renewals += 1
