"""The one client of the Chat REST API: signed, paced, bounded, retried and redacted calls.

:meth:`Client.call` sends one API request the way docs/tencent-api.md §1.1 says (POST, a JSON
object body, ``sdkappid``/``identifier``/``usersig``/``random``/``contenttype`` in the query),
waits for the endpoint's pacing slot first, and reacts to the answer by the class of its code
(:mod:`chatsync.facts.error_codes`): transient codes, HTTP 5xx, timeouts and dropped connections are
retried with jittered backoff (:mod:`chatsync.tencent.retry`); a refresh-sig code gets a new
UserSig and one more try; anything else fails at once with the code's hint.

Every run has at most ``parallelism`` requests in flight, each on a keep-alive connection (never
more connections than requests in flight), and a thread pool for callers that fan work out
(:meth:`Client.map`). Requests go through one HTTP engine, :mod:`chatsync.tencent.transport`
(httpx's httpcore), direct or through a proxy alike; it never sends a request again on its own, so
every request that goes out is an attempt here: counted in :attr:`Client.calls`, paced, logged with
``-v``, and signed with a new ``random``. No log line, error message or exception text carries the
UserSig or the secret key.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import random
import signal
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import quote

from chatsync.errors import CallFailed, ProtocolError, Stopped
from chatsync.facts import error_codes as errors
from chatsync.facts.endpoints import ENDPOINTS, Endpoint
from chatsync.facts.version import VERSION
from chatsync.tencent import answers
from chatsync.tencent import transport as engine
from chatsync.tencent.bounded import AnswerTooLarge, Bounds, MiB, UnreadableEncoding
from chatsync.tencent.credentials import SigCache, secret_key_from_env
from chatsync.tencent.pacing import DEFAULT_PARALLELISM as DEFAULT_PARALLELISM  # callers know it from here
from chatsync.tencent.pacing import Pacers
from chatsync.tencent.proxies import proxy_for, tls_context
from chatsync.tencent.retry import RetryPolicy
from chatsync.tencent.target import AppSettings, Target
from chatsync.tencent.target import resolve as resolve_target
from chatsync.text.redact import RedactingFilter, redact, redact_url
from chatsync.text.safe import server_text, visible

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("chatsync.client")
# httpx logs each request's URL (with the UserSig) at INFO: scrub it for apps that log httpx.
logging.getLogger("httpx").addFilter(RedactingFilter())


POOL_FACTOR = 2
"""Worker threads per in-flight slot: up to this many map() streams run side by side unhindered."""

RATE_LIMITED = 60007
"""The API's "calls of this API exceed the limit" code: the call's pacer slows down (pacing.py)."""
_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass(frozen=True)
class Reply:
    """A successful answer and how many attempts it took."""

    answer: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class _Attempt:
    """What one HTTP exchange gave: an answer, or why there is none."""

    answer: dict[str, Any] | None = None
    status: int | None = None
    code: int | None = None
    info: str = ""
    kind: errors.Kind = errors.Kind.PERMANENT
    connect_failure: bool = False
    protocol: answers.AnswerError | None = None  # the answer did not fit the envelope
    sent: bool = True  # False when the call's time was up before this attempt could go out
    hint: str | None = None  # set for a failure that stops the run and says what to fix (TLS, proxy)


class Client:
    """Calls to one app. Thread-safe; use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        target: Target,
        sigs: SigCache,
        *,
        parallelism: int = DEFAULT_PARALLELISM,
        rates: Mapping[str, float] | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        bounds: Bounds | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if parallelism < 1:
            raise ValueError("parallelism must be at least 1")
        self.target = target
        self.sigs = sigs
        self.parallelism = parallelism
        self.retry = retry or RetryPolicy()
        self.bounds = bounds or Bounds()
        self._stop = threading.Event()
        self._monotonic = monotonic
        self.pacers = Pacers(rates, monotonic=monotonic, sleep=self._sleep)
        # The in-flight slots: each holds the engine its request goes through.
        self._slots: queue.SimpleQueue[_Lane] = queue.SimpleQueue()
        env = os.environ if environ is None else environ
        self._transport = transport  # an injected httpx transport (the tests' in-process ones)
        https = any(url.startswith("https:") for url in target.urls)
        proxy = proxy_for(target, env) if transport is None else None
        self._engine = engine.Engine(target.urls, HEADERS, tls=tls_context(env) if https and transport is None
                                     else None, proxy=proxy, connections=parallelism, transport=transport)
        for _ in range(parallelism):
            self._slots.put(self._engine)
        self._read = lambda status, body, limit=self.bounds.answer_bytes: _read(status, body, limit)
        # The query's ``random`` only tells requests apart (§1.1, it is no secret): one generator
        # seeded from the OS once, not a system call per request.
        self._random = random.Random()
        self._signed = ("", "")  # a UserSig and the query up to its random, quoted
        self._base = 0  # index into target.urls; moves to the backup domain if the primary fails
        # More workers than in-flight slots: workers queueing for a slowly paced API must leave
        # others free to send. Each map() keeps at most ``parallelism`` of its items started.
        self._pool = ThreadPoolExecutor(POOL_FACTOR * parallelism, thread_name_prefix="chatsync-call",
                                        initializer=_block_stop_signals)
        self._in_pool = threading.local()
        self.calls: dict[str, int] = {name: 0 for name in ENDPOINTS}  # HTTP requests sent
        self.started = time.monotonic()  # when the client was made (for rates since then)
        self._count_lock = threading.Lock()

    @classmethod
    def for_app(
        cls, app: AppSettings, environ: Mapping[str, str] | None = None, **options: Any
    ) -> Client:
        """A client for the app a config declares: its endpoint (or ``CHATSYNC_ENDPOINT``), its
        admin, the secret key from ``app.secret_key_env`` and its rate overrides. Raises a
        :class:`~chatsync.errors.ChatsyncError` that says what to fix when any of them is unusable.
        """
        environ = os.environ if environ is None else environ
        target = resolve_target(app, environ)
        key = secret_key_from_env(app.secret_key_env, environ)
        options.setdefault("rates", dict(app.rates))
        options.setdefault("environ", environ)
        return cls(target, SigCache(app.sdkappid, app.admin, key), **options)

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Finish calls in flight and release the connections."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._engine.close()

    def stop(self) -> None:
        """Start no new call (Ctrl-C): calls in flight finish; waiting ones raise :class:`Stopped`."""
        self._stop.set()

    def abort(self) -> None:
        """:meth:`stop`, and cut the calls in flight too (their outcome is then unknown): for leaving
        at once, after the report of an apply, or when nothing is being written."""
        self.stop()
        self._engine.abort()

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    def pause(self, seconds: float) -> None:
        """Sleep ``seconds`` unless stopped first (then raise :class:`Stopped`)."""
        self._sleep(seconds)

    def secrets(self) -> tuple[str, ...]:
        """What must never be shown: the key and every UserSig made."""
        return self.sigs.secrets()

    # -- calls ---------------------------------------------------------------------------------

    def call(self, endpoint: str, body: Mapping[str, Any] | None = None) -> Reply:
        """Send one request to ``endpoint`` (a name from :data:`ENDPOINTS`) until it succeeds.

        Raises :class:`CallFailed` for a permanent code or when retries are used up, and
        :class:`Stopped` once :meth:`stop` was called.
        """
        api = ENDPOINTS[endpoint]
        content = _to_json(dict(body or {})).encode()
        started = self._monotonic()
        first_send: list[float] = []  # when the first attempt went out (real time): the call's bound
        refreshed = False
        attempt = 0
        sent = 0  # attempts that went out (a stop can come before or after sending)
        try:
            while True:
                attempt += 1
                result, sig = self._exchange(api, content, attempt, first_send)
                if not result.sent:
                    raise self._failure(endpoint, result, attempt - 1)
                sent = attempt
                if result.answer is not None:
                    return Reply(result.answer, attempt)
                if result.protocol is not None:
                    raise ProtocolError.from_answer(endpoint, result.protocol, attempt)
                if result.kind is errors.Kind.REFRESH_SIG and not refreshed:
                    refreshed = True
                    self.sigs.renew(sig)
                    continue
                if result.kind is errors.Kind.TRANSIENT:
                    wait = self.retry.delay(attempt, result.code)
                    elapsed = self._monotonic() - started
                    if self.retry.allows(attempt, elapsed, wait, connect_failure=result.connect_failure):
                        self._sleep(wait)
                        continue
                raise self._failure(endpoint, result, attempt)
        except Stopped as stop:
            stop.attempts = sent
            raise

    def map(self, function: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
        """``[function(item) for item in items]``, run on the call pool; results in input order.

        The first exception is raised after the calls already started have finished; the items
        not yet started are cancelled. Called from inside the pool, it runs inline (no deadlock).
        """
        items = list(items)
        if getattr(self._in_pool, "active", False) or len(items) <= 1:
            return [function(item) for item in items]
        window = threading.BoundedSemaphore(self.parallelism)
        failed = threading.Event()

        def finished(future: Future[_R]) -> None:
            if not future.cancelled() and future.exception() is not None:
                failed.set()
            window.release()

        futures: list[Future[_R]] = []
        try:
            for item in items:
                window.acquire()
                if failed.is_set():
                    window.release()
                    break  # the first failure is raised below; start nothing more
                future = self._pool.submit(self._pooled, function, item)
                future.add_done_callback(finished)
                futures.append(future)
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            for future in futures:
                if not future.cancelled():
                    future.exception()  # wait for it: nothing may run after we return
            raise

    def submit(self, function: Callable[..., _R], *args: Any) -> Future[_R]:
        """Run ``function(*args)`` on the call pool (for callers that chain their own work)."""
        return self._pool.submit(self._pooled, function, *args)

    # -- internals -----------------------------------------------------------------------------

    def _pooled(self, function: Callable[..., _R], *args: Any) -> _R:
        self._in_pool.active = True
        try:
            return function(*args)
        finally:
            self._in_pool.active = False

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise Stopped("stopped before the call was sent")

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and self._stop.wait(seconds):
            raise Stopped("stopped while waiting to send")

    def _request_target(self, api: Endpoint, sig: str) -> str:
        """The path and query of a request to ``api`` signed with ``sig`` (its new ``random`` too)."""
        signed = self._signed
        if signed[0] != sig:  # quoted once per UserSig, not per call
            identifier = quote(self.sigs.identifier, safe="")
            signed = self._signed = (sig, f"?sdkappid={self.sigs.sdkappid}&identifier={identifier}"
                                          f"&usersig={quote(sig, safe='*-_')}&random=")
        return f"{api.path}{signed[1]}{self._random.getrandbits(32)}&contenttype=json"

    def _exchange(self, api: Endpoint, content: bytes, attempt: int,
                  first_send: list[float]) -> tuple[_Attempt, str]:
        """One paced HTTP exchange, bounded as a whole; returns what it gave and the UserSig it carried.

        The call queues for its API's start time holding no in-flight slot (so a slowly paced API
        never blocks the others), then takes a slot and is spaced from the previous send.
        """
        pacer = self.pacers[api.name]
        self._check_stop()
        pacer.wait()
        lane = self._slots.get()  # an in-flight slot (blocking until one is free)
        try:
            self._check_stop()
            pacer.space()
            sent_at = self._monotonic()
            try:  # the API's unit of allowance is held from here until a window after the answer
                result, sig, url, began = self._send(api, lane, content, first_send)
            finally:  # the answer's first bytes, when the engine saw them on this clock
                answered = engine.answer_time() if self._monotonic is time.monotonic else None
                pacer.done(self._monotonic() if answered is None else answered)
        finally:
            self._slots.put(lane)
        if result.code == RATE_LIMITED:  # the quota is shared or lower than documented: slow down
            pacer.refused(sent_at)
        if log.isEnabledFor(logging.DEBUG):
            self._log(api, attempt, result, began, url)
        return result, sig

    def _send(self, api: Endpoint, lane: _Lane, content: bytes,
              first_send: list[float]) -> tuple[_Attempt, str, str, float]:
        """One HTTP exchange, bounded as a whole: what it gave, its UserSig, its URL, its start."""
        sig = self.sigs.current()
        base = self._base
        target = self._request_target(api, sig)
        url = self.target.urls[base] + target
        began = time.perf_counter()
        now = time.monotonic()
        if not first_send:
            first_send.append(now)
        window = min(self.bounds.attempt_seconds, first_send[0] + self.bounds.call_seconds - now)
        if window <= 0:
            return _Attempt(info=f"gave up: the call took {self.bounds.call_seconds:g} s in all, "
                                 "retries included", sent=False), sig, url, began
        with self._count_lock:
            self.calls[api.name] += 1
        try:
            result = lane.post(base, target, content, now + window, self._read)
        except engine.CertificateFailed as exc:  # never retried: it would fail the same way
            result = _Attempt(info=self._reason(exc), hint=_certificate_hint(exc, self.target))
        except engine.ProxyFailed as exc:
            result = self._proxy_failed(exc)
        except engine.ConnectFailed as exc:
            result = _Attempt(info=self._unreachable(exc), kind=errors.Kind.TRANSIENT,
                              connect_failure=True)
        except engine.TimedOut:
            result = _Attempt(info=f"no complete answer within {window:.3g} s (the limit of one attempt)",
                              kind=errors.Kind.TRANSIENT)
        except engine.InvalidHost as exc:  # e.g. a host that is not valid IDNA
            result = _Attempt(info=f"the endpoint's host is not valid ({self._reason(exc)})",
                              connect_failure=True)
        except engine.TransportError as exc:
            result = _Attempt(info=f"the connection failed ({self._reason(exc)})",
                              kind=errors.Kind.TRANSIENT)
        return result, sig, url, began

    def _proxy_failed(self, exc: engine.ProxyFailed) -> _Attempt:
        """A proxy that cannot be reached (a few quick tries) or refuses the tunnel (no retry, but a
        5xx: the proxy could not reach the service just then), named as the proxy."""
        proxy = self._engine.proxy
        shown = proxy.shown if proxy is not None else "the proxy"
        variable = proxy.variable if proxy is not None else "HTTPS_PROXY"
        info = self._reason(exc).replace("the proxy", f"the proxy {shown} ({variable})", 1)
        if exc.status == 407:
            hint = (f"give the proxy's user and password in {variable} (http://user:password@host:port), "
                    "or ask its admins to let this machine through")
            return _Attempt(info=info, hint=hint)
        hint = (f"check {variable} and that the proxy is running; or, if the service is reachable "
                "without it, add its host to NO_PROXY")
        if exc.status is None or exc.status >= 500:
            return _Attempt(info=info, kind=errors.Kind.TRANSIENT, connect_failure=True, hint=hint)
        return _Attempt(info=info, hint=hint)

    def _log(self, api: Endpoint, attempt: int, result: _Attempt, began: float, url: str) -> None:
        log.debug(
            "%s attempt=%d status=%s code=%s %.1fms %s",
            api.name, attempt, result.status if result.status is not None else "-",
            result.code if result.code is not None else "-",
            (time.perf_counter() - began) * 1000, self._scrub(url),
        )

    def _unreachable(self, exc: Exception) -> str:
        tried = self.target.urls[self._base]
        base = visible(redact_url(tried))
        reason = self._reason(exc)
        with self._count_lock:
            if self.target.urls[self._base] == tried and self._base + 1 < len(self.target.urls):
                self._base += 1  # DNS trouble with the primary domain: the backup domain is for that
                backup = visible(redact_url(self.target.urls[self._base]))
                log.warning("cannot reach %s (%s); switching to %s", base, reason, backup)
        return f"cannot reach {base} ({reason})"

    def _scrub(self, value: object) -> str:
        return redact(str(value), *self.sigs.secrets())

    def _reason(self, exc: Exception) -> str:
        """An exception's text without secrets, cut and with controls escaped (it may quote what the
        server sent)."""
        return server_text(self._scrub(exc), 200) or type(exc).__name__

    def _failure(self, endpoint: str, result: _Attempt, attempts: int) -> CallFailed:
        target = self.target
        endpoint_hint = (f"check {target.source} ({visible(redact_url(target.url))}) and the network; "
                         "is the server running?")
        if result.hint is not None:
            return CallFailed(endpoint, None, result.info, attempts, stops_run=True, hint=result.hint)
        if result.connect_failure:
            return CallFailed(endpoint, None, result.info, attempts, stops_run=True, hint=endpoint_hint)
        info = self._scrub(result.info)
        if result.code is None:
            wrong_server = result.status is not None and result.status < 500
            hint = endpoint_hint if wrong_server else _NO_ANSWER_HINT
            return CallFailed(endpoint, None, info, attempts, stops_run=wrong_server, hint=hint)
        refresh_hint: str | None = None
        if result.kind is errors.Kind.REFRESH_SIG:  # refused again with a brand-new sig
            refresh_hint = ("a newly made UserSig was refused too: check this machine's clock (a UserSig "
                    "carries its issue time) and that app.admin is not being kicked")
        return CallFailed(endpoint, result.code, info, attempts, stops_run=errors.stops_run(result.code),
                          hint=refresh_hint)


_NO_ANSWER_HINT = "the service did not answer properly; retry later, or check the endpoint"
_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # one encoder, not one a call


HEADERS = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
           "Accept-Encoding": "gzip, deflate", "User-Agent": f"chatsync/{VERSION}"}


