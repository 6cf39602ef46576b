"""The emulator's front door: one request in, one :class:`Outcome` out.

:meth:`Emulator.handle` checks a request in the real gateway's order (stance §8): path (60009),
query (60012/60025), app (70020), UserSig (70xxx), admin (60010), rate (60007), body JSON (60003);
then runs the endpoint's handler under the store lock, persists the change, and wraps the answer
in the envelope. Faults and latency are applied here too, so both fronts (HTTP server and httpx
transport) behave the same.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
import threading
import time
import traceback
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chatsync.emulator import groups, stance
from chatsync.emulator.faults import Fault, FaultInjector, FaultKind
from chatsync.emulator.handlers import HANDLERS, Answer, ApiError, App, BatchFailure
from chatsync.emulator.ratelimit import SlidingWindow
from chatsync.emulator.store import Store, Ticket
from chatsync.errors import StateWriteError
from chatsync.facts import error_codes as errors
from chatsync.facts import limits
from chatsync.facts.endpoints import BY_PATH, ENDPOINTS, Endpoint
from chatsync.facts.groups import DEFAULT_MEMBER_CAP
from chatsync.tencent import usersig
from chatsync.text.redact import redact

UINT32_MAX = 2**32 - 1
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
log = logging.getLogger("chatsync.emulator")
#: Endpoints that also take an empty body, read as ``{}`` (client quirks §9.6, §10.23).
EMPTY_BODY_OK = ("get_all_robots", "get_appid_group_list")
BAD_GATEWAY_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


@dataclass
class EmulatorConfig:
    """Everything ``chatsync emulator`` can be told (see its ``--help``)."""

    secret_key: str = field(repr=False)
    sdkappid: int = 1400000000
    admins: tuple[str, ...] = (limits.DEFAULT_ADMIN,)
    state_path: Path | None = None
    seed_state: Path | None = None  # a state file to start from when state_path holds none (read only)
    max_bots: int = limits.MAX_BOTS
    max_accounts: int | None = None
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    seed: int | None = None
    rate_limit_scale: float = 1.0
    deletion_lock: bool = stance.DELETION_LOCK_DEFAULT
    allow_account_delete: bool = True
    custom_fields: tuple[str, ...] = ()  # keys of Tag_Profile_Custom_<key> the app has configured
    fsync: bool = True  # with a state file: fsync each write (an OK survives a power cut)
    group_member_cap: int = DEFAULT_MEMBER_CAP  # the edition's members per group (§10.1)
    max_groups: int | None = None  # groups at once (trial edition: 100, else 10058)
    max_av_chatrooms: int | None = None  # AVChatRooms at once (10036)
    max_joined_groups: int | None = None  # groups one account may be in (10037; bots: no limit)
    group_data_keys: tuple[str, ...] = ()  # AppDefinedData keys the app has configured for groups
    member_data_keys: tuple[str, ...] = ()  # AppMemberDefinedData keys configured for members


@dataclass(frozen=True)
class Outcome:
    """What to send back: an HTTP status and body, or nothing at all (``drop``)."""

    status: int
    body: bytes
    drop: bool = False
    code: int = 0  # the ErrorCode in the body (for logs); 0 on success or for non-JSON answers
    endpoint: str = ""

    def json(self) -> dict[str, Any]:
        """The body as JSON (for tests)."""
        data: dict[str, Any] = json.loads(self.body)
        return data


class _Refusal(Exception):
    """A gateway check failed with ``code``."""

    def __init__(self, code: int, info: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.info = info


class Emulator:
    """An emulated Chat app. Thread-safe: one instance serves every connection."""

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not config.secret_key:
            raise ValueError("the emulator needs a secret key")
        self.config = config
        self.clock = clock
        self.sleep = sleep
        self.store = Store(config.sdkappid, config.admins, config.state_path,
                           custom_fields=config.custom_fields, fsync=config.fsync, now=clock(),
                           seed=config.seed_state)
        self.app = App(
            store=self.store,
            max_bots=config.max_bots,
            max_accounts=config.max_accounts,
            deletion_lock=config.deletion_lock,
            allow_account_delete=config.allow_account_delete,
            now=clock,
            group_member_cap=config.group_member_cap,
            max_groups=config.max_groups,
            max_av_chatrooms=config.max_av_chatrooms,
            max_joined_groups=config.max_joined_groups,
            group_data_keys=frozenset(config.group_data_keys),
            member_data_keys=frozenset(config.member_data_keys),
        )
        self.limits = {
            name: SlidingWindow(endpoint.rate_per_second * config.rate_limit_scale, monotonic)
            for name, endpoint in ENDPOINTS.items()
        }
        self.faults = FaultInjector(config.fault_rate, config.seed)
        self._sig_cache: dict[tuple[str, str], usersig.Verdict] = {}
        self._sig_failures: dict[str, deque[float]] = defaultdict(deque)
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self._sequence = itertools.count(1)
        self.calls: dict[str, int] = defaultdict(int)  # answered calls per endpoint (for tests)

    # -- the request path ----------------------------------------------------------------------
    def handle(self, method: str, target: str, body: bytes) -> Outcome:
        """Answer one HTTP request. ``target`` is the request line's path with its query.

        An error of the emulator itself answers 70500 (the real service's internal error) and
        logs a traceback scrubbed of the UserSig and the key, on both fronts alike.
        """
        if self.config.latency_ms > 0:
            self.sleep(self.config.latency_ms / 1000.0)
        try:
            return self._handle(method, target, body)
        except Exception:
            log.error("internal error: %s", redact(traceback.format_exc(), self.config.secret_key))
            return self._answer(None, 70500, None, {})

    def _handle(self, method: str, target: str, body: bytes) -> Outcome:
        endpoint: Endpoint | None = None
        try:
            try:
                parts = urlsplit(target)
            except ValueError:  # e.g. an unbalanced "[" read as an IPv6 host
                raise _Refusal(60002) from None
            endpoint = BY_PATH.get(parts.path)
            if endpoint is None:
                raise _Refusal(60009)
            if method not in ("POST", "GET"):  # GET with a body: client quirk §9.3
                raise _Refusal(60002, "the REST API accepts POST only")
            self._check_caller(parts.query)
            if not self.limits[endpoint.name].admit():
                raise _Refusal(60007)
            payload = _parse_body(body, endpoint)
        except _Refusal as refusal:
            return self._answer(endpoint, refusal.code, refusal.info, {})
        fault = self.faults.draw(endpoint.path, body, endpoint.family)
        if fault is not None and not fault.after_commit:
            return self._fault(endpoint, fault)
        answer, code, info = self._run(endpoint, payload)
        if fault is not None:
            return self._fault(endpoint, fault)
        return self._answer(endpoint, code, info, answer.fields)

    def _check_caller(self, query: str) -> None:
        """Query parameters, app, UserSig and admin rights, in the gateway's order."""
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if not params.get("sdkappid"):
            raise _Refusal(60012)
        sdkappid = _uint32(params["sdkappid"])
        if sdkappid is None:
            raise _Refusal(60025, "sdkappid must be an unsigned 32-bit integer")
        identifier = params.get("identifier", "")
        if not identifier:
            raise _Refusal(60025, "identifier is missing")
        if params.get("contenttype") != "json":
            raise _Refusal(60025, "contenttype must be json")
        if stance.REQUIRE_RANDOM and _uint32(params.get("random", "")) is None:
            raise _Refusal(60025, "random must be an unsigned 32-bit integer")
        if sdkappid != self.config.sdkappid:
            raise _Refusal(70020)
        self._check_sig(identifier, params.get("usersig", ""))
        if identifier not in self.config.admins:
            raise _Refusal(60010)

    def _check_sig(self, identifier: str, sig: str) -> None:
        now = self.clock()
        with self._lock:
            blocked = self._blocked_until.get(identifier)
            if blocked is not None:
                if now < blocked:
                    raise _Refusal(70050)
                del self._blocked_until[identifier]
            cached = self._sig_cache.get((identifier, sig))
        if cached is None:
            cached = usersig.check(
                sig, sdkappid=self.config.sdkappid, identifier=identifier,
                secret_key=self.config.secret_key,
            )
            with self._lock:
                if len(self._sig_cache) > 10_000:
                    self._sig_cache.clear()
                self._sig_cache[(identifier, sig)] = cached
        code = cached.at(now)
        if code == usersig.OK:
            with self.store.lock:
                kicked = self.store.kicked.get(identifier)
            if kicked is not None and cached.issued < kicked:
                code = 70052
        if code != usersig.OK:
            self._count_sig_failure(identifier, now)
            raise _Refusal(code)

    def _count_sig_failure(self, identifier: str, now: float) -> None:
        with self._lock:
            failures = self._sig_failures[identifier]
            failures.append(now)
            while failures and failures[0] <= now - stance.SIG_BLOCK_SECONDS:
                failures.popleft()
            if len(failures) >= stance.SIG_FAILURES_BEFORE_BLOCK:
                self._blocked_until[identifier] = now + stance.SIG_BLOCK_SECONDS
                del self._sig_failures[identifier]
            if len(self._sig_failures) > 10_000:  # bounded memory under a flood of bad identifiers
                self._sig_failures.clear()

    def _run(self, endpoint: Endpoint, payload: dict[str, Any]) -> tuple[Answer, int, str | None]:
        """Run the handler under the store lock; answer once what it saw or did is on disk.

        A change that cannot be saved was rolled back: answer a transient code, never OK.
        """
        handler = HANDLERS.get(endpoint.name) or groups.HANDLERS[endpoint.name]
        code, info = 0, None
        with self.store.lock:
            try:
                answer = handler(self.app, payload)
            except BatchFailure as failure:
                answer, code, info = Answer(failure.fields, failure.changed), failure.code, None
            except ApiError as error:
                answer, code, info = Answer(), error.code, error.info
            ticket: Ticket = self.store.changed() if answer.changed else self.store.seen()
        try:
            self.store.commit(ticket)
        except StateWriteError:
            return Answer(), stance.STATE_WRITE_FAILED_CODE, (
                "internal server error: the emulator could not save the change (its state file); "
                "nothing was changed, retry later")
        return answer, code, info

    # -- answers --------------------------------------------------------------------------------
    def _answer(
        self, endpoint: Endpoint | None, code: int, info: str | None, fields: dict[str, Any]
    ) -> Outcome:
        name = endpoint.name if endpoint else ""
        with self._lock:
            self.calls[name] += 1
            sequence = next(self._sequence)
        envelope: dict[str, Any] = {
            "ActionStatus": "OK" if code == 0 else "FAIL",
            "ErrorCode": code,
            "ErrorInfo": "" if code == 0 else (info or errors.lookup(code).info),
        }
        if endpoint is not None and endpoint.family == "profile":
            envelope["ErrorDisplay"] = ""
        envelope.update(fields)
        envelope["RequestId"] = f"Id-{secrets.token_hex(16)}-O-Seq-{sequence}"
        body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        return Outcome(200, body, code=code, endpoint=name)

    def _fault(self, endpoint: Endpoint, fault: Fault) -> Outcome:
        if fault.kind is FaultKind.CODE:
            return self._answer(endpoint, fault.code, None, {})
        with self._lock:
            self.calls[endpoint.name] += 1
        if fault.kind is FaultKind.HTTP_502:
            return Outcome(502, BAD_GATEWAY_PAGE, endpoint=endpoint.name)
        return Outcome(0, b"", drop=True, endpoint=endpoint.name)

    def close(self) -> None:
        """Write any unsaved change."""
        self.store.flush()


def _parse_body(body: bytes, endpoint: Endpoint) -> dict[str, Any]:
    """The JSON object of the body (any client's Content-Type; docs/tencent-api.md §1.1: the body
    is a JSON object, anything else is 60003 on every API). ``get_all_robots`` also takes an empty
    body or ``[]`` (client quirk §9.6), read as ``{}``; ``get_appid_group_list`` an empty body
    (py-timsdk sends it as a GET with none, §10.23)."""
    lenient = endpoint.name == "get_all_robots"
    if not body.strip():
        if endpoint.name in EMPTY_BODY_OK:
            return {}
        raise _Refusal(60003, "the request body is empty; send a JSON object")
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deeply
        raise _Refusal(60003) from None
    if _SURROGATE_ESCAPE.search(body) and _holds_lone_surrogate(payload):
        # "\ud800" escapes decode to lone surrogates, which are not Unicode text
        raise _Refusal(60003, "the body holds a lone UTF-16 surrogate (not valid Unicode)")
    if lenient and payload == []:
        return {}
    if not isinstance(payload, dict):
        raise _Refusal(60003, "the request body must be a JSON object")
    return payload


def _holds_lone_surrogate(payload: Any) -> bool:
    """True when a key or string anywhere in ``payload`` is not encodable as UTF-8 (no recursion:
    the parser's depth limit is the only one)."""
    stack = [payload]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and limits.encoding_problem(item):
            return True
    return False


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _uint32(text: str) -> int | None:
    """``text`` as an unsigned 32-bit integer, or None: ASCII digits only (``str.isdigit`` also
    accepts '²' and other scripts' digits), and short enough to convert (5,000 digits are not)."""
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > len(str(UINT32_MAX)):
        return None
    value = int(text)
    return value if value <= UINT32_MAX else None