class _Lane(Protocol):
    """Where an in-flight slot's requests go (a lane of :class:`.transport.Engine`). ``post`` hands
    the status and a body reader to ``read`` and returns what it returns, or raises a
    :class:`.transport.TransportError`."""

    def post(self, base: int, target: str, content: bytes, until: float,
             read: Callable[[int, engine.Body], _R]) -> _R: ...


def _certificate_hint(exc: engine.CertificateFailed, target: Target) -> str:
    """What to do about a certificate that does not verify, by why it does not."""
    if exc.code in engine.EXPIRED or exc.code in engine.NOT_YET_VALID:
        return ("check this machine's clock; if it is right, the service's certificate is out of date "
                "(if a proxy or firewall inspects TLS, its certificate is)")
    if exc.code in engine.WRONG_HOST:
        return (f"check the host in {target.source} ({visible(redact_url(target.url))}); if a proxy or "
                "firewall inspects TLS, it answers for that host with a certificate of its own")
    return ("if a proxy or firewall inspects TLS, trust its CA: add it to the system's certificate store, "
            "or set SSL_CERT_FILE to a PEM file of the CAs to trust")


def _block_stop_signals() -> None:
    """Keep SIGINT and SIGTERM off the call threads: the kernel then hands them to the main thread,
    whose handler (a Ctrl-C, an honest stop) runs at once instead of after a slow call."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def _read(status: int, body: engine.Body, limit: int) -> _Attempt:
    """Classify one HTTP answer by its ``status`` (200 for every business answer, §1.3); its ``body``
    is read only for a 200, and never past ``limit`` decoded bytes."""
    if not 200 <= status <= 599:  # 1xx never ends an exchange; 600-999 are not HTTP statuses
        return _Attempt(status=status, info=f"protocol error: HTTP status {status} is not a final answer "
                                            "(HTTP's are 200-599)",
                        hint="check the endpoint: it does not answer as an HTTP server does")
    if status >= 500 or status == 429:  # 429 only from a proxy in between: the API uses 60007
        return _Attempt(status=status, info=f"HTTP {status} from the service", kind=errors.Kind.TRANSIENT)
    if status != 200:
        return _Attempt(
            status=status,
            info=f"HTTP {status}: the endpoint does not look like a Chat REST API server",
        )
    try:
        content = body(limit)
    except AnswerTooLarge:
        return _Attempt(status=status, info=f"the answer is larger than {limit / MiB:g} MiB (decoded); "
                                            "chatsync reads no more than that")
    except UnreadableEncoding as exc:
        return _Attempt(status=status, info=f"the answer's Content-Encoding {server_text(str(exc), 40)!r} "
                                            "is not gzip or deflate")
    except zlib.error:
        return _Attempt(status=status, info="the answer's compressed body is corrupt")
    try:
        answer = json.loads(content)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        answer = None
    if not isinstance(answer, dict) or "ErrorCode" not in answer:
        # The real service answers every request with a JSON envelope (§1.3): this is another server.
        return _Attempt(status=status, info="the answer is not a Chat API answer (no JSON ErrorCode)")
    try:
        code, info = answers.envelope(answer)
    except answers.AnswerError as exc:
        return _Attempt(status=status, protocol=exc)
    if code == 0:
        return _Attempt(answer=answer, status=status, code=0)
    entry = errors.lookup(code)
    return _Attempt(status=status, code=code, info=info or entry.info, kind=entry.kind)
